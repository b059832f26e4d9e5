package store

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/server/core"
)

const jobColumns = `id, kind, state, certificate_id, target_id, agent_id, payload, attempt, max_attempts, run_at,
	COALESCE(lease_owner, ''), lease_expires_at, last_error, created_at, updated_at, finished_at`

func scanJob(row pgx.Row) (core.Job, error) {
	var j core.Job
	err := row.Scan(&j.ID, &j.Kind, &j.State, &j.CertificateID, &j.TargetID, &j.AgentID, &j.Payload, &j.Attempt,
		&j.MaxAttempts, &j.RunAt, &j.LeaseOwner, &j.LeaseExpiresAt, &j.LastError, &j.CreatedAt, &j.UpdatedAt, &j.FinishedAt)
	return j, err
}

func collectJobs(rows pgx.Rows, err error) ([]core.Job, error) {
	if err != nil {
		return nil, mapError(err, "jobs")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Job, error) { return scanJob(r) })
	return items, mapError(err, "jobs")
}

// ErrJobExists means a live job of the same kind already exists for the
// certificate (the unique indexes refused a second one).
var ErrJobExists = errors.New("a live job of this kind exists for the certificate")

// InsertJob inserts a job. It returns ErrJobExists when a unique index
// refuses it: never two live issuances of one certificate.
func (q *Queries) InsertJob(ctx context.Context, j core.Job) error {
	tag, err := q.db.Exec(ctx, `INSERT INTO jobs (id, kind, state, certificate_id, target_id, agent_id, payload, attempt,
		max_attempts, run_at, last_error, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, '', $10, $10) ON CONFLICT DO NOTHING`,
		j.ID, j.Kind, j.State, j.CertificateID, j.TargetID, j.AgentID, j.Payload, j.MaxAttempts, j.RunAt, j.CreatedAt)
	if err != nil {
		return mapError(err, "job")
	}
	if tag.RowsAffected() == 0 {
		return ErrJobExists
	}
	return nil
}

// ClaimJobs leases up to limit due jobs of the given kinds to owner until
// now+lease, counting an attempt for each. Concurrent claimers never get
// the same job (FOR UPDATE SKIP LOCKED).
func (q *Queries) ClaimJobs(ctx context.Context, owner string, kinds []string, now time.Time, lease time.Duration, limit int) ([]core.Job, error) {
	return collectJobs(q.db.Query(ctx, `UPDATE jobs SET state = 'running', lease_owner = $1, lease_expires_at = $3,
		attempt = attempt + 1, updated_at = $2
		WHERE id IN (SELECT id FROM jobs WHERE state IN ('queued', 'retrying') AND run_at <= $2 AND kind = ANY($4)
			ORDER BY run_at LIMIT $5 FOR UPDATE SKIP LOCKED)
		RETURNING `+jobColumns, owner, now, now.Add(lease), kinds, limit))
}

// ExtendLeases renews the leases owner holds on the given jobs and returns
// the ids it still holds.
func (q *Queries) ExtendLeases(ctx context.Context, owner string, ids []uuid.UUID, until time.Time) ([]uuid.UUID, error) {
	rows, err := q.db.Query(ctx, `UPDATE jobs SET lease_expires_at = $3
		WHERE id = ANY($2) AND lease_owner = $1 AND state = 'running' RETURNING id`, owner, ids, until)
	if err != nil {
		return nil, mapError(err, "jobs")
	}
	held, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	return held, mapError(err, "jobs")
}

// ErrLeaseLost means the job is no longer this worker's: its lease expired
// and another worker took it, or an operator cancelled it.
var ErrLeaseLost = errors.New("job lease lost")

// FinishJob moves a running job that owner holds to a final or retry state.
// runAt matters for retrying. It returns ErrLeaseLost when owner no longer
// holds the job, so that the caller's transaction rolls back.
func (q *Queries) FinishJob(ctx context.Context, id uuid.UUID, owner, state, lastError string, runAt, now time.Time) error {
	var finished *time.Time
	if state == core.JobSucceeded || state == core.JobFailed || state == core.JobCancelled {
		finished = &now
	}
	tag, err := q.db.Exec(ctx, `UPDATE jobs SET state = $3, last_error = $4, run_at = $5, updated_at = $6, finished_at = $7,
		lease_owner = NULL, lease_expires_at = NULL
		WHERE id = $1 AND lease_owner = $2 AND state = 'running'`, id, owner, state, lastError, runAt, now, finished)
	if err != nil {
		return mapError(err, "job")
	}
	if tag.RowsAffected() == 0 {
		return ErrLeaseLost
	}
	return nil
}

// ReleaseJob gives back a running job that owner holds without counting
// its attempt: it becomes queued again (retrying when earlier attempts
// failed), due at now. It returns ErrLeaseLost when owner no longer holds
// the job.
func (q *Queries) ReleaseJob(ctx context.Context, id uuid.UUID, owner, reason string, now time.Time) error {
	tag, err := q.db.Exec(ctx, `UPDATE jobs SET
		state = CASE WHEN attempt > 1 THEN 'retrying' ELSE 'queued' END, attempt = GREATEST(attempt - 1, 0),
		last_error = $3, run_at = $4, updated_at = $4, lease_owner = NULL, lease_expires_at = NULL
		WHERE id = $1 AND lease_owner = $2 AND state = 'running'`, id, owner, reason, now)
	if err != nil {
		return mapError(err, "job")
	}
	if tag.RowsAffected() == 0 {
		return ErrLeaseLost
	}
	return nil
}

// ExpiredLease is a job whose worker stopped renewing its lease.
type ExpiredLease struct {
	ID      uuid.UUID
	Kind    string
	Attempt int
	Failed  bool // out of attempts
}

// RequeueExpiredLeases returns jobs whose lease expired to the queue (or
// fails them when they are out of attempts): their worker died.
func (q *Queries) RequeueExpiredLeases(ctx context.Context, now time.Time) ([]ExpiredLease, error) {
	rows, err := q.db.Query(ctx, `UPDATE jobs SET
		state = CASE WHEN attempt >= max_attempts THEN 'failed' ELSE 'retrying' END,
		finished_at = CASE WHEN attempt >= max_attempts THEN $1::timestamptz END,
		last_error = 'the worker running this job stopped (lease expired)', run_at = $1, updated_at = $1,
		lease_owner = NULL, lease_expires_at = NULL
		WHERE state = 'running' AND lease_expires_at < $1
		RETURNING id, kind, attempt, state = 'failed'`, now)
	if err != nil {
		return nil, mapError(err, "jobs")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ExpiredLease, error) {
		var e ExpiredLease
		err := r.Scan(&e.ID, &e.Kind, &e.Attempt, &e.Failed)
		return e, err
	})
	return out, mapError(err, "jobs")
}

// GetJob returns a job.
func (q *Queries) GetJob(ctx context.Context, id uuid.UUID) (core.Job, error) {
	j, err := scanJob(q.db.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1`, id))
	return j, mapError(err, "job")
}

// GetJobForUpdate returns a job locked until the end of the transaction.
func (q *Queries) GetJobForUpdate(ctx context.Context, id uuid.UUID) (core.Job, error) {
	j, err := scanJob(q.db.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1 FOR UPDATE`, id))
	return j, mapError(err, "job")
}

// jobFactsFrom reads jobs with the facts that say what a live job waits
// for: its agent's name, status and last heartbeat, its target's name (two
// primary-key lookups per job).
const jobFactsFrom = ` FROM jobs
	LEFT JOIN LATERAL (SELECT a.name, a.status, a.last_heartbeat_at FROM agents a WHERE a.id = jobs.agent_id) ja ON true
	LEFT JOIN LATERAL (SELECT t.name FROM targets t WHERE t.id = jobs.target_id) jt ON true`

const jobFactsColumns = jobColumns + `, COALESCE(ja.name, ''), COALESCE(ja.status, ''), ja.last_heartbeat_at,
	COALESCE(jt.name, '')`

func scanJobWithFacts(row pgx.Row) (core.Job, error) {
	var j core.Job
	f := &core.JobFacts{}
	err := row.Scan(&j.ID, &j.Kind, &j.State, &j.CertificateID, &j.TargetID, &j.AgentID, &j.Payload, &j.Attempt,
		&j.MaxAttempts, &j.RunAt, &j.LeaseOwner, &j.LeaseExpiresAt, &j.LastError, &j.CreatedAt, &j.UpdatedAt, &j.FinishedAt,
		&f.AgentName, &f.AgentStatus, &f.AgentLastHeartbeatAt, &f.TargetName)
	j.Facts = f
	return j, err
}

// GetJobWithFacts returns a job with the facts about its agent and target.
func (q *Queries) GetJobWithFacts(ctx context.Context, id uuid.UUID) (core.Job, error) {
	j, err := scanJobWithFacts(q.db.QueryRow(ctx, `SELECT `+jobFactsColumns+jobFactsFrom+` WHERE jobs.id = $1`, id))
	return j, mapError(err, "job")
}

// CertificateSettled reports whether nothing is under way for a
// certificate that can still change it: no live issue, renew, revoke or
// deploy job of it that can progress. A job that waits on an agent (a
// deploy job not yet taken, an issuance waiting for its CSR) cannot when
// there is no agent, or its agent is not online or has been silent since
// before staleBefore.
func (q *Queries) CertificateSettled(ctx context.Context, id uuid.UUID, staleBefore time.Time) (bool, error) {
	var settled bool
	err := q.db.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM jobs j LEFT JOIN agents a ON a.id = j.agent_id
		WHERE j.certificate_id = $1 AND j.state IN ('queued', 'running', 'waiting', 'retrying') AND j.kind <> 'notify'
		AND NOT (
			((j.kind = 'deploy' AND j.state <> 'running') OR (j.kind IN ('issue', 'renew') AND j.state = 'waiting'))
			AND (a.id IS NULL OR a.status <> 'online' OR a.last_heartbeat_at IS NULL OR a.last_heartbeat_at < $2)))`,
		id, staleBefore).Scan(&settled)
	return settled, mapError(err, "jobs")
}

// ListJobs returns a page of jobs, newest first, with the facts about
// their agents and targets.
func (q *Queries) ListJobs(ctx context.Context, f core.JobFilter) ([]core.Job, bool, error) {
	var w where
	if f.Kind != "" {
		w.add("kind = ?", f.Kind)
	}
	if f.State != "" {
		w.add("state = ?", f.State)
	}
	if f.CertificateID != nil {
		w.add("certificate_id = ?", *f.CertificateID)
	}
	rows, err := q.db.Query(ctx, `SELECT `+jobFactsColumns+jobFactsFrom+pageClause(&w, f.Page, true), w.args...)
	if err != nil {
		return nil, false, mapError(err, "jobs")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Job, error) { return scanJobWithFacts(r) })
	if err != nil {
		return nil, false, mapError(err, "jobs")
	}
	items, more := trimPage(items, f.Page)
	return items, more, nil
}

// SetJobState changes a job's state outside a worker's lease: cancel,
// retry, or hand a waiting job its input. It returns the job afterwards.
func (q *Queries) SetJobState(ctx context.Context, id uuid.UUID, state string, payload *core.JobPayload, runAt, now time.Time,
	lastError string) (core.Job, error) {
	var finished *time.Time
	if state == core.JobCancelled || state == core.JobFailed || state == core.JobSucceeded {
		finished = &now
	}
	j, err := scanJob(q.db.QueryRow(ctx, `UPDATE jobs SET state = $2, payload = COALESCE($3, payload), run_at = $4,
		updated_at = $5, finished_at = $6, lease_owner = NULL, lease_expires_at = NULL,
		last_error = CASE WHEN $7 = '' THEN last_error ELSE $7 END,
		attempt = CASE WHEN $2 IN ('queued', 'waiting') AND state IN ('failed', 'cancelled') THEN 0 ELSE attempt END
		WHERE id = $1 RETURNING `+jobColumns, id, state, payload, runAt, now, finished, lastError))
	return j, mapError(err, "job")
}

// LiveIssuanceJob returns the live issue or renew job of a certificate, if any.
func (q *Queries) LiveIssuanceJob(ctx context.Context, certificateID uuid.UUID) (core.Job, bool, error) {
	j, err := scanJob(q.db.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE certificate_id = $1
		AND kind IN ('issue', 'renew') AND state IN ('queued', 'running', 'waiting', 'retrying')`, certificateID))
	if errors.Is(err, pgx.ErrNoRows) {
		return j, false, nil
	}
	return j, err == nil, mapError(err, "job")
}
