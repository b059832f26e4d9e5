package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/server/core"
)

const certificateColumns = `c.id, c.name, c.common_name, c.sans, c.issuer_id,
	COALESCE((SELECT array_agg(ct.target_id ORDER BY ct.target_id) FROM certificate_targets ct WHERE ct.certificate_id = c.id), '{}'),
	c.key_type, c.key_mode, c.renewal_policy_id, c.status, c.last_error, c.labels, c.current_version_id, c.not_after,
	c.next_renewal_at, c.spec_revision, c.created_at, c.updated_at, c.deploy_total, c.deploy_pending,
	c.deploy_in_progress, c.deploy_succeeded, c.deploy_failed, c.deploy_last_error, c.deploy_last_error_at, c.profile`

func scanCertificate(row pgx.Row) (core.Certificate, error) {
	var c core.Certificate
	h := &c.DeploymentHealth
	err := row.Scan(&c.ID, &c.Name, &c.CommonName, &c.SANs, &c.IssuerID, &c.TargetIDs, &c.KeyType, &c.KeyMode,
		&c.RenewalPolicyID, &c.Status, &c.LastError, &c.Labels, &c.CurrentVersionID, &c.NotAfter, &c.NextRenewalAt,
		&c.SpecRevision, &c.CreatedAt, &c.UpdatedAt, &h.Total, &h.Pending, &h.InProgress, &h.Succeeded, &h.Failed,
		&h.LastError, &h.LastErrorAt, &c.Profile)
	return c, err
}

// deploymentHealthConditions are the list filters on deployment health.
// Each repeats the predicate of its partial index (migration 00005) word
// for word, so that a filtered page is a range scan of that index in id
// order however many certificates there are.
var deploymentHealthConditions = map[string]string{
	core.HealthFailed:    "c.deploy_failed > 0",
	core.HealthPending:   "c.deploy_pending + c.deploy_in_progress > 0",
	core.HealthSucceeded: "c.deploy_total > 0 AND c.deploy_succeeded = c.deploy_total",
}

// CreateCertificate inserts a managed certificate and its target bindings.
func (q *Queries) CreateCertificate(ctx context.Context, c core.Certificate) error {
	_, err := q.db.Exec(ctx, `INSERT INTO managed_certificates (id, name, common_name, sans, issuer_id, key_type,
		key_mode, renewal_policy_id, status, labels, spec_revision, created_at, updated_at, profile)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		c.ID, c.Name, c.CommonName, c.SANs, c.IssuerID, c.KeyType, c.KeyMode, c.RenewalPolicyID, c.Status,
		c.Labels, c.SpecRevision, c.CreatedAt, c.UpdatedAt, c.Profile)
	if err != nil {
		return mapError(err, "certificate")
	}
	if len(c.TargetIDs) == 0 {
		return nil // a new certificate has no targets to remove either
	}
	return q.setCertificateTargets(ctx, c.ID, c.TargetIDs)
}

func (q *Queries) setCertificateTargets(ctx context.Context, id uuid.UUID, targets []uuid.UUID) error {
	if _, err := q.db.Exec(ctx, `DELETE FROM certificate_targets WHERE certificate_id = $1 AND NOT (target_id = ANY($2))`,
		id, targets); err != nil {
		return mapError(err, "certificate targets")
	}
	_, err := q.db.Exec(ctx, `INSERT INTO certificate_targets (certificate_id, target_id)
		SELECT $1, t FROM unnest($2::uuid[]) AS t ON CONFLICT DO NOTHING`, id, targets)
	return mapError(err, "certificate targets")
}

// GetCertificate returns the managed certificate with id.
func (q *Queries) GetCertificate(ctx context.Context, id uuid.UUID) (core.Certificate, error) {
	c, err := scanCertificate(q.db.QueryRow(ctx, `SELECT `+certificateColumns+` FROM managed_certificates c WHERE c.id = $1`, id))
	return c, mapError(err, "certificate")
}

// GetCertificateForUpdate returns the certificate with id, locked until the
// end of the transaction.
func (q *Queries) GetCertificateForUpdate(ctx context.Context, id uuid.UUID) (core.Certificate, error) {
	c, err := scanCertificate(q.db.QueryRow(ctx, `SELECT `+certificateColumns+` FROM managed_certificates c WHERE c.id = $1 FOR UPDATE OF c`, id))
	return c, mapError(err, "certificate")
}

// ListCertificates returns a page of managed certificates and whether more follow.
func (q *Queries) ListCertificates(ctx context.Context, f core.CertificateFilter) ([]core.Certificate, bool, error) {
	var w where
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
	if f.DeploymentHealth != "" {
		cond, ok := deploymentHealthConditions[f.DeploymentHealth]
		if !ok {
			return nil, false, core.Invalid("deployment_health", "must be one of failed, pending, succeeded")
		}
		w.clauses = append(w.clauses, "("+cond+")")
	}
	page := pageClause(&w, f.Page, false)
	rows, err := q.db.Query(ctx, `SELECT `+certificateColumns+` FROM managed_certificates c`+page, w.args...)
	if err != nil {
		return nil, false, mapError(err, "certificates")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Certificate, error) { return scanCertificate(r) })
	if err != nil {
		return nil, false, mapError(err, "certificates")
	}
	items, more := trimPage(items, f.Page)
	return items, more, nil
}

// UpdateCertificate writes a certificate's declared fields and bindings.
func (q *Queries) UpdateCertificate(ctx context.Context, c core.Certificate) error {
	tag, err := q.db.Exec(ctx, `UPDATE managed_certificates SET name = $2, common_name = $3, sans = $4,
		issuer_id = $5, key_type = $6, key_mode = $7, renewal_policy_id = $8, labels = $9, spec_revision = $10,
		status = $11, updated_at = $12, profile = $13 WHERE id = $1`,
		c.ID, c.Name, c.CommonName, c.SANs, c.IssuerID, c.KeyType, c.KeyMode, c.RenewalPolicyID, c.Labels,
		c.SpecRevision, c.Status, c.UpdatedAt, c.Profile)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	if err != nil {
		return mapError(err, "certificate")
	}
	return q.setCertificateTargets(ctx, c.ID, c.TargetIDs)
}

// DeleteCertificate deletes a managed certificate with its versions and
// deployments.
func (q *Queries) DeleteCertificate(ctx context.Context, id uuid.UUID) error {
	tag, err := q.db.Exec(ctx, `DELETE FROM managed_certificates WHERE id = $1`, id)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return mapError(err, "certificate")
}

const versionColumns = `id, certificate_id, spec_revision, serial_number, fingerprint_sha256, subject, sans,
	not_before, not_after, certificate_pem, chain_pem, issuer_id, job_id, status, revoked_at,
	COALESCE(revocation_reason, ''), created_at, renewal_window_start, renewal_window_end, private_key_enc IS NOT NULL`

func scanVersion(row pgx.Row) (core.CertificateVersion, error) {
	var v core.CertificateVersion
	err := row.Scan(&v.ID, &v.CertificateID, &v.SpecRevision, &v.SerialNumber, &v.FingerprintSHA256, &v.Subject,
		&v.SANs, &v.NotBefore, &v.NotAfter, &v.CertificatePEM, &v.ChainPEM, &v.IssuerID, &v.JobID, &v.Status,
		&v.RevokedAt, &v.RevocationReason, &v.CreatedAt, &v.RenewalWindowStart, &v.RenewalWindowEnd, &v.HasPrivateKey)
	return v, err
}

// ListVersions returns a page of a certificate's versions, newest first.
func (q *Queries) ListVersions(ctx context.Context, certificateID uuid.UUID, p core.Page) ([]core.CertificateVersion, bool, error) {
	var w where
	w.add("certificate_id = ?", certificateID)
	rows, err := q.db.Query(ctx, `SELECT `+versionColumns+` FROM certificate_versions`+pageClause(&w, p, true), w.args...)
	if err != nil {
		return nil, false, mapError(err, "certificate versions")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.CertificateVersion, error) { return scanVersion(r) })
	if err != nil {
		return nil, false, mapError(err, "certificate versions")
	}
	items, more := trimPage(items, p)
	return items, more, nil
}

// GetVersion returns one version of a certificate.
func (q *Queries) GetVersion(ctx context.Context, certificateID, id uuid.UUID) (core.CertificateVersion, error) {
	v, err := scanVersion(q.db.QueryRow(ctx, `SELECT `+versionColumns+` FROM certificate_versions
		WHERE certificate_id = $1 AND id = $2`, certificateID, id))
	return v, mapError(err, "certificate version")
}

// CreateVersion stores an issued certificate version, with its private key
// sealed when the server holds it (nil otherwise).
func (q *Queries) CreateVersion(ctx context.Context, v core.CertificateVersion, csrPEM string, sealedKey []byte) error {
	_, err := q.db.Exec(ctx, `INSERT INTO certificate_versions (id, certificate_id, spec_revision, serial_number,
		fingerprint_sha256, subject, sans, not_before, not_after, certificate_pem, chain_pem, csr_pem, private_key_enc,
		renewal_window_start, renewal_window_end, issuer_id, job_id, status, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		v.ID, v.CertificateID, v.SpecRevision, v.SerialNumber, v.FingerprintSHA256, v.Subject, v.SANs, v.NotBefore,
		v.NotAfter, v.CertificatePEM, v.ChainPEM, csrPEM, sealedKey, v.RenewalWindowStart, v.RenewalWindowEnd,
		v.IssuerID, v.JobID, v.Status, v.CreatedAt)
	return mapError(err, "certificate version")
}

// VersionPrivateKey returns a version's sealed private key, or nil.
func (q *Queries) VersionPrivateKey(ctx context.Context, id uuid.UUID) ([]byte, error) {
	var key []byte
	err := q.db.QueryRow(ctx, `SELECT private_key_enc FROM certificate_versions WHERE id = $1`, id).Scan(&key)
	return key, mapError(err, "certificate version")
}

// MakeVersionCurrent makes a new version the certificate's current one:
// earlier active versions become superseded and the certificate is active
// with the new expiry and renewal time.
func (q *Queries) MakeVersionCurrent(ctx context.Context, certID, versionID uuid.UUID, notAfter, nextRenewal, now time.Time) error {
	if _, err := q.db.Exec(ctx, `UPDATE certificate_versions SET status = 'superseded'
		WHERE certificate_id = $1 AND status = 'active' AND id <> $2`, certID, versionID); err != nil {
		return mapError(err, "certificate versions")
	}
	_, err := q.db.Exec(ctx, `UPDATE managed_certificates SET current_version_id = $2, not_after = $3,
		next_renewal_at = $4, status = 'active', last_error = '', expiry_alert_days = NULL, updated_at = $5 WHERE id = $1`,
		certID, versionID, notAfter, nextRenewal, now)
	return mapError(err, "certificate")
}

// SetCertificateStatus records a certificate's status, last error and next
// renewal time (nil leaves it unscheduled).
func (q *Queries) SetCertificateStatus(ctx context.Context, id uuid.UUID, status, lastError string, nextRenewal *time.Time, now time.Time) error {
	_, err := q.db.Exec(ctx, `UPDATE managed_certificates SET status = $2, last_error = $3, next_renewal_at = $4,
		updated_at = $5 WHERE id = $1`, id, status, lastError, nextRenewal, now)
	return mapError(err, "certificate")
}

// CreateDeployment records that a version is to be delivered to a target.
func (q *Queries) CreateDeployment(ctx context.Context, d core.Deployment) error {
	_, err := q.db.Exec(ctx, `INSERT INTO deployments (id, certificate_id, version_id, target_id, agent_id, job_id, status,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (version_id, target_id) DO NOTHING`,
		d.ID, d.CertificateID, d.VersionID, d.TargetID, d.AgentID, d.JobID, d.Status, d.CreatedAt)
	return mapError(err, "deployment")
}

const deploymentColumns = `id, certificate_id, version_id, target_id, agent_id, job_id, status, message, metadata,
	verified_at, created_at, updated_at, completed_at`

func scanDeployment(row pgx.Row) (core.Deployment, error) {
	var d core.Deployment
	err := row.Scan(&d.ID, &d.CertificateID, &d.VersionID, &d.TargetID, &d.AgentID, &d.JobID, &d.Status, &d.Message,
		&d.Metadata, &d.VerifiedAt, &d.CreatedAt, &d.UpdatedAt, &d.CompletedAt)
	return d, err
}

// ListDeployments returns a page of a certificate's deployments, newest first.
func (q *Queries) ListDeployments(ctx context.Context, certificateID uuid.UUID, p core.Page) ([]core.Deployment, bool, error) {
	var w where
	w.add("certificate_id = ?", certificateID)
	rows, err := q.db.Query(ctx, `SELECT `+deploymentColumns+` FROM deployments`+pageClause(&w, p, true), w.args...)
	if err != nil {
		return nil, false, mapError(err, "deployments")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Deployment, error) { return scanDeployment(r) })
	if err != nil {
		return nil, false, mapError(err, "deployments")
	}
	items, more := trimPage(items, p)
	return items, more, nil
}

// CertificateExists reports whether a certificate with id exists.
func (q *Queries) CertificateExists(ctx context.Context, id uuid.UUID) (bool, error) {
	var ok bool
	err := q.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM managed_certificates WHERE id = $1)`, id).Scan(&ok)
	return ok, mapError(err, "certificate")
}

// escapeLike escapes LIKE wildcards in a literal prefix.
func escapeLike(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' || s[i] == '_' || s[i] == '\\' {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// RenewalPolicyExists reports whether a renewal policy with id exists.
func (q *Queries) RenewalPolicyExists(ctx context.Context, id uuid.UUID) (bool, error) {
	var ok bool
	err := q.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM renewal_policies WHERE id = $1)`, id).Scan(&ok)
	return ok, mapError(err, "renewal policy")
}
