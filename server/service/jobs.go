package service

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// JobSettings tune the job system.
type JobSettings struct {
	MaxAttempts  map[string]int // per kind
	RetryBase    time.Duration  // first retry delay
	RetryCeiling time.Duration  // longest retry delay
	// FailedRenewalRetry is when the scheduler tries a certificate again
	// after a renewal job gave up.
	FailedRenewalRetry time.Duration
	// PendingLimit is how long a CA's order may stay pending before its
	// job fails; 0 means no limit.
	PendingLimit time.Duration
}

// DefaultJobSettings are the settings of a server that does not say otherwise.
func DefaultJobSettings() JobSettings {
	return JobSettings{
		MaxAttempts:        map[string]int{core.JobIssue: 8, core.JobRenew: 8, core.JobRevoke: 10, core.JobNotify: 8, core.JobDeploy: 5},
		RetryBase:          15 * time.Second,
		RetryCeiling:       30 * time.Minute,
		FailedRenewalRetry: 6 * time.Hour,
		PendingLimit:       DefaultPendingLimit,
	}
}

func (s *Service) maxAttempts(kind string) int {
	if n := s.jobs.MaxAttempts[kind]; n > 0 {
		return n
	}
	return 5
}

// newJob returns a job of kind for certificate id, due now.
func (s *Service) newJob(kind string, certID *uuid.UUID, payload core.JobPayload) core.Job {
	now := s.clock()
	return core.Job{ID: newID(), Kind: kind, State: core.JobQueued, CertificateID: certID, Payload: payload,
		MaxAttempts: s.maxAttempts(kind), RunAt: now, CreatedAt: now, UpdatedAt: now}
}

// insertJob stores a job and audits it. It reports false when a live job
// of the kind already exists for the certificate.
func (s *Service) insertJob(ctx context.Context, q *store.Queries, a core.Actor, j core.Job) (bool, error) {
	err := q.InsertJob(ctx, j)
	if errors.Is(err, store.ErrJobExists) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	details := map[string]any{"kind": j.Kind, "state": j.State, "trigger": j.Payload.Trigger}
	if j.CertificateID != nil {
		details["certificate_id"] = j.CertificateID.String()
	}
	return true, q.AppendAudit(ctx, s.auditEvent(ctx, a, "job.created", "job", j.ID.String(), core.OutcomeSuccess, details))
}

// ListJobs returns a page of jobs, newest first.
func (s *Service) ListJobs(ctx context.Context, f core.JobFilter) ([]core.Job, bool, error) {
	if err := s.read(ctx); err != nil {
		return nil, false, err
	}
	if f.Kind != "" {
		if err := core.ValidateOneOf("kind", f.Kind, core.JobKinds); err != nil {
			return nil, false, err
		}
	}
	if f.State != "" {
		if err := core.ValidateOneOf("state", f.State, core.JobStates); err != nil {
			return nil, false, err
		}
	}
	items, more, err := s.store.Q().ListJobs(ctx, f)
	now := s.clock()
	for i := range items {
		items[i].WaitingFor = WaitingFor(items[i], now)
	}
	return items, more, err
}

// GetJob returns a job, with what it waits for.
func (s *Service) GetJob(ctx context.Context, id uuid.UUID) (core.Job, error) {
	if err := s.read(ctx); err != nil {
		return core.Job{}, err
	}
	j, err := s.store.Q().GetJobWithFacts(ctx, id)
	j.WaitingFor = WaitingFor(j, s.clock())
	return j, err
}

// CancelJob stops a live job. A running job's worker loses its lease and
// its result is discarded.
func (s *Service) CancelJob(ctx context.Context, id uuid.UUID) (core.Job, error) {
	var out core.Job
	err := s.mutate(ctx, change{role: core.RoleOperator, action: "job.cancel", resourceType: "job", resourceID: id.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			j, err := lockJob(ctx, q, id)
			if err != nil {
				return "", nil, err
			}
			if !jobLive(j.State) {
				return "", nil, core.Errorf(core.ECONFLICT, "job is %s; only live jobs can be cancelled", j.State)
			}
			now := s.clock()
			out, err = q.SetJobState(ctx, id, core.JobCancelled, nil, j.RunAt, now, "cancelled by "+actorName(ctx))
			if err != nil {
				return "", nil, err
			}
			if err := s.afterIssuanceEnded(ctx, q, j, "cancelled"); err != nil {
				return "", nil, err
			}
			return "", map[string]any{"kind": j.Kind, "from": j.State}, nil
		})
	return out, err
}

// RetryJob runs a failed or cancelled job again, from its first attempt.
func (s *Service) RetryJob(ctx context.Context, id uuid.UUID) (core.Job, error) {
	var out core.Job
	err := s.mutate(ctx, change{role: core.RoleOperator, action: "job.retry", resourceType: "job", resourceID: id.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			j, err := lockJob(ctx, q, id)
			if err != nil {
				return "", nil, err
			}
			if j.State != core.JobFailed && j.State != core.JobCancelled {
				return "", nil, core.Errorf(core.ECONFLICT, "job is %s; only failed or cancelled jobs can be retried", j.State)
			}
			state := core.JobQueued
			// An agent-key issuance without its CSR waits for the agent. (A
			// server-key job may have an agent too: the one that presented
			// its HTTP-01 challenges.)
			if j.AgentID != nil && j.Payload.CSRPEM == "" && j.Payload.ServerCSRPEM == "" && (j.Kind == core.JobIssue || j.Kind == core.JobRenew) {
				c, err := q.GetCertificate(ctx, *j.CertificateID)
				if err != nil {
					return "", nil, err
				}
				if c.KeyMode == core.KeyModeAgent {
					state = core.JobWaiting
				}
			}
			// A CA's order that failed stays failed: the retry starts a new one.
			p := j.Payload
			p.ClearOrder()
			out, err = q.SetJobState(ctx, id, state, &p, s.clock(), s.clock(), "")
			if errIs(err, core.ECONFLICT) {
				return "", nil, core.Errorf(core.ECONFLICT, "another live job of this kind exists for the certificate")
			}
			if err != nil {
				return "", nil, err
			}
			if j.CertificateID != nil && (j.Kind == core.JobIssue || j.Kind == core.JobRenew) {
				c, err := q.GetCertificate(ctx, *j.CertificateID)
				if err != nil {
					return "", nil, err
				}
				status := core.CertRenewing
				if c.CurrentVersionID == nil {
					status = core.CertIssuing
				}
				if err := q.SetCertificateStatus(ctx, c.ID, status, "", nil, s.clock()); err != nil {
					return "", nil, err
				}
			}
			return "", map[string]any{"kind": j.Kind}, nil
		})
	return out, err
}

// lockJob locks a job for a change that may also change its certificate,
// taking the locks in the order every such transaction takes them: the
// certificate of an issuance job first, then the job. (A renewal request
// locks the certificate, then waits on the live job; a completion updates
// the certificate, then the job.) Taken the other way round, a cancel,
// retry or failure recorded while a renewal is requested deadlocks with it.
func lockJob(ctx context.Context, q *store.Queries, id uuid.UUID) (core.Job, error) {
	j, err := q.GetJob(ctx, id)
	if err != nil {
		return j, err
	}
	if err := lockJobCertificate(ctx, q, j); err != nil {
		return j, err
	}
	return q.GetJobForUpdate(ctx, id)
}

// lockJobCertificate locks the certificate of an issuance job (see lockJob).
func lockJobCertificate(ctx context.Context, q *store.Queries, j core.Job) error {
	if j.CertificateID == nil || (j.Kind != core.JobIssue && j.Kind != core.JobRenew) {
		return nil
	}
	_, err := q.GetCertificateForUpdate(ctx, *j.CertificateID)
	if errIs(err, core.ENOTFOUND) {
		return nil // deleted: the job goes with it
	}
	return err
}

func jobLive(state string) bool {
	switch state {
	case core.JobQueued, core.JobRunning, core.JobWaiting, core.JobRetrying:
		return true
	}
	return false
}

func actorName(ctx context.Context) string {
	if a, ok := core.ActorFrom(ctx); ok {
		return a.Name
	}
	return "unknown"
}

// runJob runs one claimed job to its end: the handler's own transaction on
// success, or failJob.
func (s *Service) runJob(ctx context.Context, owner string, j core.Job) {
	var err error
	switch j.Kind {
	case core.JobIssue, core.JobRenew:
		err = s.runIssuance(ctx, owner, j)
	case core.JobRevoke:
		err = s.runRevoke(ctx, owner, j)
	case core.JobNotify:
		err = s.runNotify(ctx, owner, j)
	default:
		err = failf(FailUnsupported, "no server worker runs %s jobs", j.Kind)
	}
	if err == nil || errors.Is(err, store.ErrLeaseLost) {
		if err != nil {
			s.logger.Warn("job result discarded: lease lost", "job", j.ID, "kind", j.Kind)
		}
		return
	}
	if ctx.Err() != nil {
		// The worker gave the job up (the server is stopping and could not
		// wait any longer): whatever the attempt ended with, it was cut
		// short, so it is not counted and the job runs again.
		s.releaseJob(ctx, owner, j)
		return
	}
	if ferr := s.failJob(ctx, owner, j, err); ferr != nil && !errors.Is(ferr, store.ErrLeaseLost) {
		s.logger.Error("record job failure", "job", j.ID, "kind", j.Kind, "err", ferr, "job_err", err)
	}
}

// releaseTimeout bounds putting an abandoned job back: the server is
// stopping. Should it fail, the job's lease expires and the scheduler
// requeues it (that counts the attempt).
const releaseTimeout = 2 * time.Second

// releaseJob returns a job whose run was cut short to the queue, due now,
// without counting the attempt.
func (s *Service) releaseJob(ctx context.Context, owner string, j core.Job) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	err := s.store.Q().ReleaseJob(ctx, j.ID, owner, "interrupted: the server stopped before the job ended; it runs again", s.clock())
	switch {
	case err == nil:
		s.logger.Info("job interrupted by shutdown; queued again", "job", j.ID, "kind", j.Kind)
	case errors.Is(err, store.ErrLeaseLost):
	default:
		s.logger.Warn("queue interrupted job again", "job", j.ID, "kind", j.Kind, "err", err)
	}
}

// retryable says whether a failed attempt is worth repeating: a Failure
// says so itself (a plugin's transient failure is, a refusal is not);
// unavailable and internal core errors and infrastructure errors are;
// invalid input is not.
func retryable(err error) bool {
	var f *Failure
	if errors.As(err, &f) {
		return f.Retryable
	}
	var ce *core.Error
	if errors.As(err, &ce) {
		return ce.Code == core.EUNAVAILABLE || ce.Code == core.EINTERNAL
	}
	return true // database or network trouble
}

// failJob records a failed attempt: retry later with backoff, or give up.
func (s *Service) failJob(ctx context.Context, owner string, j core.Job, cause error) error {
	now := s.clock()
	msg := errorText(cause)
	final := !retryable(cause) || j.Attempt >= j.MaxAttempts
	delay := retryDelay(j.Attempt, s.jobs.RetryBase, s.jobs.RetryCeiling, rand.Float64())
	// A CA that asked to be left alone for a while (429 with Retry-After)
	// is, however short the backoff (capped, so that a bad value cannot
	// park the job for days).
	retryAfter := retryAfterOf(cause)
	if retryAfter > 0 {
		delay = max(delay, min(retryAfter, maxPendingWait))
	}
	state, runAt := core.JobRetrying, now.Add(delay)
	if final {
		state, runAt = core.JobFailed, now
	}
	return s.store.InTx(context.WithoutCancel(ctx), func(q *store.Queries) error {
		if err := lockJobCertificate(ctx, q, j); err != nil { // before the job: see lockJob
			return err
		}
		if err := q.FinishJob(ctx, j.ID, owner, state, msg, runAt, now); err != nil {
			return err
		}
		details := map[string]any{"kind": j.Kind, "attempt": j.Attempt, "max_attempts": j.MaxAttempts, "error": msg}
		action := "job.retrying"
		if final {
			action = "job.failed"
		} else {
			details["retry_at"] = runAt
		}
		if retryAfter > 0 {
			details["retry_after_seconds"] = retryAfter.Seconds()
		}
		if final && (j.Kind == core.JobIssue || j.Kind == core.JobRenew) {
			if err := q.EndChallenges(ctx, j.ID, now); err != nil {
				return err
			}
		}
		if err := q.AppendAudit(ctx, s.auditEvent(ctx, core.SystemActor, action, "job", j.ID.String(), core.OutcomeFailure, details)); err != nil {
			return err
		}
		if j.Kind == core.JobIssue || j.Kind == core.JobRenew {
			return s.issuanceFailed(ctx, q, j, msg, final)
		}
		if j.Kind == core.JobNotify {
			return s.notificationFailed(ctx, q, j, msg, final, runAt)
		}
		return nil
	})
}

// errorText is an error's message for job records and alerts: a
// Failure's message and code, the client-safe message of core errors, the
// text otherwise.
func errorText(err error) string {
	var f *Failure
	if errors.As(err, &f) {
		return f.Error()
	}
	var ce *core.Error
	if errors.As(err, &ce) {
		return ce.Message
	}
	return err.Error()
}
