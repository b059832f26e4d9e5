package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/server/core"
)

const ruleColumns = `id, name, notifier_id, events, expiry_days, certificate_labels, enabled, created_at, updated_at`

func scanRule(row pgx.Row) (core.NotificationRule, error) {
	var r core.NotificationRule
	err := row.Scan(&r.ID, &r.Name, &r.NotifierID, &r.Events, &r.ExpiryDays, &r.CertificateLabels, &r.Enabled,
		&r.CreatedAt, &r.UpdatedAt)
	return r, err
}

// CreateRule inserts a notification rule.
func (q *Queries) CreateRule(ctx context.Context, r core.NotificationRule) error {
	_, err := q.db.Exec(ctx, `INSERT INTO notification_rules (id, name, notifier_id, events, expiry_days,
		certificate_labels, enabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
		r.ID, r.Name, r.NotifierID, r.Events, r.ExpiryDays, r.CertificateLabels, r.Enabled, r.CreatedAt)
	return mapError(err, "notification rule")
}

// UpdateRule writes a notification rule.
func (q *Queries) UpdateRule(ctx context.Context, r core.NotificationRule) error {
	tag, err := q.db.Exec(ctx, `UPDATE notification_rules SET name = $2, notifier_id = $3, events = $4, expiry_days = $5,
		certificate_labels = $6, enabled = $7, updated_at = $8 WHERE id = $1`,
		r.ID, r.Name, r.NotifierID, r.Events, r.ExpiryDays, r.CertificateLabels, r.Enabled, r.UpdatedAt)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return mapError(err, "notification rule")
}

// GetRule returns a notification rule.
func (q *Queries) GetRule(ctx context.Context, id uuid.UUID) (core.NotificationRule, error) {
	r, err := scanRule(q.db.QueryRow(ctx, `SELECT `+ruleColumns+` FROM notification_rules WHERE id = $1`, id))
	return r, mapError(err, "notification rule")
}

// ListRules returns a page of notification rules.
func (q *Queries) ListRules(ctx context.Context, p core.Page) ([]core.NotificationRule, bool, error) {
	var w where
	rows, err := q.db.Query(ctx, `SELECT `+ruleColumns+` FROM notification_rules`+pageClause(&w, p, false), w.args...)
	if err != nil {
		return nil, false, mapError(err, "notification rules")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.NotificationRule, error) { return scanRule(r) })
	if err != nil {
		return nil, false, mapError(err, "notification rules")
	}
	items, more := trimPage(items, p)
	return items, more, nil
}

// DeleteRule deletes a notification rule.
func (q *Queries) DeleteRule(ctx context.Context, id uuid.UUID) error {
	tag, err := q.db.Exec(ctx, `DELETE FROM notification_rules WHERE id = $1`, id)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return mapError(err, "notification rule")
}

// ActiveRule is an enabled rule whose notifier is enabled.
type ActiveRule struct {
	core.NotificationRule
	NotifierType string
}

// ActiveRules returns the enabled rules of enabled notifiers. Rules are
// few; the caller matches events against them.
func (q *Queries) ActiveRules(ctx context.Context) ([]ActiveRule, error) {
	rows, err := q.db.Query(ctx, `SELECT r.id, r.name, r.notifier_id, r.events, r.expiry_days, r.certificate_labels,
		r.enabled, r.created_at, r.updated_at, n.type
		FROM notification_rules r JOIN notifiers n ON n.id = r.notifier_id WHERE r.enabled AND n.enabled ORDER BY r.id`)
	if err != nil {
		return nil, mapError(err, "notification rules")
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ActiveRule, error) {
		var a ActiveRule
		err := row.Scan(&a.ID, &a.Name, &a.NotifierID, &a.Events, &a.ExpiryDays, &a.CertificateLabels, &a.Enabled,
			&a.CreatedAt, &a.UpdatedAt, &a.NotifierType)
		return a, err
	})
	return out, mapError(err, "notification rules")
}

const notificationColumns = `id, event, notifier_id, rule_id, certificate_id, agent_id, dedupe_key, status, attempts,
	next_attempt_at, COALESCE(last_error, ''), payload, created_at, updated_at, sent_at`

func scanNotification(row pgx.Row) (core.Notification, error) {
	var n core.Notification
	err := row.Scan(&n.ID, &n.Event, &n.NotifierID, &n.RuleID, &n.CertificateID, &n.AgentID, &n.DedupeKey, &n.Status,
		&n.Attempts, &n.NextAttemptAt, &n.LastError, &n.Payload, &n.CreatedAt, &n.UpdatedAt, &n.SentAt)
	return n, err
}

// InsertNotification records a notification unless one with its dedupe
// key exists; it reports whether it inserted.
func (q *Queries) InsertNotification(ctx context.Context, n core.Notification) (bool, error) {
	tag, err := q.db.Exec(ctx, `INSERT INTO notifications (id, event, notifier_id, rule_id, certificate_id, agent_id,
		dedupe_key, status, attempts, next_attempt_at, last_error, payload, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11, $12, $12) ON CONFLICT (dedupe_key) DO NOTHING`,
		n.ID, n.Event, n.NotifierID, n.RuleID, n.CertificateID, n.AgentID, n.DedupeKey, n.Status, n.NextAttemptAt,
		n.LastError, n.Payload, n.CreatedAt)
	if err != nil {
		return false, mapError(err, "notification")
	}
	return tag.RowsAffected() == 1, nil
}

// GetNotification returns a notification.
func (q *Queries) GetNotification(ctx context.Context, id uuid.UUID) (core.Notification, error) {
	n, err := scanNotification(q.db.QueryRow(ctx, `SELECT `+notificationColumns+` FROM notifications WHERE id = $1`, id))
	return n, mapError(err, "notification")
}

// SetNotificationStatus records a delivery attempt's outcome.
func (q *Queries) SetNotificationStatus(ctx context.Context, id uuid.UUID, status, lastError string, next *time.Time, now time.Time) error {
	var sent *time.Time
	if status == core.NotificationSent {
		sent = &now
	}
	_, err := q.db.Exec(ctx, `UPDATE notifications SET status = $2, last_error = $3, next_attempt_at = $4,
		attempts = attempts + 1, updated_at = $5, sent_at = COALESCE($6, sent_at) WHERE id = $1`,
		id, status, lastError, next, now, sent)
	return mapError(err, "notification")
}

// ListNotifications returns a page of notifications, newest first.
func (q *Queries) ListNotifications(ctx context.Context, f core.NotificationFilter) ([]core.Notification, bool, error) {
	var w where
	if f.Status != "" {
		w.add("status = ?", f.Status)
	}
	if f.Event != "" {
		w.add("event = ?", f.Event)
	}
	if f.CertificateID != nil {
		w.add("certificate_id = ?", *f.CertificateID)
	}
	rows, err := q.db.Query(ctx, `SELECT `+notificationColumns+` FROM notifications`+pageClause(&w, f.Page, true), w.args...)
	if err != nil {
		return nil, false, mapError(err, "notifications")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Notification, error) { return scanNotification(r) })
	if err != nil {
		return nil, false, mapError(err, "notifications")
	}
	items, more := trimPage(items, f.Page)
	return items, more, nil
}

// ExpiringCertificates returns live certificates whose current version
// expires within days of now and that were not yet announced at this
// threshold or a smaller one.
func (q *Queries) ExpiringCertificates(ctx context.Context, now time.Time, days, limit int) ([]core.Certificate, error) {
	// A threshold applies only to certificates whose lifetime is more than
	// twice as long: a 7-day certificate is not "expiring within 30 days"
	// the moment it is issued.
	rows, err := q.db.Query(ctx, `SELECT `+certificateColumns+` FROM managed_certificates c
		JOIN certificate_versions v ON v.id = c.current_version_id
		WHERE c.not_after > $1 AND c.not_after <= $1 + make_interval(days => $2)
		AND c.status IN ('active', 'renewing', 'failed')
		AND (c.expiry_alert_days IS NULL OR c.expiry_alert_days > $2)
		AND v.not_after - v.not_before > make_interval(days => 2 * $2)
		ORDER BY c.not_after LIMIT $3`, now, days, limit)
	if err != nil {
		return nil, mapError(err, "certificates")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Certificate, error) { return scanCertificate(r) })
	return items, mapError(err, "certificates")
}

// SetExpiryAlerted records the threshold announced for a certificate.
func (q *Queries) SetExpiryAlerted(ctx context.Context, id uuid.UUID, days int) error {
	_, err := q.db.Exec(ctx, `UPDATE managed_certificates SET expiry_alert_days = $2 WHERE id = $1`, id, days)
	return mapError(err, "certificate")
}

// CertificateAgent returns the agent that owns a certificate's targets (agent
// key mode binds every target to one agent), or nil.
func (q *Queries) CertificateAgent(ctx context.Context, certID uuid.UUID) (*uuid.UUID, error) {
	var agent *uuid.UUID
	err := q.db.QueryRow(ctx, `SELECT t.agent_id FROM certificate_targets ct JOIN targets t ON t.id = ct.target_id
		WHERE ct.certificate_id = $1 AND t.agent_id IS NOT NULL LIMIT 1`, certID).Scan(&agent)
	if err == pgx.ErrNoRows {
		return nil, nil
	}
	return agent, mapError(err, "certificate agent")
}
