package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/host"
)

// PluginCatalogue is the server's catalogue of accepted plugins, in the
// plugins table; it implements host.Catalogue.
type PluginCatalogue struct {
	s *Store
}

// Plugins returns the store's plugin catalogue.
func (s *Store) Plugins() PluginCatalogue {
	return PluginCatalogue{s: s}
}

// Get implements host.Catalogue.
func (c PluginCatalogue) Get(ctx context.Context, kind plugin.Kind, name string) (host.Entry, bool, error) {
	var e host.Entry
	err := c.s.pool.QueryRow(ctx, `SELECT kind, name, version, description, path, sha256, schema, registered_at
		FROM plugins WHERE kind = $1 AND name = $2`, kind, name).Scan(&e.Kind, &e.Name, &e.Version, &e.Description,
		&e.Path, &e.SHA256, &e.Schema, &e.RegisteredAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, false, nil
	}
	if err != nil {
		return e, false, mapError(err, "plugin")
	}
	return e, true, nil
}

// Put implements host.Catalogue.
func (c PluginCatalogue) Put(ctx context.Context, e host.Entry) error {
	_, err := c.s.pool.Exec(ctx, `INSERT INTO plugins (kind, name, version, description, path, sha256, schema, registered_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (kind, name) DO UPDATE SET version = EXCLUDED.version, description = EXCLUDED.description,
		path = EXCLUDED.path, sha256 = EXCLUDED.sha256, schema = EXCLUDED.schema, registered_at = EXCLUDED.registered_at`,
		e.Kind, e.Name, e.Version, e.Description, e.Path, e.SHA256, e.Schema, e.RegisteredAt)
	return mapError(err, "plugin")
}
