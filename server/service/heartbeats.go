package service

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// Heartbeats are written in batches: at 10,000 agents a statement per
// heartbeat was a third of the database's round trips. A heartbeat is
// answered at once and kept in memory; RunHeartbeats writes all those
// kept, one statement for the lot, every interval (or sooner when
// heartbeatBatchMax are waiting), and once more when it stops. An agent's
// last heartbeat therefore reaches the database at most an interval late,
// far inside the offline threshold (3 heartbeat intervals). Without
// RunHeartbeats running, each heartbeat is written when it arrives.

// heartbeatBatchMax is the most heartbeats written in one statement.
const heartbeatBatchMax = 1000

// DefaultHeartbeatFlush is how often kept heartbeats are written.
const DefaultHeartbeatFlush = 250 * time.Millisecond

// heartbeatBuffer keeps the last heartbeat of each agent until written.
type heartbeatBuffer struct {
	mu      sync.Mutex
	open    bool // RunHeartbeats is running: heartbeats may be kept
	pending map[uuid.UUID]store.Heartbeat
	full    chan struct{} // a batch is ready: write it now
}

// keep holds a heartbeat for the next write; false when none will come
// (RunHeartbeats is not running), and the caller writes it itself.
func (b *heartbeatBuffer) keep(h store.Heartbeat) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		return false
	}
	if old, ok := b.pending[h.AgentID]; !ok || !h.At.Before(old.At) {
		b.pending[h.AgentID] = h
	}
	if len(b.pending) >= heartbeatBatchMax {
		select {
		case b.full <- struct{}{}:
		default:
		}
	}
	return true
}

// take returns the heartbeats kept so far, and closes the buffer when
// closing (later heartbeats are then written by their requests).
func (b *heartbeatBuffer) take(closing bool) []store.Heartbeat {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]store.Heartbeat, 0, len(b.pending))
	for _, h := range b.pending {
		out = append(out, h)
	}
	clear(b.pending)
	if closing {
		b.open = false
	}
	return out
}

// putBack keeps again heartbeats whose write failed, unless a newer one
// of the same agent came meanwhile.
func (b *heartbeatBuffer) putBack(hs []store.Heartbeat) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, h := range hs {
		if old, ok := b.pending[h.AgentID]; !ok || old.At.Before(h.At) {
			b.pending[h.AgentID] = h
		}
	}
}

// RunHeartbeats writes kept heartbeats every interval (0 means
// DefaultHeartbeatFlush) until ctx ends, then writes what is left.
func (s *Service) RunHeartbeats(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultHeartbeatFlush
	}
	b := &s.fleet.beats
	b.mu.Lock()
	if b.pending == nil {
		b.pending = map[uuid.UUID]store.Heartbeat{}
		b.full = make(chan struct{}, 1)
	}
	b.open = true
	b.mu.Unlock()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			// The last ones: with a context of their own, since ctx has ended.
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			s.writeHeartbeats(final, b.take(true), nil)
			return
		case <-tick.C:
		case <-b.full:
		}
		if ctx.Err() != nil {
			continue // stopping: the last write, above, has a context of its own
		}
		s.writeHeartbeats(ctx, b.take(false), b)
	}
}

// writeHeartbeats writes hs in batches; what fails goes back to retry
// (when retry is not nil) at the next write.
func (s *Service) writeHeartbeats(ctx context.Context, hs []store.Heartbeat, retry *heartbeatBuffer) {
	for len(hs) > 0 {
		n := min(len(hs), heartbeatBatchMax)
		if err := s.store.Q().RecordHeartbeats(ctx, hs[:n]); err != nil {
			s.logger.Warn("writing agents' heartbeats failed", "agents", n, "err", err)
			if retry != nil {
				retry.putBack(hs)
			}
			return
		}
		hs = hs[n:]
	}
}

// heartbeatAgent is the agent as a kept heartbeat leaves it, for the
// answer: what this server verified of it (agentByCredential) with the
// new facts.
func heartbeatAgent(a core.Agent, f AgentFacts, now time.Time) core.Agent {
	a.OS, a.Arch, a.Hostname, a.AgentVersion = f.OS, f.Arch, f.Hostname, f.AgentVersion
	a.IPAddress, a.UptimeSeconds, a.Plugins = f.IPAddress, f.UptimeSeconds, f.Plugins
	if a.Plugins == nil {
		a.Plugins = []core.AgentPlugin{}
	}
	if a.Status != core.AgentRetired {
		a.Status = core.AgentOnline
	}
	a.LastHeartbeatAt, a.UpdatedAt = &now, now
	return a
}
