package store

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/certctl/certctl/server/core"
)

// ErrSpecChanged means the certificate's declaration changed while its
// version was being issued: the version no longer matches it.
var ErrSpecChanged = errors.New("certificate changed during issuance")

// PendingNotification is a notification to record with the job that
// delivers it (nil Job for no_notifier records).
type PendingNotification struct {
	Notification core.Notification
	Job          *core.Job
}

// IssuanceCompletion is everything that changes when a version is issued.
type IssuanceCompletion struct {
	Version       core.CertificateVersion
	CSRPEM        string
	SealedKey     []byte
	SpecRevision  int64 // the declaration the version was issued for
	NextRenewal   time.Time
	Now           time.Time
	JobID         uuid.UUID
	Owner         string // the worker that must still hold the job
	DeployJobs    []core.Job
	Deployments   []core.Deployment
	Notifications []PendingNotification
	Audits        []core.AuditEvent
}

// CompleteIssuance stores a new version and everything that goes with it
// in one round trip of the caller's transaction: the version, the
// certificate pointing at it (only if its declaration is unchanged:
// ErrSpecChanged otherwise), earlier versions superseded (with their
// deployments not yet started, whose jobs are cancelled), the job finished
// (only if owner still holds it: ErrLeaseLost otherwise), deployments and
// their jobs, notifications and their delivery jobs (skipped when a
// notification with the same dedupe key exists), audit events.
func (q *Queries) CompleteIssuance(ctx context.Context, c IssuanceCompletion) error {
	return q.CompleteIssuances(ctx, []IssuanceCompletion{c})
}

// CompleteIssuances is CompleteIssuance for several issuances in one round
// trip (a group commit). Should any of them fail (ErrSpecChanged,
// ErrLeaseLost, ...), the error is returned and the caller must roll the
// transaction back: the others' statements ran too.
func (q *Queries) CompleteIssuances(ctx context.Context, cs []IssuanceCompletion) error {
	tx, ok := q.db.(interface {
		SendBatch(context.Context, *pgx.Batch) pgx.BatchResults
	})
	if !ok || !q.tx {
		return errors.New("store: CompleteIssuances needs a transaction")
	}
	b := &pgx.Batch{}
	for _, c := range cs {
		queueIssuance(b, c)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		if errors.Is(err, ErrSpecChanged) || errors.Is(err, ErrLeaseLost) {
			return err
		}
		return mapError(err, "issuance")
	}
	return nil
}

// queueIssuance queues the statements of one completion (CompleteIssuance).
func queueIssuance(b *pgx.Batch, c IssuanceCompletion) {
	v := c.Version
	b.Queue(`INSERT INTO certificate_versions (id, certificate_id, spec_revision, serial_number,
		fingerprint_sha256, subject, sans, not_before, not_after, certificate_pem, chain_pem, csr_pem, private_key_enc,
		renewal_window_start, renewal_window_end, issuer_id, job_id, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 'active', $18)`,
		v.ID, v.CertificateID, v.SpecRevision, v.SerialNumber, v.FingerprintSHA256, v.Subject, v.SANs, v.NotBefore,
		v.NotAfter, v.CertificatePEM, v.ChainPEM, c.CSRPEM, c.SealedKey, v.RenewalWindowStart, v.RenewalWindowEnd,
		v.IssuerID, v.JobID, c.Now)
	b.Queue(`UPDATE managed_certificates SET current_version_id = $2, not_after = $3, next_renewal_at = $4,
		status = 'active', last_error = '', expiry_alert_days = NULL, updated_at = $5
		WHERE id = $1 AND spec_revision = $6`, v.CertificateID, v.ID, v.NotAfter, c.NextRenewal, c.Now, c.SpecRevision).
		Exec(func(ct pgconn.CommandTag) error {
			if ct.RowsAffected() != 1 {
				return ErrSpecChanged
			}
			return nil
		})
	b.Queue(`UPDATE certificate_versions SET status = 'superseded'
		WHERE certificate_id = $1 AND status = 'active' AND id <> $2`, v.CertificateID, v.ID)
	// Deployments of earlier versions that have not started are superseded
	// and their jobs cancelled: delivering an older certificate after this
	// one would roll its targets back. One an agent is running is left to
	// report. The deployments go first, so that the cancelled jobs do not
	// mark them failed (migration 00005's trigger skips superseded ones).
	b.Queue(`UPDATE deployments SET status = 'superseded', message = 'superseded by a newer version', updated_at = $3
		WHERE certificate_id = $1 AND version_id <> $2 AND status = 'pending'`, v.CertificateID, v.ID, c.Now)
	b.Queue(`UPDATE jobs SET state = 'cancelled', last_error = 'superseded by a newer version', updated_at = $3,
		finished_at = $3, lease_owner = NULL, lease_expires_at = NULL
		WHERE certificate_id = $1 AND kind = 'deploy' AND state IN ('queued', 'waiting', 'retrying')
		AND (payload->>'version_id')::uuid IS DISTINCT FROM $2`, v.CertificateID, v.ID, c.Now)
	// A pending order's sealed key (core.JobPayload.SealedKey) now lives
	// with the version: the job keeps no copy.
	b.Queue(`UPDATE jobs SET state = 'succeeded', last_error = '', updated_at = $3, finished_at = $3,
		payload = payload - 'sealed_key',
		lease_owner = NULL, lease_expires_at = NULL WHERE id = $1 AND lease_owner = $2 AND state = 'running'`,
		c.JobID, c.Owner, c.Now).Exec(func(ct pgconn.CommandTag) error {
		if ct.RowsAffected() != 1 {
			return ErrLeaseLost
		}
		return nil
	})
	// The job's HTTP-01 challenges, if it presented any, end with it.
	b.Queue(endChallengesSQL, c.JobID, c.Now)
	for _, j := range c.DeployJobs {
		queueJob(b, j)
	}
	for _, d := range c.Deployments {
		b.Queue(`INSERT INTO deployments (id, certificate_id, version_id, target_id, agent_id, job_id, status,
			created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (version_id, target_id) DO NOTHING`,
			d.ID, d.CertificateID, d.VersionID, d.TargetID, d.AgentID, d.JobID, d.Status, d.CreatedAt)
	}
	for _, pn := range c.Notifications {
		queueNotification(b, pn)
	}
	for _, e := range c.Audits {
		queueAudit(b, e)
	}
}

func queueJob(b *pgx.Batch, j core.Job) {
	b.Queue(`INSERT INTO jobs (id, kind, state, certificate_id, target_id, agent_id, payload, attempt,
		max_attempts, run_at, last_error, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, '', $10, $10) ON CONFLICT DO NOTHING`,
		j.ID, j.Kind, j.State, j.CertificateID, j.TargetID, j.AgentID, j.Payload, j.MaxAttempts, j.RunAt, j.CreatedAt)
}

// queueNotification inserts a notification and, only if it was new, its
// delivery job and that job's audit event.
func queueNotification(b *pgx.Batch, pn PendingNotification) {
	n := pn.Notification
	if pn.Job == nil {
		b.Queue(`INSERT INTO notifications (id, event, notifier_id, rule_id, certificate_id, agent_id, dedupe_key, status,
			attempts, next_attempt_at, last_error, payload, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11, $12, $12) ON CONFLICT (dedupe_key) DO NOTHING`,
			n.ID, n.Event, n.NotifierID, n.RuleID, n.CertificateID, n.AgentID, n.DedupeKey, n.Status, n.NextAttemptAt,
			n.LastError, n.Payload, n.CreatedAt)
		return
	}
	j := *pn.Job
	b.Queue(`WITH n AS (INSERT INTO notifications (id, event, notifier_id, rule_id, certificate_id, agent_id, dedupe_key,
			status, attempts, next_attempt_at, last_error, payload, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11, $12, $12) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id)
		, j AS (INSERT INTO jobs (id, kind, state, certificate_id, payload, attempt, max_attempts, run_at, last_error,
			created_at, updated_at)
			SELECT $13, 'notify', 'queued', $5, $14, 0, $15, $12, '', $12, $12 FROM n RETURNING id)
		INSERT INTO audit_events (id, occurred_at, actor, actor_type, actor_name, action, resource_type, resource_id,
			outcome, details)
		SELECT $16, $12, 'system', 'system', 'certctl-server', 'job.created', 'job', j.id::text, 'success',
			jsonb_build_object('kind', 'notify', 'state', 'queued', 'trigger', $2::text, 'certificate_id', $5::uuid) FROM j`,
		n.ID, n.Event, n.NotifierID, n.RuleID, n.CertificateID, n.AgentID, n.DedupeKey, n.Status, n.NextAttemptAt,
		n.LastError, n.Payload, n.CreatedAt, j.ID, j.Payload, j.MaxAttempts, uuid.Must(uuid.NewV7()))
}

func queueAudit(b *pgx.Batch, e core.AuditEvent) {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	b.Queue(`INSERT INTO audit_events (id, occurred_at, actor, actor_type, actor_name, action, resource_type, resource_id,
		outcome, request_id, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		e.ID, e.OccurredAt, e.Actor, e.ActorType, e.ActorName, e.Action, e.ResourceType, e.ResourceID, e.Outcome,
		e.RequestID, e.Details)
}
