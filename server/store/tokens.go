package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/server/core"
)

const tokenColumns = `id, token_prefix, COALESCE(agent_name, ''), labels, expires_at, used_at, used_by_agent_id,
	revoked_at, created_by, created_at`

func scanToken(row pgx.Row) (core.EnrollmentToken, error) {
	var t core.EnrollmentToken
	err := row.Scan(&t.ID, &t.Prefix, &t.AgentName, &t.Labels, &t.ExpiresAt, &t.UsedAt, &t.UsedByAgentID,
		&t.RevokedAt, &t.CreatedBy, &t.CreatedAt)
	return t, err
}

// CreateEnrollmentToken inserts a token with the hash of its secret.
func (q *Queries) CreateEnrollmentToken(ctx context.Context, t core.EnrollmentToken, hash []byte) error {
	var agentName *string
	if t.AgentName != "" {
		agentName = &t.AgentName
	}
	_, err := q.db.Exec(ctx, `INSERT INTO enrollment_tokens (id, token_hash, token_prefix, agent_name, labels,
		expires_at, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		t.ID, hash, t.Prefix, agentName, t.Labels, t.ExpiresAt, t.CreatedBy, t.CreatedAt)
	return mapError(err, "enrollment token")
}

// GetEnrollmentToken returns the token with id.
func (q *Queries) GetEnrollmentToken(ctx context.Context, id uuid.UUID) (core.EnrollmentToken, error) {
	t, err := scanToken(q.db.QueryRow(ctx, `SELECT `+tokenColumns+` FROM enrollment_tokens WHERE id = $1`, id))
	return t, mapError(err, "enrollment token")
}

// ListEnrollmentTokens returns a page of tokens, newest first.
func (q *Queries) ListEnrollmentTokens(ctx context.Context, p core.Page) ([]core.EnrollmentToken, bool, error) {
	var w where
	rows, err := q.db.Query(ctx, `SELECT `+tokenColumns+` FROM enrollment_tokens`+pageClause(&w, p, true), w.args...)
	if err != nil {
		return nil, false, mapError(err, "enrollment tokens")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.EnrollmentToken, error) { return scanToken(r) })
	if err != nil {
		return nil, false, mapError(err, "enrollment tokens")
	}
	items, more := trimPage(items, p)
	return items, more, nil
}

// RevokeEnrollmentToken revokes a token; revoking twice keeps the first time.
func (q *Queries) RevokeEnrollmentToken(ctx context.Context, id uuid.UUID, now time.Time) (core.EnrollmentToken, error) {
	t, err := scanToken(q.db.QueryRow(ctx, `UPDATE enrollment_tokens SET revoked_at = COALESCE(revoked_at, $2)
		WHERE id = $1 RETURNING `+tokenColumns, id, now))
	return t, mapError(err, "enrollment token")
}
