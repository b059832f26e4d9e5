package service

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// Bulk operations are durable background actions over every certificate a
// filter selects, however many: the CA-distrust day's re-issue of 100,000
// certificates runs as one. The API call only records the operation; a
// runner on one server replica (under a lease, as jobs have) walks the
// certificates in id order, a chunk per transaction, enqueueing ordinary
// issuance jobs, so deployments follow from the normal lifecycle. The
// number of the operation's jobs outstanding at once is bounded, so that
// workers, plugins, agents and the API stay responsive.

// ReissueInput is a request to re-issue every certificate a filter
// selects, from the same issuer or moved to another.
type ReissueInput struct {
	Filter     core.OperationFilter
	ToIssuerID *uuid.UUID // nil: re-issue from each certificate's issuer
	Reason     string
	// MaxPerSecond bounds how many issuances the operation starts per
	// second (an external CA's rate limit); nil means no bound but the
	// runner's outstanding bound.
	MaxPerSecond *float64
}

// maxReason bounds an operation's free-text reason.
const maxReason = 1000

// ReissueCertificates records a re-issue operation and returns it; the
// operation runner does the work in the background.
func (s *Service) ReissueCertificates(ctx context.Context, in ReissueInput) (core.Operation, error) {
	var out core.Operation
	err := s.mutate(ctx, change{role: core.RoleOperator, action: "certificate.bulk_reissue", resourceType: "operation"},
		func(q *store.Queries) (string, map[string]any, error) {
			if err := s.validateReissue(ctx, q, in); err != nil {
				return "", nil, err
			}
			a, _ := core.ActorFrom(ctx)
			now := s.clock()
			o, err := q.CreateOperation(ctx, core.Operation{ID: newID(), Kind: core.OperationReissue, Status: core.OperationRunning,
				Filter: in.Filter, ToIssuerID: in.ToIssuerID, Reason: in.Reason, MaxPerSecond: in.MaxPerSecond,
				CreatedBy: a.ID, CreatedByName: a.Name, CreatedAt: now})
			if err != nil {
				return "", nil, err
			}
			out = o
			details := map[string]any{"kind": o.Kind, "filter": o.Filter, "reason": o.Reason, "estimated_total": o.EstimatedTotal}
			if o.ToIssuerID != nil {
				details["to_issuer_id"] = o.ToIssuerID.String()
			}
			return o.ID.String(), details, nil
		})
	return out, err
}

func (s *Service) validateReissue(ctx context.Context, q *store.Queries, in ReissueInput) error {
	f := in.Filter
	if f.Empty() {
		return core.Invalid("filter", "a bulk action needs at least one filter (status, issuer_id, target_id, expiring_before, name_prefix)")
	}
	if f.Status != "" {
		if err := core.ValidateOneOf("status", f.Status, core.CertificateStatuses); err != nil {
			return err
		}
	}
	if len(in.Reason) > maxReason {
		return core.Invalid("reason", "is longer than %d characters", maxReason)
	}
	if in.MaxPerSecond != nil && (math.IsNaN(*in.MaxPerSecond) || *in.MaxPerSecond <= 0 || *in.MaxPerSecond > 100000) {
		return core.Invalid("max_per_second", "must be more than 0 and at most 100000")
	}
	if f.IssuerID != nil {
		if _, err := q.GetIssuer(ctx, *f.IssuerID); errIs(err, core.ENOTFOUND) {
			return core.Invalid("issuer_id", "no issuer with id %s", f.IssuerID)
		} else if err != nil {
			return err
		}
	}
	if in.ToIssuerID == nil {
		return nil
	}
	iss, err := q.GetIssuer(ctx, *in.ToIssuerID)
	if errIs(err, core.ENOTFOUND) {
		return core.Invalid("to_issuer_id", "no issuer with id %s", in.ToIssuerID)
	}
	if err != nil {
		return err
	}
	// An issuer whose plugin this server cannot run would fail every job
	// of the operation: refuse it now, while the operator is watching.
	if s.issuers != nil {
		if _, err := s.issuer(iss.Type); err != nil {
			return core.Invalid("to_issuer_id", "issuer %q cannot issue now: its plugin %q is not available (%s)",
				iss.Name, iss.Type, core.ErrorMessage(err))
		}
	}
	return nil
}

// GetOperation returns a bulk operation with its progress.
func (s *Service) GetOperation(ctx context.Context, id uuid.UUID) (core.Operation, error) {
	if err := s.read(ctx); err != nil {
		return core.Operation{}, err
	}
	return s.store.Q().GetOperation(ctx, id)
}

// ListOperations returns a page of bulk operations, newest first.
func (s *Service) ListOperations(ctx context.Context, status string, p core.Page) ([]core.Operation, bool, error) {
	if err := s.read(ctx); err != nil {
		return nil, false, err
	}
	if status != "" {
		if err := core.ValidateOneOf("status", status, core.OperationStatuses); err != nil {
			return nil, false, err
		}
	}
	return s.store.Q().ListOperations(ctx, status, p)
}

// CancelOperation stops a running operation from enqueueing more
// certificates. The jobs it already started run to their end (cancel
// them as jobs, one by one, to stop them too).
func (s *Service) CancelOperation(ctx context.Context, id uuid.UUID) (core.Operation, error) {
	var out core.Operation
	err := s.mutate(ctx, change{role: core.RoleOperator, action: "operation.cancel", resourceType: "operation", resourceID: id.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			o, err := q.GetOperation(ctx, id)
			if err != nil {
				return "", nil, err
			}
			ok, err := q.CancelOperation(ctx, id, s.clock())
			if err != nil {
				return "", nil, err
			}
			if !ok {
				return "", nil, core.Errorf(core.ECONFLICT, "operation %s is %s already", id, o.Status)
			}
			out, err = q.GetOperation(ctx, id)
			return "", map[string]any{"matched": out.Matched, "started": out.Started}, err
		})
	return out, err
}

// OperationRunnerOptions tune RunOperations.
type OperationRunnerOptions struct {
	// Owner names this server in operation leases; unique per process.
	Owner string
	// Outstanding bounds the operation's jobs live at once (queued,
	// running, retrying, or waiting for an online agent's CSR): what this
	// server's workers can take without the queue growing, so that other
	// work (the scheduler's renewals, API calls) keeps its turn. Default
	// 64. Jobs waiting for an agent that is offline do not count: they
	// cost nothing until it comes back, and would otherwise hold the whole
	// operation up.
	Outstanding int
	// Chunk bounds the certificates one step (one transaction) takes.
	// Default 500.
	Chunk int
	// Lease is how long an operation stays this server's without a step;
	// another server takes it over after. Default 30s.
	Lease time.Duration
	// Poll is the pause between looks at the operation's outstanding
	// jobs when there was no room for more, and Idle between looks for a
	// new operation. Default 50ms and 2s.
	Poll, Idle time.Duration
}

// minBatch is the room for jobs worth a step while walking: a quarter of
// the bound, so that steps enqueue in batches rather than one job each.
func (o OperationRunnerOptions) minBatch() int {
	return max(1, min(o.Outstanding/4, o.Chunk))
}

func (o *OperationRunnerOptions) defaults() {
	if o.Owner == "" {
		o.Owner = "operations-" + newID().String()
	}
	if o.Outstanding <= 0 {
		o.Outstanding = 64
	}
	if o.Chunk <= 0 {
		o.Chunk = 500
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 50 * time.Millisecond
	}
	if o.Idle <= 0 {
		o.Idle = 2 * time.Second
	}
}

// RunOperations drives running bulk operations until ctx ends: it leases
// one no other server drives (or whose server's lease expired), steps it
// to its end, then looks for the next. On return it gives up its lease,
// so that another server continues at once.
func (s *Service) RunOperations(ctx context.Context, o OperationRunnerOptions) {
	o.defaults()
	for ctx.Err() == nil {
		id, ok, err := s.store.Q().AcquireOperation(ctx, o.Owner, s.clock(), o.Lease)
		if err != nil && ctx.Err() == nil {
			s.logger.Warn("operations: acquire", "err", err)
		}
		if ok {
			s.driveOperation(ctx, id, o)
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := s.store.Q().ReleaseOperation(rctx, id, o.Owner); err != nil {
				s.logger.Warn("operations: release", "operation", id, "err", err)
			}
			cancel()
			continue
		}
		sleep(ctx, o.Idle)
	}
}

// driveOperation steps one operation until it ends, this server loses its
// lease or ctx ends.
func (s *Service) driveOperation(ctx context.Context, id uuid.UUID, o OperationRunnerOptions) {
	var bucket *tokenBucket
	failures := 0
	walking, lastStep := false, time.Now()
	for ctx.Err() == nil {
		// While the walk goes on, a look at the outstanding jobs (a read)
		// decides whether a step (a transaction, a durable commit) is worth
		// it: only when a batch of them ended, or the lease wants renewing.
		if walking && time.Since(lastStep) < o.Lease/3 {
			n, _, err := s.store.Q().OutstandingOperationJobs(ctx, id)
			if err == nil && o.Outstanding-n < o.minBatch() {
				sleep(ctx, o.Poll)
				continue
			}
		}
		lastStep = time.Now()
		r, err := s.operationStep(ctx, id, o, bucket)
		switch {
		case errors.Is(err, store.ErrLeaseLost):
			return // cancelled, ended, or another server holds it now
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			failures++
			s.logger.Warn("operations: step failed", "operation", id, "err", err, "failures", failures)
			nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = s.store.Q().NoteOperationError(nctx, id, core.ErrorMessage(err), s.clock())
			cancel()
			sleep(ctx, min(time.Duration(failures)*o.Poll, 10*time.Second))
			continue
		}
		failures, walking = 0, r.Walking
		if r.Ended {
			s.logger.Info("operation ended", "operation", id, "status", r.Status)
			return
		}
		if bucket == nil && r.MaxPerSecond != nil {
			bucket = newTokenBucket(*r.MaxPerSecond, time.Now())
		}
		if r.Taken == 0 {
			sleep(ctx, o.Poll)
		}
	}
}

// StepResult says what one step did.
type StepResult struct {
	Taken        int // certificates handled
	Started      int
	Adopted      int
	Deferred     int
	Walking      bool // the walk has not passed the last certificate yet
	Ended        bool
	Status       string
	MaxPerSecond *float64
}

// operationStep does one step of an operation this server holds (owner
// o.Owner), in one transaction: the next chunk of certificates past the
// cursor (or of deferred ones once the walk ended) within the bound of
// outstanding jobs and the rate bucket (nil: none), moved, enqueued,
// audited, and the cursor advanced; or the operation finished when all
// is done. It returns store.ErrLeaseLost when the server no longer holds
// the operation.
func (s *Service) operationStep(ctx context.Context, id uuid.UUID, o OperationRunnerOptions, bucket *tokenBucket) (StepResult, error) {
	o.defaults()
	var r StepResult
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		r = StepResult{}
		now := s.clock()
		op, err := q.LockOperation(ctx, id, o.Owner, now, o.Lease)
		if err != nil {
			return err
		}
		r.MaxPerSecond = op.MaxPerSecond
		busy, parked, err := q.OutstandingOperationJobs(ctx, id)
		if err != nil {
			return err
		}
		budget := min(o.Outstanding-busy, o.Chunk)
		if bucket != nil {
			budget = min(budget, bucket.available(time.Now()))
		}
		walking := op.WalkEndedAt == nil
		r.Walking = walking
		if !walking && op.Deferred == 0 {
			if busy+parked > 0 {
				return nil // the last jobs are running or wait for agents
			}
			r.Ended, r.Status = true, core.OperationDone
			return s.finishOperation(ctx, q, op, now)
		}
		if budget <= 0 {
			return nil
		}
		var certs []store.ChunkCertificate
		if walking {
			certs, err = q.NextOperationChunk(ctx, op, budget)
		} else {
			certs, err = q.DeferredOperationChunk(ctx, id, budget)
		}
		if err != nil {
			return err
		}
		r.Taken = len(certs)
		chunk, skipped := s.operationChunk(op, certs, now)
		res, err := q.ApplyOperationChunk(ctx, chunk)
		if err != nil {
			return err
		}
		r.Started, r.Adopted, r.Deferred = len(res.Started), len(res.Adopted), len(res.Deferred)
		if walking {
			var cursor *uuid.UUID
			if len(certs) > 0 {
				cursor = &certs[len(certs)-1].ID
			}
			r.Walking = len(certs) == budget
			return q.AdvanceOperation(ctx, id, cursor, len(certs), r.Started, r.Adopted, skipped, len(certs) < budget, now)
		}
		return q.AdvanceOperation(ctx, id, nil, 0, r.Started, r.Adopted, 0, true, now)
	})
	if err == nil && bucket != nil {
		bucket.take(r.Started + r.Adopted)
	}
	return r, err
}

// operationChunk prepares the set-based writes of a chunk: one new job
// per certificate (kept only where no live issuance can be taken over),
// with its audit ids. Revoked certificates are skipped, as a renewal
// skips them.
func (s *Service) operationChunk(op core.Operation, certs []store.ChunkCertificate, now time.Time) (store.OperationChunk, int) {
	c := store.OperationChunk{OperationID: op.ID, ToIssuerID: op.ToIssuerID, Now: now}
	skipped := 0
	for _, cert := range certs {
		if cert.Status == core.CertRevoked {
			skipped++
			continue
		}
		issuer := cert.IssuerID
		if op.ToIssuerID != nil && *op.ToIssuerID != issuer {
			c.Moved = append(c.Moved, cert.ID)
			issuer = *op.ToIssuerID
		}
		// A renewal asks the CA that issued the current version for its
		// successor; from another CA, the next version is a new issue.
		kind := core.JobRenew
		if cert.CurrentVersionID == nil || cert.VersionIssuerID == nil || *cert.VersionIssuerID != issuer {
			kind = core.JobIssue
			c.Fresh = append(c.Fresh, cert.ID)
		}
		state, agent := core.JobQueued, (*uuid.UUID)(nil)
		if cert.KeyMode == core.KeyModeAgent {
			state, agent = core.JobWaiting, cert.AgentID
		}
		c.Certificates = append(c.Certificates, cert.ID)
		c.JobIDs = append(c.JobIDs, newID())
		c.Kinds = append(c.Kinds, kind)
		c.States = append(c.States, state)
		c.AgentIDs = append(c.AgentIDs, agent)
		c.SpecRevision = append(c.SpecRevision, cert.SpecRevision)
		c.MaxAttempts = append(c.MaxAttempts, s.maxAttempts(kind))
		c.AuditIDs = append(c.AuditIDs, newID())
		c.JobAuditIDs = append(c.JobAuditIDs, newID())
	}
	return c, skipped
}

func (s *Service) finishOperation(ctx context.Context, q *store.Queries, op core.Operation, now time.Time) error {
	if err := q.FinishOperation(ctx, op.ID, core.OperationDone, "", now); err != nil {
		return err
	}
	p, err := q.OperationProgress(ctx, op.ID)
	if err != nil {
		return err
	}
	outcome := core.OutcomeSuccess
	if p.Failed > 0 {
		outcome = core.OutcomeFailure
	}
	return q.AppendAudit(ctx, s.auditEvent(ctx, core.SystemActor, "operation.done", "operation", op.ID.String(), outcome,
		map[string]any{"matched": op.Matched, "started": op.Started, "adopted": op.Adopted, "skipped": op.Skipped,
			"issued": p.Issued, "failed": p.Failed, "cancelled": p.Cancelled}))
}

// tokenBucket paces an operation to a rate (an external CA's limit),
// allowing a burst of one second's worth.
type tokenBucket struct {
	rate   float64
	tokens float64
	last   time.Time
}

func newTokenBucket(rate float64, now time.Time) *tokenBucket {
	return &tokenBucket{rate: rate, tokens: min(rate, 1), last: now}
}

// available refills the bucket up to now and returns the whole tokens in it.
func (b *tokenBucket) available(now time.Time) int {
	b.tokens = min(b.tokens+b.rate*now.Sub(b.last).Seconds(), max(b.rate, 1))
	b.last = now
	return int(b.tokens)
}

func (b *tokenBucket) take(n int) { b.tokens -= float64(n) }
