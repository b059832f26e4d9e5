package core

import (
	"context"
	"encoding/json"
	"time"
)

// PluginRecord is what the server's plugin catalogue remembers of a plugin
// binary it accepted: which file, with which checksum, and what the plugin
// said it was when it was registered. The plugin host decides what is
// accepted; the record only keeps its decision across restarts.
type PluginRecord struct {
	Kind        string // "issuer", "target" or "notifier"
	Name        string
	Version     string
	Description string
	Path        string
	SHA256      string
	// Schema is the plugin's configuration schema as the plugin SDK
	// encodes it in JSON ({"fields": [...]}). It is kept as the SDK wrote
	// it, so that the catalogue gives back exactly what it was given
	// without the database layer knowing the SDK's types.
	Schema       json.RawMessage
	RegisteredAt time.Time
}

// PluginStatus is a plugin the server found in its plugin directory, with
// the state of its process as the plugin host sees it.
type PluginStatus struct {
	PluginRecord
	Status    string // "ready", "running", "checksum_mismatch", "invalid", ...
	Pid       int    // 0 when no process runs
	Restarts  int
	LastError string
}

// PluginCatalogue stores accepted plugins, one record a kind and name.
type PluginCatalogue interface {
	// GetPlugin returns the record for kind and name, and whether there is one.
	GetPlugin(ctx context.Context, kind, name string) (PluginRecord, bool, error)
	// PutPlugin records r, replacing any previous record for its kind and name.
	PutPlugin(ctx context.Context, r PluginRecord) error
}
