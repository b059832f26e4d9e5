package service

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// The audit events of denied and failed changes are written outside the
// request's transaction (auditOutside). When that write finds the database
// unavailable (the failure being recorded is often that very outage), the
// event waits in a bounded backlog in memory and is written, with the time
// it happened, as soon as the database answers again.

// DefaultAuditBacklog is how many audit events wait for the database at
// most; beyond it the oldest are dropped (and the drop is logged).
const DefaultAuditBacklog = 10000

// Bounds of the wait between attempts to write the backlog: doubling from
// the first to the last while the database stays away.
const (
	auditRetryFirst = 250 * time.Millisecond
	auditRetryLast  = 30 * time.Second
	// auditBatch bounds the events written in one transaction.
	auditBatch = 500
	// auditWriteTimeout bounds one write of a batch.
	auditWriteTimeout = 10 * time.Second
)

// auditBacklog holds audit events that found the database unavailable,
// oldest first.
type auditBacklog struct {
	mu      sync.Mutex
	events  []core.AuditEvent
	max     int
	dropped int  // dropped since last reported
	closed  bool // the server is stopping: nothing will write more
	wake    chan struct{}
}

func newAuditBacklog(max int) *auditBacklog {
	if max <= 0 {
		max = DefaultAuditBacklog
	}
	return &auditBacklog{max: max, wake: make(chan struct{}, 1)}
}

// add queues e, dropping the oldest when full. It reports false when the
// backlog is closed.
func (b *auditBacklog) add(e core.AuditEvent) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	if len(b.events) >= b.max {
		n := len(b.events) - b.max + 1
		b.events = b.events[n:]
		b.dropped += n
	}
	b.events = append(b.events, e)
	select {
	case b.wake <- struct{}{}:
	default:
	}
	return true
}

// take returns up to n of the oldest events, leaving them queued.
func (b *auditBacklog) take(n int) []core.AuditEvent {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]core.AuditEvent(nil), b.events[:min(n, len(b.events))]...)
}

// written removes the written events from the front, unless newer events
// pushed them out meanwhile (then only what is left of them).
func (b *auditBacklog) written(events []core.AuditEvent) {
	b.mu.Lock()
	defer b.mu.Unlock()
	done := make(map[uuid.UUID]bool, len(events))
	for _, e := range events {
		done[e.ID] = true
	}
	i := 0
	for i < len(b.events) && done[b.events[i].ID] {
		i++
	}
	b.events = b.events[i:]
}

// reportDropped returns the count of events dropped since the last call.
func (b *auditBacklog) reportDropped() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.dropped
	b.dropped = 0
	return n
}

func (b *auditBacklog) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.events)
}

func (b *auditBacklog) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
}

// keepAudit queues an audit event whose write failed because the database
// was unavailable; any other failure (or one while the server stops) is
// logged as an error, naming the event.
func (s *Service) keepAudit(ctx context.Context, e core.AuditEvent, err error) {
	attrs := []any{"action", e.Action, "outcome", e.Outcome, "actor", e.Actor, "resource_id", e.ResourceID,
		"occurred_at", e.OccurredAt, "err", err}
	if !store.Unavailable(err) {
		s.logger.ErrorContext(ctx, "audit write failed", attrs...)
		return
	}
	if !s.audits.add(e) {
		s.logger.ErrorContext(ctx, "audit event lost: the database is unavailable and the server is stopping", attrs...)
		return
	}
	s.logger.WarnContext(ctx, "audit write deferred until the database answers", attrs...)
}

// RunAuditBacklog writes the audit events that waited for the database,
// oldest first and with the time they happened, as soon as it answers
// again: it tries at once, then with backoff (a quarter of a second
// doubling to 30 s) while the database stays away. It returns when ctx
// ends; CloseAuditBacklog then makes the last attempt. A server runs it
// for its whole life.
func (s *Service) RunAuditBacklog(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.audits.wake:
		}
		for attempt := 1; ; attempt++ {
			err := s.flushAudits(ctx)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return
			}
			s.logger.Warn("audit events still wait for the database", "count", s.audits.len(), "err", err)
			sleep(ctx, retryDelay(attempt, auditRetryFirst, auditRetryLast, rand.Float64()))
		}
	}
}

// CloseAuditBacklog makes the last attempts to write the waiting audit
// events, until ctx ends, when the server stops (after its requests and
// jobs, before its database pool closes). What still cannot be written is
// logged as an error with its count; later failures are logged, not kept.
func (s *Service) CloseAuditBacklog(ctx context.Context) {
	s.audits.close()
	for attempt := 1; ; attempt++ {
		err := s.flushAudits(ctx)
		if err == nil {
			return
		}
		if ctx.Err() != nil || !store.Unavailable(err) {
			s.logger.Error("audit events lost: the database did not answer before the server stopped",
				"count", s.audits.len(), "err", err)
			return
		}
		sleep(ctx, retryDelay(attempt, 50*time.Millisecond, time.Second, rand.Float64()))
	}
}

// flushAudits writes the backlog in batches until it is empty or a write
// fails, and reports events dropped for want of room.
func (s *Service) flushAudits(ctx context.Context) error {
	defer func() {
		if n := s.audits.reportDropped(); n > 0 {
			s.logger.Error("audit backlog full while the database was unavailable: the oldest events were dropped",
				"dropped", n, "kept", s.audits.max)
		}
	}()
	for {
		batch := s.audits.take(auditBatch)
		if len(batch) == 0 {
			return nil
		}
		wctx, cancel := context.WithTimeout(ctx, auditWriteTimeout)
		err := s.store.AppendAuditsOnce(wctx, batch)
		cancel()
		if err != nil {
			return err
		}
		s.audits.written(batch)
		s.logger.Info("audit events written after the database came back", "count", len(batch),
			"oldest", batch[0].OccurredAt)
	}
}
