package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/server/core"
)

const auditColumns = `id, occurred_at, actor, actor_type, actor_name, action, resource_type, resource_id, outcome,
	request_id, details`

func scanAudit(row pgx.Row) (core.AuditEvent, error) {
	var e core.AuditEvent
	err := row.Scan(&e.ID, &e.OccurredAt, &e.Actor, &e.ActorType, &e.ActorName, &e.Action, &e.ResourceType,
		&e.ResourceID, &e.Outcome, &e.RequestID, &e.Details)
	return e, err
}

// AppendAudit appends an event to the audit trail.
func (q *Queries) AppendAudit(ctx context.Context, e core.AuditEvent) error {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	_, err := q.db.Exec(ctx, `INSERT INTO audit_events (id, occurred_at, actor, actor_type, actor_name, action,
		resource_type, resource_id, outcome, request_id, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		e.ID, e.OccurredAt, e.Actor, e.ActorType, e.ActorName, e.Action, e.ResourceType, e.ResourceID, e.Outcome,
		e.RequestID, e.Details)
	return mapError(err, "audit event")
}

// AppendAuditsOnce appends events to the audit trail, in order, in one
// transaction, skipping any already there (by id): events whose first
// write had an unknown outcome (the database went away mid-way) can be
// written again and are recorded once.
func (s *Store) AppendAuditsOnce(ctx context.Context, events []core.AuditEvent) error {
	b := &pgx.Batch{}
	for _, e := range events {
		if e.Details == nil {
			e.Details = map[string]any{}
		}
		b.Queue(`INSERT INTO audit_events (id, occurred_at, actor, actor_type, actor_name, action, resource_type,
			resource_id, outcome, request_id, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (id) DO NOTHING`,
			e.ID, e.OccurredAt, e.Actor, e.ActorType, e.ActorName, e.Action, e.ResourceType, e.ResourceID, e.Outcome,
			e.RequestID, e.Details)
	}
	// A batch outside a transaction runs as one implicit transaction.
	return mapError(s.pool.SendBatch(ctx, b).Close(), "audit events")
}

// ListAudit returns a page of audit events, newest first.
func (q *Queries) ListAudit(ctx context.Context, f core.AuditFilter) ([]core.AuditEvent, bool, error) {
	var w where
	if f.Actor != "" {
		w.add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		w.add("action = ?", f.Action)
	}
	if f.ResourceType != "" {
		w.add("resource_type = ?", f.ResourceType)
	}
	if f.ResourceID != "" {
		w.add("resource_id = ?", f.ResourceID)
	}
	if f.Outcome != "" {
		w.add("outcome = ?", f.Outcome)
	}
	if f.Since != nil {
		w.add("occurred_at >= ?", *f.Since)
	}
	if f.Until != nil {
		w.add("occurred_at < ?", *f.Until)
	}
	rows, err := q.db.Query(ctx, `SELECT `+auditColumns+` FROM audit_events`+pageClause(&w, f.Page, true), w.args...)
	if err != nil {
		return nil, false, mapError(err, "audit events")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.AuditEvent, error) { return scanAudit(r) })
	if err != nil {
		return nil, false, mapError(err, "audit events")
	}
	items, more := trimPage(items, f.Page)
	return items, more, nil
}
