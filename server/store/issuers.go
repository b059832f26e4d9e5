package store

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/server/core"
)

const issuerColumns = `id, name, type, config, secret_fields, config_secret, created_at, updated_at`

func scanIssuer(row pgx.Row) (core.Issuer, error) {
	var i core.Issuer
	err := row.Scan(&i.ID, &i.Name, &i.Type, &i.Config, &i.Secret.Fields, &i.Secret.Ciphertext, &i.CreatedAt, &i.UpdatedAt)
	return i, err
}

// CreateIssuer inserts an issuer.
func (q *Queries) CreateIssuer(ctx context.Context, i core.Issuer) error {
	_, err := q.db.Exec(ctx, `INSERT INTO issuers (id, name, type, config, secret_fields, config_secret, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, i.ID, i.Name, i.Type, i.Config, fields(i.Secret), i.Secret.Ciphertext,
		i.CreatedAt, i.UpdatedAt)
	return mapError(err, "issuer")
}

// GetIssuer returns the issuer with id.
func (q *Queries) GetIssuer(ctx context.Context, id uuid.UUID) (core.Issuer, error) {
	i, err := scanIssuer(q.db.QueryRow(ctx, `SELECT `+issuerColumns+` FROM issuers WHERE id = $1`, id))
	return i, mapError(err, "issuer")
}

// GetIssuerByName returns the issuer called name.
func (q *Queries) GetIssuerByName(ctx context.Context, name string) (core.Issuer, error) {
	i, err := scanIssuer(q.db.QueryRow(ctx, `SELECT `+issuerColumns+` FROM issuers WHERE name = $1`, name))
	return i, mapError(err, "issuer")
}

// GetIssuerForUpdate returns the issuer with id, locked until the end of
// the transaction.
func (q *Queries) GetIssuerForUpdate(ctx context.Context, id uuid.UUID) (core.Issuer, error) {
	i, err := scanIssuer(q.db.QueryRow(ctx, `SELECT `+issuerColumns+` FROM issuers WHERE id = $1 FOR UPDATE`, id))
	return i, mapError(err, "issuer")
}

// ListIssuers returns a page of issuers and whether more follow.
func (q *Queries) ListIssuers(ctx context.Context, f core.IssuerFilter) ([]core.Issuer, bool, error) {
	var w where
	if f.Type != "" {
		w.add("type = ?", f.Type)
	}
	rows, err := q.db.Query(ctx, `SELECT `+issuerColumns+` FROM issuers`+pageClause(&w, f.Page, false), w.args...)
	if err != nil {
		return nil, false, mapError(err, "issuers")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Issuer, error) { return scanIssuer(r) })
	if err != nil {
		return nil, false, mapError(err, "issuers")
	}
	items, more := trimPage(items, f.Page)
	return items, more, nil
}

// UpdateIssuer writes an issuer's mutable fields.
func (q *Queries) UpdateIssuer(ctx context.Context, i core.Issuer) error {
	tag, err := q.db.Exec(ctx, `UPDATE issuers SET name = $2, config = $3, secret_fields = $4, config_secret = $5,
		updated_at = $6 WHERE id = $1`, i.ID, i.Name, i.Config, fields(i.Secret), i.Secret.Ciphertext, i.UpdatedAt)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return mapError(err, "issuer")
}

// DeleteIssuer deletes an issuer; it fails with a conflict while
// certificates use it.
func (q *Queries) DeleteIssuer(ctx context.Context, id uuid.UUID) error {
	tag, err := q.db.Exec(ctx, `DELETE FROM issuers WHERE id = $1`, id)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return mapError(err, "issuer")
}
