package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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
// trip (a group commit). Each statement acts on the whole group at once
// (its rows passed as arrays and unnested), so a group of n costs the
// database about as many statements as one issuance, not n times as many:
// each statement's own overhead (its protocol messages, executor start,
// snapshot) was a large share of an issuance's database time. Should any
// of them fail (ErrSpecChanged, ErrLeaseLost, ...), the error is returned
// and the caller must roll the transaction back: the others' rows were
// written too. Which error a group gets is the first statement's that
// failed, so the caller redoes a failed group one by one to learn each
// issuance's own outcome.
func (q *Queries) CompleteIssuances(ctx context.Context, cs []IssuanceCompletion) error {
	tx, ok := q.db.(interface {
		SendBatch(context.Context, *pgx.Batch) pgx.BatchResults
	})
	if !ok || !q.tx {
		return errors.New("store: CompleteIssuances needs a transaction")
	}
	if len(cs) == 0 {
		return nil
	}
	b, err := queueIssuances(cs)
	if err != nil {
		return err
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		if errors.Is(err, ErrSpecChanged) || errors.Is(err, ErrLeaseLost) {
			return err
		}
		return mapError(err, "issuance")
	}
	return nil
}

// expectRows makes a queued statement fail with err unless it changed n rows.
func expectRows(n int, err error) func(pgconn.CommandTag) error {
	return func(ct pgconn.CommandTag) error {
		if ct.RowsAffected() != int64(n) {
			return err
		}
		return nil
	}
}

// queueIssuances queues the statements of a group of completions, each
// over the whole group, in the order one completion needs them: the
// versions before the certificates that point at them, deployments
// superseded before their jobs are cancelled, jobs before the deployments
// that name them.
//
// Each statement that joins a table to the unnested rows also names the
// rows' keys with = ANY: a prepared statement's generic plan cannot see
// how many rows an unnest gives and guesses 100, and without the ANY it
// would scan every pending deployment or live deploy job for a group
// (EXPLAIN showed bitmap scans of deployments_agent_pending and of all
// live jobs); with it the certificate's and the job's own indexes serve.
func queueIssuances(cs []IssuanceCompletion) (*pgx.Batch, error) {
	n := len(cs)
	var (
		vID, vCert, vSerial, vFP, vSubject, vSANs, vCertPEM, vChain, vCSR = make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n),
			make([]string, n), make([]string, n)
		vSpec                              = make([]int64, n)
		vNotBefore, vNotAfter, vNow, vNext = make([]time.Time, n), make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
		vWinStart, vWinEnd                 = make([]*time.Time, n), make([]*time.Time, n)
		vKey                               = make([][]byte, n)
		vIssuer, vJob                      = make([]*string, n), make([]*string, n)
		cSpec                              = make([]int64, n)
		jobID, owner                       = make([]string, n), make([]string, n)
		jobs                               []core.Job
		deps                               []core.Deployment
		audits                             []core.AuditEvent
		plainNotes                         []core.Notification
		jobNotes                           []PendingNotification
	)
	for i, c := range cs {
		v := c.Version
		vID[i], vCert[i], vSpec[i], vSerial[i], vFP[i], vSubject[i] = v.ID.String(), v.CertificateID.String(),
			v.SpecRevision, v.SerialNumber, v.FingerprintSHA256, v.Subject
		vSANs[i] = arrayLiteral(v.SANs)
		vNotBefore[i], vNotAfter[i], vCertPEM[i], vChain[i], vCSR[i], vKey[i] = v.NotBefore, v.NotAfter,
			v.CertificatePEM, v.ChainPEM, c.CSRPEM, c.SealedKey
		vWinStart[i], vWinEnd[i], vIssuer[i], vJob[i] = v.RenewalWindowStart, v.RenewalWindowEnd, uuidText(v.IssuerID),
			uuidText(v.JobID)
		vNow[i], vNext[i], cSpec[i] = c.Now, c.NextRenewal, c.SpecRevision
		jobID[i], owner[i] = c.JobID.String(), c.Owner
		jobs = append(jobs, c.DeployJobs...)
		deps = append(deps, c.Deployments...)
		audits = append(audits, c.Audits...)
		for _, pn := range c.Notifications {
			if pn.Job == nil {
				plainNotes = append(plainNotes, pn.Notification)
			} else {
				jobNotes = append(jobNotes, pn)
			}
		}
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO certificate_versions (id, certificate_id, spec_revision, serial_number,
		fingerprint_sha256, subject, sans, not_before, not_after, certificate_pem, chain_pem, csr_pem, private_key_enc,
		renewal_window_start, renewal_window_end, issuer_id, job_id, status, created_at)
		SELECT id, certificate_id, spec_revision, serial_number, fingerprint_sha256, subject, sans::text[], not_before,
			not_after, certificate_pem, chain_pem, csr_pem, private_key_enc, renewal_window_start, renewal_window_end,
			issuer_id, job_id, 'active', created_at
		FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::timestamptz[], $9::timestamptz[], $10::text[], $11::text[], $12::text[], $13::bytea[],
			$14::timestamptz[], $15::timestamptz[], $16::uuid[], $17::uuid[], $18::timestamptz[])
			AS v(id, certificate_id, spec_revision, serial_number, fingerprint_sha256, subject, sans, not_before,
			not_after, certificate_pem, chain_pem, csr_pem, private_key_enc, renewal_window_start, renewal_window_end,
			issuer_id, job_id, created_at)`,
		vID, vCert, vSpec, vSerial, vFP, vSubject, vSANs, vNotBefore, vNotAfter, vCertPEM, vChain, vCSR, vKey,
		vWinStart, vWinEnd, vIssuer, vJob, vNow)
	// Only while the declaration is the one the version was issued for.
	// A certificate twice in a group (one job twice) is updated once: it
	// fails below, at the job, as the lease it is.
	certs := map[string]bool{}
	for _, c := range vCert {
		certs[c] = true
	}
	b.Queue(`UPDATE managed_certificates c SET current_version_id = v.id, not_after = v.not_after,
		next_renewal_at = v.next_renewal, status = 'active', last_error = '', expiry_alert_days = NULL, updated_at = v.now
		FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[], $6::bigint[])
			AS v(certificate_id, id, not_after, next_renewal, now, spec_revision)
		WHERE c.id = ANY($1) AND c.id = v.certificate_id AND c.spec_revision = v.spec_revision`,
		vCert, vID, vNotAfter, vNext, vNow, cSpec).Exec(expectRows(len(certs), ErrSpecChanged))
	// No certificate's new version is another's old one, so "not one of
	// the new versions" is "not this certificate's new version".
	b.Queue(`UPDATE certificate_versions SET status = 'superseded'
		WHERE certificate_id = ANY($1::uuid[]) AND status = 'active' AND NOT id = ANY($2::uuid[])`, vCert, vID)
	// Deployments of earlier versions that have not started are superseded
	// and their jobs cancelled: delivering an older certificate after this
	// one would roll its targets back. One an agent is running is left to
	// report. The deployments go first, so that the cancelled jobs do not
	// mark them failed (migration 00005's trigger skips superseded ones).
	b.Queue(`UPDATE deployments d SET status = 'superseded', message = 'superseded by a newer version', updated_at = v.now
		FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS v(certificate_id, id, now)
		WHERE d.certificate_id = ANY($1) AND d.certificate_id = v.certificate_id AND d.version_id <> v.id
		AND d.status = 'pending'`, vCert, vID, vNow)
	b.Queue(`UPDATE jobs j SET state = 'cancelled', last_error = 'superseded by a newer version', updated_at = v.now,
		finished_at = v.now, lease_owner = NULL, lease_expires_at = NULL
		FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS v(certificate_id, id, now)
		WHERE j.certificate_id = ANY($1) AND j.certificate_id = v.certificate_id AND j.kind = 'deploy'
		AND j.state IN ('queued', 'waiting', 'retrying')
		AND (j.payload->>'version_id')::uuid IS DISTINCT FROM v.id`, vCert, vID, vNow)
	// A pending order's sealed key (core.JobPayload.SealedKey) now lives
	// with the version: the job keeps no copy. Only while the worker still
	// holds the job.
	b.Queue(`UPDATE jobs j SET state = 'succeeded', last_error = '', updated_at = v.now, finished_at = v.now,
		payload = j.payload - 'sealed_key', lease_owner = NULL, lease_expires_at = NULL
		FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS v(id, owner, now)
		WHERE j.id = ANY($1) AND j.id = v.id AND j.lease_owner = v.owner AND j.state = 'running'`,
		jobID, owner, vNow).Exec(expectRows(n, ErrLeaseLost))
	// The jobs' HTTP-01 challenges, if they presented any, end with them.
	b.Queue(`WITH v AS (SELECT * FROM unnest($1::uuid[], $2::timestamptz[]) AS v(job_id, now)),
		gone AS (DELETE FROM http01_challenges h USING v WHERE h.job_id = v.job_id AND h.agent_id IS NULL)
		UPDATE http01_challenges h SET state = 'cleanup', updated_at = v.now FROM v
		WHERE h.job_id = v.job_id AND h.agent_id IS NOT NULL AND h.state <> 'cleanup'`, jobID, vNow)
	if len(jobs) > 0 {
		if err := queueJobs(b, jobs); err != nil {
			return nil, err
		}
	}
	if len(deps) > 0 {
		queueDeployments(b, deps)
	}
	if len(plainNotes) > 0 {
		if err := queuePlainNotifications(b, plainNotes); err != nil {
			return nil, err
		}
	}
	for _, pn := range jobNotes {
		queueNotification(b, pn)
	}
	if len(audits) > 0 {
		if err := queueAudits(b, audits); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// queueJobs inserts jobs (skipping any that exists) in one statement.
func queueJobs(b *pgx.Batch, js []core.Job) error {
	n := len(js)
	id, kind, state, payload := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	cert, target, agent := make([]*string, n), make([]*string, n), make([]*string, n)
	maxAttempts := make([]int32, n)
	runAt, created := make([]time.Time, n), make([]time.Time, n)
	for i, j := range js {
		p, err := json.Marshal(j.Payload)
		if err != nil {
			return fmt.Errorf("encode the payload of job %s: %w", j.ID, err)
		}
		id[i], kind[i], state[i], payload[i] = j.ID.String(), j.Kind, j.State, string(p)
		cert[i], target[i], agent[i] = uuidText(j.CertificateID), uuidText(j.TargetID), uuidText(j.AgentID)
		maxAttempts[i], runAt[i], created[i] = int32(j.MaxAttempts), j.RunAt, j.CreatedAt
	}
	b.Queue(`INSERT INTO jobs (id, kind, state, certificate_id, target_id, agent_id, payload, attempt,
		max_attempts, run_at, last_error, created_at, updated_at)
		SELECT id, kind, state, certificate_id, target_id, agent_id, payload::jsonb, 0, max_attempts, run_at, '',
			created_at, created_at
		FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::uuid[], $7::text[], $8::int[],
			$9::timestamptz[], $10::timestamptz[])
			AS j(id, kind, state, certificate_id, target_id, agent_id, payload, max_attempts, run_at, created_at)
		ON CONFLICT DO NOTHING`, id, kind, state, cert, target, agent, payload, maxAttempts, runAt, created)
	return nil
}

// queueDeployments inserts deployments (skipping a version's target that
// has one) in one statement.
func queueDeployments(b *pgx.Batch, ds []core.Deployment) {
	n := len(ds)
	id, cert, version, target, status := make([]string, n), make([]string, n), make([]string, n), make([]string, n),
		make([]string, n)
	agent, job := make([]*string, n), make([]*string, n)
	created := make([]time.Time, n)
	for i, d := range ds {
		id[i], cert[i], version[i], target[i], status[i] = d.ID.String(), d.CertificateID.String(), d.VersionID.String(),
			d.TargetID.String(), d.Status
		agent[i], job[i], created[i] = uuidText(d.AgentID), uuidText(d.JobID), d.CreatedAt
	}
	b.Queue(`INSERT INTO deployments (id, certificate_id, version_id, target_id, agent_id, job_id, status,
		created_at, updated_at)
		SELECT id, certificate_id, version_id, target_id, agent_id, job_id, status, created_at, created_at
		FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[], $7::text[], $8::timestamptz[])
			AS d(id, certificate_id, version_id, target_id, agent_id, job_id, status, created_at)
		ON CONFLICT (version_id, target_id) DO NOTHING`, id, cert, version, target, agent, job, status, created)
}

// queuePlainNotifications inserts notifications that have no delivery job
// (no_notifier records), skipping those whose dedupe key exists.
func queuePlainNotifications(b *pgx.Batch, ns []core.Notification) error {
	n := len(ns)
	id, event, dedupe, status, lastErr, payload := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n)
	notifier, rule, cert, agent := make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n)
	next := make([]*time.Time, n)
	created := make([]time.Time, n)
	for i, x := range ns {
		p, err := json.Marshal(jsonObject(x.Payload))
		if err != nil {
			return fmt.Errorf("encode the payload of notification %s: %w", x.ID, err)
		}
		id[i], event[i], dedupe[i], status[i], lastErr[i], payload[i] = x.ID.String(), x.Event, x.DedupeKey, x.Status,
			x.LastError, string(p)
		notifier[i], rule[i], cert[i], agent[i] = uuidText(x.NotifierID), uuidText(x.RuleID), uuidText(x.CertificateID),
			uuidText(x.AgentID)
		next[i], created[i] = x.NextAttemptAt, x.CreatedAt
	}
	b.Queue(`INSERT INTO notifications (id, event, notifier_id, rule_id, certificate_id, agent_id, dedupe_key, status,
		attempts, next_attempt_at, last_error, payload, created_at, updated_at)
		SELECT id, event, notifier_id, rule_id, certificate_id, agent_id, dedupe_key, status, 0, next_attempt_at,
			last_error, payload::jsonb, created_at, created_at
		FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[], $7::text[], $8::text[],
			$9::timestamptz[], $10::text[], $11::text[], $12::timestamptz[])
			AS n(id, event, notifier_id, rule_id, certificate_id, agent_id, dedupe_key, status, next_attempt_at,
			last_error, payload, created_at)
		ON CONFLICT (dedupe_key) DO NOTHING`,
		id, event, notifier, rule, cert, agent, dedupe, status, next, lastErr, payload, created)
	return nil
}

// queueAudits appends audit events in one statement.
func queueAudits(b *pgx.Batch, es []core.AuditEvent) error {
	n := len(es)
	id, actor, actorType, actorName, action, resType, resID, outcome, reqID, details := make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n)
	at := make([]time.Time, n)
	for i, e := range es {
		d, err := json.Marshal(jsonObject(e.Details))
		if err != nil {
			return fmt.Errorf("encode the details of audit event %s: %w", e.ID, err)
		}
		id[i], at[i], actor[i], actorType[i], actorName[i], action[i] = e.ID.String(), e.OccurredAt, e.Actor, e.ActorType,
			e.ActorName, e.Action
		resType[i], resID[i], outcome[i], reqID[i], details[i] = e.ResourceType, e.ResourceID, e.Outcome, e.RequestID,
			string(d)
	}
	b.Queue(`INSERT INTO audit_events (id, occurred_at, actor, actor_type, actor_name, action, resource_type, resource_id,
		outcome, request_id, details)
		SELECT id, occurred_at, actor, actor_type, actor_name, action, resource_type, resource_id, outcome, request_id,
			details::jsonb
		FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
			$9::text[], $10::text[], $11::text[])
			AS e(id, occurred_at, actor, actor_type, actor_name, action, resource_type, resource_id, outcome, request_id,
			details)`,
		id, at, actor, actorType, actorName, action, resType, resID, outcome, reqID, details)
	return nil
}

// jsonObject is m, or an empty object for nil (the columns are NOT NULL
// objects).
func jsonObject(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// uuidText is u as text for a uuid[] parameter, nil (NULL) for nil.
func uuidText(u *uuid.UUID) *string {
	if u == nil {
		return nil
	}
	s := u.String()
	return &s
}

// arrayLiteral writes ss as a PostgreSQL array literal ({"a","b"}), to
// pass a text[] per row through one text[] parameter (an array of arrays
// must be rectangular in PostgreSQL).
func arrayLiteral(ss []string) string {
	var sb strings.Builder
	sb.WriteByte('{')
	for i, s := range ss {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('"')
		for _, r := range s {
			if r == '"' || r == '\\' {
				sb.WriteByte('\\')
			}
			sb.WriteRune(r)
		}
		sb.WriteByte('"')
	}
	sb.WriteByte('}')
	return sb.String()
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
