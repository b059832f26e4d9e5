package store

import (
	"context"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/server/core"
)

const operationColumns = `o.id, o.kind, o.status, o.filter, o.to_issuer_id, o.reason, o.max_per_second, o.created_by,
	o.created_by_name, o.cursor_id, o.until_id, o.walk_ended_at, o.estimated_total, o.matched, o.started, o.adopted,
	o.skipped, (SELECT count(*) FROM bulk_operation_deferred d WHERE d.operation_id = o.id), o.last_error,
	COALESCE(o.lease_owner, ''), o.lease_expires_at, o.created_at, o.updated_at, o.finished_at`

func scanOperation(row pgx.Row) (core.Operation, error) {
	var o core.Operation
	err := row.Scan(&o.ID, &o.Kind, &o.Status, &o.Filter, &o.ToIssuerID, &o.Reason, &o.MaxPerSecond, &o.CreatedBy,
		&o.CreatedByName, &o.CursorID, &o.UntilID, &o.WalkEndedAt, &o.EstimatedTotal, &o.Matched, &o.Started, &o.Adopted,
		&o.Skipped, &o.Deferred, &o.LastError, &o.LeaseOwner, &o.LeaseExpiresAt, &o.CreatedAt, &o.UpdatedAt, &o.FinishedAt)
	return o, err
}

// operationWhere adds an operation's certificate filter to w, with the
// same conditions (and so the same indexes) as ListCertificates.
func operationWhere(w *where, f core.OperationFilter) {
	if f.Status != "" {
		w.add("c.status = ?", f.Status)
	}
	if f.IssuerID != nil {
		w.add("c.issuer_id = ?", *f.IssuerID)
	}
	if f.TargetID != nil {
		w.add("c.id IN (SELECT certificate_id FROM certificate_targets WHERE target_id = ?)", *f.TargetID)
	}
	if f.ExpiringBefore != nil {
		w.add("c.not_after < ?", *f.ExpiringBefore)
	}
	if f.NamePrefix != "" {
		w.add("c.name LIKE ? || '%'", escapeLike(f.NamePrefix))
	}
}

// CreateOperation stores a new running operation. Its walk ends at the
// largest certificate id of this moment (ids are time-ordered, so later
// certificates are not part of it), and it counts what the filter matches
// now as its estimated total.
func (q *Queries) CreateOperation(ctx context.Context, o core.Operation) (core.Operation, error) {
	var w where
	operationWhere(&w, o.Filter)
	err := q.db.QueryRow(ctx, `SELECT c.id FROM managed_certificates c ORDER BY c.id DESC LIMIT 1`).Scan(&o.UntilID)
	if err == pgx.ErrNoRows {
		err = nil // no certificates: the walk ends at once
	}
	if err != nil {
		return o, mapError(err, "certificates")
	}
	if o.UntilID != nil {
		w.add("c.id <= ?", *o.UntilID)
		if err := q.db.QueryRow(ctx, `SELECT count(*) FROM managed_certificates c`+w.sql(), w.args...).Scan(&o.EstimatedTotal); err != nil {
			return o, mapError(err, "certificates")
		}
	}
	_, err = q.db.Exec(ctx, `INSERT INTO bulk_operations (id, kind, status, filter, to_issuer_id, reason, max_per_second,
		created_by, created_by_name, until_id, estimated_total, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)`,
		o.ID, o.Kind, o.Status, o.Filter, o.ToIssuerID, o.Reason, o.MaxPerSecond, o.CreatedBy, o.CreatedByName, o.UntilID,
		o.EstimatedTotal, o.CreatedAt)
	if err != nil {
		return o, mapError(err, "operation")
	}
	o.UpdatedAt = o.CreatedAt
	return o, nil
}

// GetOperation returns an operation with its progress.
func (q *Queries) GetOperation(ctx context.Context, id uuid.UUID) (core.Operation, error) {
	o, err := scanOperation(q.db.QueryRow(ctx, `SELECT `+operationColumns+` FROM bulk_operations o WHERE o.id = $1`, id))
	if err != nil {
		return o, mapError(err, "operation")
	}
	o.Progress, err = q.OperationProgress(ctx, id)
	return o, err
}

// ListOperations returns a page of operations, newest first, without
// their progress (GetOperation counts it).
func (q *Queries) ListOperations(ctx context.Context, status string, p core.Page) ([]core.Operation, bool, error) {
	var w where
	if status != "" {
		w.add("o.status = ?", status)
	}
	if p.After != nil {
		w.add("o.id < ?", *p.After)
	}
	limit := p.Limit
	if limit <= 0 || limit > core.MaxPageLimit {
		limit = core.DefaultPageLimit
	}
	rows, err := q.db.Query(ctx, `SELECT `+operationColumns+` FROM bulk_operations o`+w.sql()+
		` ORDER BY o.id DESC LIMIT `+strconv.Itoa(limit+1), w.args...)
	if err != nil {
		return nil, false, mapError(err, "operations")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Operation, error) { return scanOperation(r) })
	if err != nil {
		return nil, false, mapError(err, "operations")
	}
	items, more := trimPage(items, p)
	return items, more, nil
}

// OperationProgress counts an operation's jobs by state, and the
// deployments of the versions they issued.
func (q *Queries) OperationProgress(ctx context.Context, id uuid.UUID) (core.OperationProgress, error) {
	var p core.OperationProgress
	err := q.db.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE state IN ('queued', 'running', 'waiting', 'retrying')),
			count(*) FILTER (WHERE state = 'succeeded'),
			count(*) FILTER (WHERE state = 'failed'),
			count(*) FILTER (WHERE state = 'cancelled')
		FROM jobs WHERE operation_id = $1`, id).Scan(&p.Outstanding, &p.Issued, &p.Failed, &p.Cancelled)
	if err != nil {
		return p, mapError(err, "operation progress")
	}
	err = q.db.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE d.status = 'succeeded'),
			count(*) FILTER (WHERE d.status = 'failed'),
			count(*) FILTER (WHERE d.status IN ('pending', 'in_progress'))
		FROM jobs j JOIN certificate_versions v ON v.job_id = j.id JOIN deployments d ON d.version_id = v.id
		WHERE j.operation_id = $1 AND j.state = 'succeeded'`, id).Scan(&p.DeploymentsDone, &p.DeploymentsFailed, &p.DeploymentsActive)
	return p, mapError(err, "operation progress")
}

// OutstandingOperationJobs counts an operation's live jobs: busy are those
// the server works on (queued, running, retrying) and those waiting for an
// agent that is online (its CSR comes soon and makes them queued); parked
// those waiting for an agent that is offline or retired, which cost
// nothing until it comes back.
func (q *Queries) OutstandingOperationJobs(ctx context.Context, id uuid.UUID) (busy, parked int, err error) {
	err = q.db.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE j.state <> 'waiting' OR a.status IS NULL OR a.status NOT IN ('offline', 'retired')),
			count(*) FILTER (WHERE j.state = 'waiting' AND a.status IN ('offline', 'retired'))
		FROM jobs j LEFT JOIN agents a ON a.id = j.agent_id
		WHERE j.operation_id = $1 AND j.state IN ('queued', 'running', 'waiting', 'retrying')`, id).Scan(&busy, &parked)
	return busy, parked, mapError(err, "operation jobs")
}

// CancelOperation stops a running operation from enqueueing more. It
// returns false when the operation had already ended.
func (q *Queries) CancelOperation(ctx context.Context, id uuid.UUID, now time.Time) (bool, error) {
	tag, err := q.db.Exec(ctx, `UPDATE bulk_operations SET status = 'cancelled', finished_at = $2, updated_at = $2,
		lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND status = 'running'`, id, now)
	if err != nil {
		return false, mapError(err, "operation")
	}
	return tag.RowsAffected() == 1, nil
}

// AcquireOperation leases to owner the oldest running operation that no
// other server holds (or whose holder's lease expired), and returns its
// id; ok is false when there is none.
func (q *Queries) AcquireOperation(ctx context.Context, owner string, now time.Time, lease time.Duration) (uuid.UUID, bool, error) {
	var id uuid.UUID
	err := q.db.QueryRow(ctx, `UPDATE bulk_operations SET lease_owner = $1, lease_expires_at = $3
		WHERE id = (SELECT id FROM bulk_operations WHERE status = 'running'
			AND (lease_owner IS NULL OR lease_owner = $1 OR lease_expires_at <= $2)
			ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING id`, owner, now, now.Add(lease)).Scan(&id)
	if err == pgx.ErrNoRows {
		return id, false, nil
	}
	return id, err == nil, mapError(err, "operation")
}

// LockOperation locks a running operation that owner holds until the end
// of the transaction and extends owner's lease. It returns ErrLeaseLost
// when owner no longer holds it or it is no longer running, so that a
// replica whose lease another took over writes nothing.
func (q *Queries) LockOperation(ctx context.Context, id uuid.UUID, owner string, now time.Time, lease time.Duration) (core.Operation, error) {
	o, err := scanOperation(q.db.QueryRow(ctx, `UPDATE bulk_operations o SET lease_expires_at = $3
		WHERE o.id = $1 AND o.lease_owner = $2 AND o.status = 'running' RETURNING `+operationColumns,
		id, owner, now.Add(lease)))
	if err == pgx.ErrNoRows {
		return o, ErrLeaseLost
	}
	return o, mapError(err, "operation")
}

// ReleaseOperation gives up owner's lease, so that another server may
// take the operation over at once.
func (q *Queries) ReleaseOperation(ctx context.Context, id uuid.UUID, owner string) error {
	_, err := q.db.Exec(ctx, `UPDATE bulk_operations SET lease_owner = NULL, lease_expires_at = NULL
		WHERE id = $1 AND lease_owner = $2`, id, owner)
	return mapError(err, "operation")
}

// ChunkCertificate is a certificate an operation step handles.
type ChunkCertificate struct {
	ID               uuid.UUID
	IssuerID         uuid.UUID
	Status           string
	KeyMode          string
	SpecRevision     int64
	CurrentVersionID *uuid.UUID
	VersionIssuerID  *uuid.UUID // the issuer of its current version
	AgentID          *uuid.UUID // the agent of its targets, for agent key mode
}

const chunkColumns = `c.id, c.issuer_id, c.status, c.key_mode, c.spec_revision, c.current_version_id,
	(SELECT v.issuer_id FROM certificate_versions v WHERE v.id = c.current_version_id),
	(SELECT t.agent_id FROM certificate_targets ct JOIN targets t ON t.id = ct.target_id
	 WHERE ct.certificate_id = c.id AND t.agent_id IS NOT NULL LIMIT 1)`

func collectChunk(rows pgx.Rows, err error) ([]ChunkCertificate, error) {
	if err != nil {
		return nil, mapError(err, "certificates")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ChunkCertificate, error) {
		var c ChunkCertificate
		err := r.Scan(&c.ID, &c.IssuerID, &c.Status, &c.KeyMode, &c.SpecRevision, &c.CurrentVersionID, &c.VersionIssuerID, &c.AgentID)
		return c, err
	})
	return out, mapError(err, "certificates")
}

// NextOperationChunk returns, locked, up to limit certificates the
// operation's filter selects past its cursor (in id order, up to its
// until_id).
func (q *Queries) NextOperationChunk(ctx context.Context, o core.Operation, limit int) ([]ChunkCertificate, error) {
	if o.UntilID == nil {
		return nil, nil
	}
	var w where
	operationWhere(&w, o.Filter)
	w.add("c.id <= ?", *o.UntilID)
	if o.CursorID != nil {
		w.add("c.id > ?", *o.CursorID)
	}
	return collectChunk(q.db.Query(ctx, `SELECT `+chunkColumns+` FROM managed_certificates c`+w.sql()+
		` ORDER BY c.id LIMIT `+strconv.Itoa(limit)+` FOR UPDATE OF c`, w.args...))
}

// DeferredOperationChunk returns, locked, up to limit of the operation's
// deferred certificates whose blocking issuance has ended or may now be
// taken over (it no longer runs and holds no order).
func (q *Queries) DeferredOperationChunk(ctx context.Context, id uuid.UUID, limit int) ([]ChunkCertificate, error) {
	return collectChunk(q.db.Query(ctx, `SELECT `+chunkColumns+` FROM bulk_operation_deferred d
		JOIN managed_certificates c ON c.id = d.certificate_id
		WHERE d.operation_id = $1 AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.certificate_id = c.id
			AND j.kind IN ('issue', 'renew') AND j.state IN ('queued', 'running', 'waiting', 'retrying')
			AND NOT (`+adoptable+`))
		ORDER BY c.id LIMIT `+strconv.Itoa(limit)+` FOR UPDATE OF c`, id))
}

// adoptable is the condition on a live issuance that an operation may
// take over: it has not started calling its CA (it is not running and
// holds no pending order), so it will issue from the issuer the
// certificate names when it runs.
const adoptable = `j.state IN ('queued', 'waiting', 'retrying') AND j.operation_id IS NULL
	AND COALESCE(j.payload->>'order_id', '') = '' AND j.payload->'awaiting_challenges' IS NULL`

// OperationChunk is what a step does to its certificates: all of it
// commits together with the operation's cursor.
type OperationChunk struct {
	OperationID uuid.UUID
	ToIssuerID  *uuid.UUID
	// Certificates handled (not revoked); Moved are those whose issuer
	// changes now; Fresh those whose next version comes from another CA
	// than their current one, so an issue rather than a renewal.
	Certificates []uuid.UUID
	Moved        []uuid.UUID
	Fresh        []uuid.UUID
	// The new jobs, one per certificate in Certificates, aligned.
	JobIDs       []uuid.UUID
	Kinds        []string
	States       []string
	AgentIDs     []*uuid.UUID
	SpecRevision []int64
	MaxAttempts  []int
	// Audit ids, aligned with Certificates (job.created uses the second).
	AuditIDs    []uuid.UUID
	JobAuditIDs []uuid.UUID
	Now         time.Time
}

// ChunkOutcome says what became of each certificate of a chunk.
type ChunkOutcome struct {
	Started  map[uuid.UUID]uuid.UUID // certificate → its new job
	Adopted  map[uuid.UUID]uuid.UUID // certificate → the live job taken over
	Deferred []uuid.UUID
}

// ApplyOperationChunk moves the chunk's certificates to the new issuer,
// takes over their live issuances that have not started, enqueues one
// issuance for each certificate without one (set-based: a few statements
// whatever the chunk's size), defers the rest, and audits each. It must
// run in the transaction that locked the certificates and the operation.
func (q *Queries) ApplyOperationChunk(ctx context.Context, c OperationChunk) (ChunkOutcome, error) {
	out := ChunkOutcome{Started: map[uuid.UUID]uuid.UUID{}, Adopted: map[uuid.UUID]uuid.UUID{}}
	if len(c.Certificates) == 0 {
		return out, nil
	}
	if c.ToIssuerID != nil && len(c.Moved) > 0 {
		if _, err := q.db.Exec(ctx, `UPDATE managed_certificates SET issuer_id = $2, updated_at = $3
			WHERE id = ANY($1)`, c.Moved, *c.ToIssuerID, c.Now); err != nil {
			return out, mapError(err, "certificates")
		}
	}
	// Live issuances that have not reached their CA are taken over: they
	// read the certificate's issuer when they run. One from another
	// issuer becomes an issue (not a renewal of the old CA's certificate).
	rows, err := q.db.Query(ctx, `UPDATE jobs j SET operation_id = $2, updated_at = $4,
			kind = CASE WHEN j.certificate_id = ANY($3) THEN 'issue' ELSE j.kind END
		WHERE j.certificate_id = ANY($1) AND j.kind IN ('issue', 'renew') AND `+adoptable+`
		RETURNING j.certificate_id, j.id`, c.Certificates, c.OperationID, c.Fresh, c.Now)
	if err != nil {
		return out, mapError(err, "jobs")
	}
	for rows.Next() {
		var cert, job uuid.UUID
		if err := rows.Scan(&cert, &job); err != nil {
			rows.Close()
			return out, mapError(err, "jobs")
		}
		out.Adopted[cert] = job
	}
	if err := rows.Err(); err != nil {
		return out, mapError(err, "jobs")
	}
	// New jobs for the others; the unique index on live issuances skips a
	// certificate whose issuance is running (it is deferred below).
	rows, err = q.db.Query(ctx, `WITH n AS (
			SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::bigint[], $7::int[], $8::uuid[])
				AS n(job_id, certificate_id, kind, state, agent_id, spec_revision, max_attempts, audit_id)
			WHERE NOT (n.certificate_id = ANY($9))),
		ins AS (
			INSERT INTO jobs (id, kind, state, certificate_id, agent_id, payload, attempt, max_attempts, run_at, last_error,
				created_at, updated_at, operation_id)
			SELECT n.job_id, n.kind, n.state, n.certificate_id, n.agent_id,
				jsonb_build_object('spec_revision', n.spec_revision, 'trigger', 'reissue'), 0, n.max_attempts, $10, '',
				$10, $10, $11
			FROM n ORDER BY n.certificate_id ON CONFLICT DO NOTHING RETURNING id, certificate_id, kind, state),
		st AS (
			UPDATE managed_certificates c SET status = CASE WHEN c.current_version_id IS NULL THEN 'issuing' ELSE 'renewing' END,
				last_error = '', next_renewal_at = NULL, updated_at = $10
			FROM ins WHERE c.id = ins.certificate_id),
		au AS (
			INSERT INTO audit_events (id, occurred_at, actor, actor_type, actor_name, action, resource_type, resource_id,
				outcome, details)
			SELECT n.audit_id, $10, 'system', 'system', 'certctl-server', 'job.created', 'job', ins.id::text, 'success',
				jsonb_build_object('kind', ins.kind, 'state', ins.state, 'trigger', 'reissue',
					'certificate_id', ins.certificate_id, 'operation_id', $11::uuid)
			FROM ins JOIN n ON n.job_id = ins.id)
		SELECT certificate_id, id FROM ins`,
		c.JobIDs, c.Certificates, c.Kinds, c.States, c.AgentIDs, c.SpecRevision, c.MaxAttempts, c.JobAuditIDs,
		adoptedIDs(out.Adopted), c.Now, c.OperationID)
	if err != nil {
		return out, mapError(err, "jobs")
	}
	for rows.Next() {
		var cert, job uuid.UUID
		if err := rows.Scan(&cert, &job); err != nil {
			rows.Close()
			return out, mapError(err, "jobs")
		}
		out.Started[cert] = job
	}
	if err := rows.Err(); err != nil {
		return out, mapError(err, "jobs")
	}
	outcomes := make([]string, len(c.Certificates))
	jobs := make([]*uuid.UUID, len(c.Certificates))
	for i, id := range c.Certificates {
		if j, ok := out.Started[id]; ok {
			outcomes[i], jobs[i] = "started", &j
		} else if j, ok := out.Adopted[id]; ok {
			outcomes[i], jobs[i] = "adopted", &j
		} else {
			outcomes[i] = "deferred"
			out.Deferred = append(out.Deferred, id)
		}
	}
	if _, err := q.db.Exec(ctx, `DELETE FROM bulk_operation_deferred WHERE operation_id = $1 AND certificate_id = ANY($2)`,
		c.OperationID, c.Certificates); err != nil {
		return out, mapError(err, "operation")
	}
	if len(out.Deferred) > 0 {
		if _, err := q.db.Exec(ctx, `INSERT INTO bulk_operation_deferred (operation_id, certificate_id)
			SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING`, c.OperationID, out.Deferred); err != nil {
			return out, mapError(err, "operation")
		}
	}
	_, err = q.db.Exec(ctx, `INSERT INTO audit_events (id, occurred_at, actor, actor_type, actor_name, action,
			resource_type, resource_id, outcome, details)
		SELECT a.audit_id, $4, 'system', 'system', 'certctl-server', 'certificate.reissue', 'certificate', a.certificate_id::text,
			'success', jsonb_strip_nulls(jsonb_build_object('operation_id', $5::uuid, 'outcome', a.outcome, 'job_id', a.job_id,
				'to_issuer_id', $6::uuid))
		FROM unnest($1::uuid[], $2::uuid[], $3::text[], $7::uuid[]) AS a(audit_id, certificate_id, outcome, job_id)`,
		c.AuditIDs, c.Certificates, outcomes, c.Now, c.OperationID, c.ToIssuerID, jobs)
	return out, mapError(err, "audit events")
}

func adoptedIDs(m map[uuid.UUID]uuid.UUID) []uuid.UUID {
	ids := make([]uuid.UUID, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	return ids
}

// AdvanceOperation records a step: the cursor (nil: unchanged), the
// counts it adds, and whether the walk ended.
func (q *Queries) AdvanceOperation(ctx context.Context, id uuid.UUID, cursor *uuid.UUID, matched, started, adopted, skipped int,
	walkEnded bool, now time.Time) error {
	_, err := q.db.Exec(ctx, `UPDATE bulk_operations SET cursor_id = COALESCE($2, cursor_id), matched = matched + $3,
		started = started + $4, adopted = adopted + $5, skipped = skipped + $6,
		walk_ended_at = CASE WHEN $7 AND walk_ended_at IS NULL THEN $8 ELSE walk_ended_at END,
		last_error = '', updated_at = $8 WHERE id = $1`, id, cursor, matched, started, adopted, skipped, walkEnded, now)
	return mapError(err, "operation")
}

// FinishOperation ends a running operation with status (done or failed).
func (q *Queries) FinishOperation(ctx context.Context, id uuid.UUID, status, lastError string, now time.Time) error {
	_, err := q.db.Exec(ctx, `UPDATE bulk_operations SET status = $2, last_error = $3, finished_at = $4, updated_at = $4,
		lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND status = 'running'`, id, status, lastError, now)
	return mapError(err, "operation")
}

// NoteOperationError records the last error a step met, outside its
// (rolled back) transaction.
func (q *Queries) NoteOperationError(ctx context.Context, id uuid.UUID, msg string, now time.Time) error {
	_, err := q.db.Exec(ctx, `UPDATE bulk_operations SET last_error = $2, updated_at = $3 WHERE id = $1`, id, msg, now)
	return mapError(err, "operation")
}
