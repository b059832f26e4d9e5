package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/server/core"
)

// PluginCatalogue is the server's catalogue of accepted plugins, in the
// plugins table; it implements core.PluginCatalogue. The schema is stored
// as the JSON it comes in: the database layer does not know the plugin
// SDK's types.
type PluginCatalogue struct {
	s *Store
}

var _ core.PluginCatalogue = PluginCatalogue{}

// Plugins returns the store's plugin catalogue.
func (s *Store) Plugins() PluginCatalogue {
	return PluginCatalogue{s: s}
}

// GetPlugin implements core.PluginCatalogue.
func (c PluginCatalogue) GetPlugin(ctx context.Context, kind, name string) (core.PluginRecord, bool, error) {
	var r core.PluginRecord
	err := c.s.pool.QueryRow(ctx, `SELECT kind, name, version, description, path, sha256, schema, registered_at
		FROM plugins WHERE kind = $1 AND name = $2`, kind, name).Scan(&r.Kind, &r.Name, &r.Version, &r.Description,
		&r.Path, &r.SHA256, &r.Schema, &r.RegisteredAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return core.PluginRecord{}, false, nil
	}
	if err != nil {
		return core.PluginRecord{}, false, mapError(err, "plugin")
	}
	return r, true, nil
}

// PutPlugin implements core.PluginCatalogue. A record without a schema
// stores the empty schema.
func (c PluginCatalogue) PutPlugin(ctx context.Context, r core.PluginRecord) error {
	schema := string(r.Schema)
	if len(r.Schema) == 0 {
		schema = "{}"
	}
	_, err := c.s.pool.Exec(ctx, `INSERT INTO plugins (kind, name, version, description, path, sha256, schema, registered_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)
		ON CONFLICT (kind, name) DO UPDATE SET version = EXCLUDED.version, description = EXCLUDED.description,
		path = EXCLUDED.path, sha256 = EXCLUDED.sha256, schema = EXCLUDED.schema, registered_at = EXCLUDED.registered_at`,
		r.Kind, r.Name, r.Version, r.Description, r.Path, r.SHA256, schema, r.RegisteredAt)
	return mapError(err, "plugin")
}
