package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// GetSetting reads the setting name into v and reports whether it exists.
func (q *Queries) GetSetting(ctx context.Context, name string, v any) (bool, error) {
	var raw []byte
	err := q.db.QueryRow(ctx, `SELECT value FROM settings WHERE name = $1`, name).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, mapError(err, "setting "+name)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, mapError(err, "setting "+name)
	}
	return true, nil
}

// PutSetting writes the setting name.
func (q *Queries) PutSetting(ctx context.Context, name string, v any, now time.Time) error {
	_, err := q.db.Exec(ctx, `INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at`, name, v, now)
	return mapError(err, "setting "+name)
}
