package store

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/server/core"
)

const notifierColumns = `id, name, type, config, secret_fields, config_secret, enabled, created_at, updated_at`

func scanNotifier(row pgx.Row) (core.Notifier, error) {
	var n core.Notifier
	err := row.Scan(&n.ID, &n.Name, &n.Type, &n.Config, &n.Secret.Fields, &n.Secret.Ciphertext, &n.Enabled, &n.CreatedAt,
		&n.UpdatedAt)
	return n, err
}

// CreateNotifier inserts a notifier.
func (q *Queries) CreateNotifier(ctx context.Context, n core.Notifier) error {
	_, err := q.db.Exec(ctx, `INSERT INTO notifiers (id, name, type, config, secret_fields, config_secret, enabled,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, n.ID, n.Name, n.Type, n.Config,
		fields(n.Secret), n.Secret.Ciphertext, n.Enabled, n.CreatedAt, n.UpdatedAt)
	return mapError(err, "notifier")
}

// GetNotifier returns the notifier with id.
func (q *Queries) GetNotifier(ctx context.Context, id uuid.UUID) (core.Notifier, error) {
	n, err := scanNotifier(q.db.QueryRow(ctx, `SELECT `+notifierColumns+` FROM notifiers WHERE id = $1`, id))
	return n, mapError(err, "notifier")
}

// GetNotifierForUpdate returns the notifier with id, locked until the end
// of the transaction.
func (q *Queries) GetNotifierForUpdate(ctx context.Context, id uuid.UUID) (core.Notifier, error) {
	n, err := scanNotifier(q.db.QueryRow(ctx, `SELECT `+notifierColumns+` FROM notifiers WHERE id = $1 FOR UPDATE`, id))
	return n, mapError(err, "notifier")
}

// ListNotifiers returns a page of notifiers and whether more follow.
func (q *Queries) ListNotifiers(ctx context.Context, f core.NotifierFilter) ([]core.Notifier, bool, error) {
	var w where
	if f.Type != "" {
		w.add("type = ?", f.Type)
	}
	rows, err := q.db.Query(ctx, `SELECT `+notifierColumns+` FROM notifiers`+pageClause(&w, f.Page, false), w.args...)
	if err != nil {
		return nil, false, mapError(err, "notifiers")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Notifier, error) { return scanNotifier(r) })
	if err != nil {
		return nil, false, mapError(err, "notifiers")
	}
	items, more := trimPage(items, f.Page)
	return items, more, nil
}

// UpdateNotifier writes a notifier's mutable fields.
func (q *Queries) UpdateNotifier(ctx context.Context, n core.Notifier) error {
	tag, err := q.db.Exec(ctx, `UPDATE notifiers SET name = $2, config = $3, secret_fields = $4, config_secret = $5,
		enabled = $6, updated_at = $7 WHERE id = $1`, n.ID, n.Name, n.Config, fields(n.Secret), n.Secret.Ciphertext,
		n.Enabled, n.UpdatedAt)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return mapError(err, "notifier")
}

// DeleteNotifier deletes a notifier and its notification rules.
func (q *Queries) DeleteNotifier(ctx context.Context, id uuid.UUID) error {
	tag, err := q.db.Exec(ctx, `DELETE FROM notifiers WHERE id = $1`, id)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return mapError(err, "notifier")
}
