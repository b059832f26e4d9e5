package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/server/core"
)

const apiKeyColumns = `id, name, key_prefix, role, expires_at, revoked_at, last_used_at, created_by, created_at`

func scanAPIKey(row pgx.Row) (core.APIKey, error) {
	var k core.APIKey
	err := row.Scan(&k.ID, &k.Name, &k.Prefix, &k.Role, &k.ExpiresAt, &k.RevokedAt, &k.LastUsedAt, &k.CreatedBy, &k.CreatedAt)
	return k, err
}

// CreateAPIKey inserts an API key with the hash of its secret.
func (q *Queries) CreateAPIKey(ctx context.Context, k core.APIKey, hash []byte) error {
	_, err := q.db.Exec(ctx, `INSERT INTO api_keys (id, name, key_prefix, key_hash, role, expires_at, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, k.ID, k.Name, k.Prefix, hash, k.Role, k.ExpiresAt, k.CreatedBy, k.CreatedAt)
	return mapError(err, "API key")
}

// GetAPIKey returns the API key with id.
func (q *Queries) GetAPIKey(ctx context.Context, id uuid.UUID) (core.APIKey, error) {
	k, err := scanAPIKey(q.db.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = $1`, id))
	return k, mapError(err, "API key")
}

// GetAPIKeyByHash returns the API key whose secret hashes to hash.
func (q *Queries) GetAPIKeyByHash(ctx context.Context, hash []byte) (core.APIKey, error) {
	k, err := scanAPIKey(q.db.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE key_hash = $1`, hash))
	return k, mapError(err, "API key")
}

// CountAPIKeys returns how many API keys exist, revoked ones included.
func (q *Queries) CountAPIKeys(ctx context.Context) (int, error) {
	var n int
	err := q.db.QueryRow(ctx, `SELECT count(*) FROM api_keys`).Scan(&n)
	return n, mapError(err, "API keys")
}

// ListAPIKeys returns a page of API keys, newest first.
func (q *Queries) ListAPIKeys(ctx context.Context, p core.Page) ([]core.APIKey, bool, error) {
	var w where
	rows, err := q.db.Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys`+pageClause(&w, p, true), w.args...)
	if err != nil {
		return nil, false, mapError(err, "API keys")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.APIKey, error) { return scanAPIKey(r) })
	if err != nil {
		return nil, false, mapError(err, "API keys")
	}
	items, more := trimPage(items, p)
	return items, more, nil
}

// RevokeAPIKey revokes a key; revoking twice keeps the first time.
func (q *Queries) RevokeAPIKey(ctx context.Context, id uuid.UUID, now time.Time) (core.APIKey, error) {
	k, err := scanAPIKey(q.db.QueryRow(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2)
		WHERE id = $1 RETURNING `+apiKeyColumns, id, now))
	return k, mapError(err, "API key")
}

// TouchAPIKey records that a key was used, at most once a minute per key
// so that reads do not turn into a write each.
func (q *Queries) TouchAPIKey(ctx context.Context, id uuid.UUID, now time.Time) error {
	_, err := q.db.Exec(ctx, `UPDATE api_keys SET last_used_at = $2
		WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '1 minute')`, id, now)
	return mapError(err, "API key")
}

// LockUsableAdminKeys locks the admin keys that are neither revoked nor
// expired at now, until the transaction ends, and returns their ids. A
// change that may leave no usable admin key calls it first: two such
// changes then run one after the other, the second seeing what the first
// did, instead of each counting the other's key as still there. Rows are
// locked in id order so that concurrent callers cannot deadlock.
func (q *Queries) LockUsableAdminKeys(ctx context.Context, now time.Time) ([]uuid.UUID, error) {
	rows, err := q.db.Query(ctx, `SELECT id FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL
		AND (expires_at IS NULL OR expires_at > $1) ORDER BY id FOR UPDATE`, now)
	if err != nil {
		return nil, mapError(err, "API keys")
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	return ids, mapError(err, "API keys")
}
