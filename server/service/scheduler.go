package service

import (
	"context"
	"time"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// dueBatch bounds how many due certificates one scheduler pass enqueues.
const dueBatch = 5000

// EnqueueDueRenewals starts a renewal for every certificate whose renewal
// time has come, in one statement that also marks them renewing, so that
// the indexed scan never sees them twice. It returns how many it enqueued.
func (s *Service) EnqueueDueRenewals(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.enqueueDueBatch(ctx)
		total += n
		if err != nil || n < dueBatch {
			return total, err
		}
	}
}

func (s *Service) enqueueDueBatch(ctx context.Context) (int, error) {
	var n int
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		now := s.clock()
		due, err := q.ClaimDueCertificates(ctx, now, dueBatch)
		if err != nil {
			return err
		}
		n = len(due)
		jobs := make([]core.Job, 0, len(due))
		for _, d := range due {
			id := d.ID
			j := s.newJob(core.JobRenew, &id, core.JobPayload{SpecRevision: d.SpecRevision, Trigger: "due"})
			if d.KeyMode == core.KeyModeAgent {
				j.State, j.AgentID = core.JobWaiting, d.AgentID
			}
			jobs = append(jobs, j)
		}
		return q.InsertRenewals(ctx, jobs, now)
	})
	return n, err
}

// Sweep does the scheduler's periodic work once: requeue jobs of dead
// workers, enqueue due renewals, announce expiring certificates. Only the
// leader runs it (Scheduler), but it is safe to run anywhere.
func (s *Service) Sweep(ctx context.Context) error {
	expired, err := s.store.Q().RequeueExpiredLeases(ctx, s.clock())
	if err != nil {
		return err
	}
	for _, e := range expired {
		s.logger.Warn("job lease expired: its worker died", "job", e.ID, "kind", e.Kind, "attempt", e.Attempt, "failed", e.Failed)
	}
	if len(expired) > 0 {
		if err := s.auditExpired(ctx, expired); err != nil {
			return err
		}
	}
	if err := s.markExpired(ctx); err != nil {
		return err
	}
	if _, err := s.store.Q().EndChallengesOfEndedJobs(ctx, s.clock()); err != nil {
		return err
	}
	if err := s.failStalePresentations(ctx); err != nil {
		return err
	}
	n, err := s.EnqueueDueRenewals(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		s.logger.Info("renewals enqueued", "count", n)
	}
	if _, err := s.ScanExpiring(ctx, 1000); err != nil {
		return err
	}
	_, err = s.SweepOfflineAgents(ctx)
	return err
}

// markExpired gives certificates whose current version expired (their
// renewals failed or were never due in time) the status expired, audited.
// A later successful issuance makes them active again.
func (s *Service) markExpired(ctx context.Context) error {
	return s.store.InTx(ctx, func(q *store.Queries) error {
		ids, err := q.MarkExpired(ctx, s.clock())
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := q.AppendAudit(ctx, s.auditEvent(ctx, core.SystemActor, "certificate.expired", "certificate", id.String(),
				core.OutcomeFailure, map[string]any{"message": "the current version expired before it was renewed"})); err != nil {
				return err
			}
		}
		return nil
	})
}

// auditExpired records requeued jobs, and settles the ones that ran out of
// attempts as a failure would: the certificate becomes failed (and is
// retried later), the notification dead.
func (s *Service) auditExpired(ctx context.Context, expired []store.ExpiredLease) error {
	const msg = "the worker running this job stopped (lease expired)"
	return s.store.InTx(ctx, func(q *store.Queries) error {
		for _, e := range expired {
			action := "job.lease_expired"
			if e.Failed {
				action = "job.failed"
			}
			if err := q.AppendAudit(ctx, s.auditEvent(ctx, core.SystemActor, action, "job", e.ID.String(), core.OutcomeFailure,
				map[string]any{"kind": e.Kind, "attempt": e.Attempt, "error": msg})); err != nil {
				return err
			}
			if !e.Failed {
				continue
			}
			j, err := q.GetJob(ctx, e.ID)
			if err != nil {
				return err
			}
			switch j.Kind {
			case core.JobIssue, core.JobRenew:
				err = s.issuanceFailed(ctx, q, j, msg, true)
			case core.JobNotify:
				err = s.notificationFailed(ctx, q, j, msg, true, s.clock())
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// SchedulerOptions tune the scheduler.
type SchedulerOptions struct {
	Interval time.Duration // between sweeps; default 10s
	// LeaderCheck bounds how long a leader takes to notice that it lost
	// its lock; a new leader waits three of it before its first sweep, so
	// that two never sweep at once. Default 2s (see store.Leadership).
	LeaderCheck time.Duration
}

// RunScheduler runs Sweep periodically while this server is the leader:
// of all servers on one database, the one holding a PostgreSQL advisory
// lock. When the leader dies its session ends, the lock is freed, and
// another server takes over within an interval (plus the new leader's
// grace period).
func (s *Service) RunScheduler(ctx context.Context, o SchedulerOptions) {
	if o.Interval <= 0 {
		o.Interval = 10 * time.Second
	}
	for ctx.Err() == nil {
		err := s.store.WhileLeader(ctx, schedulerLockID, store.Leadership{Check: o.LeaderCheck}, func(ctx context.Context) {
			// Debug: routine on every start of a single server.
			s.logger.Debug("scheduler: this server is the leader")
			t := time.NewTicker(o.Interval)
			defer t.Stop()
			for {
				if err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
					s.logger.Warn("scheduler sweep", "err", err)
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		})
		if err != nil && ctx.Err() == nil {
			s.logger.Warn("scheduler leadership", "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(o.Interval):
		}
	}
}

// schedulerLockID is the advisory lock of the scheduler's leader.
const schedulerLockID int64 = 0x63657274_73636864
