package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// SealedColumn is a column that holds values sealed with the encryption
// key; each row's value is sealed for ContextPrefix + the row's id.
type SealedColumn struct {
	Table, Column, ContextPrefix string
	// Read and Write, when set, are how a value kept inside the column is
	// read (an expression of type bytea) and written (an assignment, with
	// the value as $2); by default the column is the value.
	Read, Write string
}

// ReadExpr is the SQL expression (bytea) that reads the sealed value of a row.
func (c SealedColumn) ReadExpr() string { return c.read() }

func (c SealedColumn) read() string {
	if c.Read != "" {
		return c.Read
	}
	return c.Column
}

func (c SealedColumn) write() string {
	if c.Write != "" {
		return c.Write
	}
	return c.Column + " = $2"
}

// SealedColumns lists every column that holds sealed values (the key
// check marker in settings aside). A new one must be added here, or key
// rotation leaves it behind.
var SealedColumns = []SealedColumn{
	{Table: "issuers", Column: "config_secret", ContextPrefix: "issuer:"},
	{Table: "targets", Column: "config_secret", ContextPrefix: "target:"},
	{Table: "notifiers", Column: "config_secret", ContextPrefix: "notifier:"},
	{Table: "certificate_versions", Column: "private_key_enc", ContextPrefix: "version:"},
	// The private key of a pending ACME order (server key mode), kept in
	// the job's payload as base64 (core.JobPayload.SealedKey).
	{Table: "jobs", Column: "payload", ContextPrefix: "job:", Read: `decode(payload->>'sealed_key', 'base64')`,
		Write: `payload = jsonb_set(payload, '{sealed_key}', to_jsonb(translate(encode($2, 'base64'), E'\n', '')))`},
}

// SealedValue is one row's sealed value.
type SealedValue struct {
	ID     uuid.UUID
	Sealed []byte
}

// ListSealed returns up to limit rows of c with a sealed value, in id
// order after after (uuid.Nil: from the start). The values are read
// without locks: callers re-read a row with LockSealed before they change it.
func (q *Queries) ListSealed(ctx context.Context, c SealedColumn, after uuid.UUID, limit int) ([]SealedValue, error) {
	// Table and column come from SealedColumns, never from input.
	rows, err := q.db.Query(ctx, fmt.Sprintf(`SELECT id, %[2]s FROM %[1]s
		WHERE id > $1 AND octet_length(%[2]s) > 0 ORDER BY id LIMIT $2`, c.Table, c.read()), after, limit)
	if err != nil {
		return nil, mapError(err, c.Table)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SealedValue, error) {
		var v SealedValue
		err := row.Scan(&v.ID, &v.Sealed)
		return v, err
	})
	return out, mapError(err, c.Table)
}

// LockSealed returns the sealed value of row id of c, locking the row
// until the end of the transaction. found is false when the row is gone.
func (q *Queries) LockSealed(ctx context.Context, c SealedColumn, id uuid.UUID) (sealed []byte, found bool, err error) {
	err = q.db.QueryRow(ctx, fmt.Sprintf(`SELECT %s FROM %s WHERE id = $1 FOR UPDATE`, c.read(), c.Table), id).Scan(&sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, mapError(err, c.Table)
	}
	return sealed, true, nil
}

// SetSealed replaces the sealed value of row id of c, and nothing else.
func (q *Queries) SetSealed(ctx context.Context, c SealedColumn, id uuid.UUID, sealed []byte) error {
	_, err := q.db.Exec(ctx, fmt.Sprintf(`UPDATE %s SET %s WHERE id = $1`, c.Table, c.write()), id, sealed)
	return mapError(err, c.Table)
}
