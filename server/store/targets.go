package store

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/server/core"
)

const targetColumns = `id, name, type, agent_id, config, secret_fields, config_secret, created_at, updated_at`

func scanTarget(row pgx.Row) (core.Target, error) {
	var t core.Target
	err := row.Scan(&t.ID, &t.Name, &t.Type, &t.AgentID, &t.Config, &t.Secret.Fields, &t.Secret.Ciphertext, &t.CreatedAt,
		&t.UpdatedAt)
	return t, err
}

// CreateTarget inserts a target.
func (q *Queries) CreateTarget(ctx context.Context, t core.Target) error {
	_, err := q.db.Exec(ctx, `INSERT INTO targets (id, name, type, agent_id, config, secret_fields, config_secret,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, t.ID, t.Name, t.Type, t.AgentID, t.Config,
		fields(t.Secret), t.Secret.Ciphertext, t.CreatedAt, t.UpdatedAt)
	return mapError(err, "target")
}

// GetTarget returns the target with id.
func (q *Queries) GetTarget(ctx context.Context, id uuid.UUID) (core.Target, error) {
	t, err := scanTarget(q.db.QueryRow(ctx, `SELECT `+targetColumns+` FROM targets WHERE id = $1`, id))
	return t, mapError(err, "target")
}

// GetTargets returns the targets with the given ids, in id order; missing
// ids are simply absent.
func (q *Queries) GetTargets(ctx context.Context, ids []uuid.UUID) ([]core.Target, error) {
	rows, err := q.db.Query(ctx, `SELECT `+targetColumns+` FROM targets WHERE id = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return nil, mapError(err, "targets")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Target, error) { return scanTarget(r) })
	return items, mapError(err, "targets")
}

// ListTargets returns a page of targets and whether more follow.
func (q *Queries) ListTargets(ctx context.Context, f core.TargetFilter) ([]core.Target, bool, error) {
	var w where
	if f.Type != "" {
		w.add("type = ?", f.Type)
	}
	if f.AgentID != nil {
		w.add("agent_id = ?", *f.AgentID)
	}
	rows, err := q.db.Query(ctx, `SELECT `+targetColumns+` FROM targets`+pageClause(&w, f.Page, false), w.args...)
	if err != nil {
		return nil, false, mapError(err, "targets")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Target, error) { return scanTarget(r) })
	if err != nil {
		return nil, false, mapError(err, "targets")
	}
	items, more := trimPage(items, f.Page)
	return items, more, nil
}

// UpdateTarget writes a target's mutable fields.
func (q *Queries) UpdateTarget(ctx context.Context, t core.Target) error {
	tag, err := q.db.Exec(ctx, `UPDATE targets SET name = $2, agent_id = $3, config = $4, secret_fields = $5,
		config_secret = $6, updated_at = $7 WHERE id = $1`, t.ID, t.Name, t.AgentID, t.Config, fields(t.Secret),
		t.Secret.Ciphertext, t.UpdatedAt)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return mapError(err, "target")
}

// DeleteTarget deletes a target; it fails with a conflict while
// certificates are bound to it.
func (q *Queries) DeleteTarget(ctx context.Context, id uuid.UUID) error {
	tag, err := q.db.Exec(ctx, `DELETE FROM targets WHERE id = $1`, id)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return mapError(err, "target")
}
