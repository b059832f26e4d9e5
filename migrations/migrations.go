// Package migrations holds certctl's numbered SQL migrations, embedded into
// the server binary and applied at start (see server/db).
//
// Files are named NNNNN_description.sql and use goose annotations
// (-- +goose Up / -- +goose Down). A migration, once released, is never
// edited: changes come as a new file.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
