package service

import (
	"context"
	"slices"
	"strings"

	"github.com/certctl/certctl/server/core"
)

// BuiltinTypes are the connector types certctl ships, by kind.
var BuiltinTypes = map[string][]string{
	"issuer":   {"local", "acme", "script", "vault"},
	"target":   {"nginx", "apache", "haproxy", "f5", "iis"},
	"notifier": {"email", "webhook", "slack", "teams", "pagerduty", "opsgenie"},
}

// Builtins is a ConnectorCatalog of the built-in connector types that
// checks only the type; the plugin host checks configuration in depth.
type Builtins struct{}

// ValidateConnector implements ConnectorCatalog.
func (Builtins) ValidateConnector(_ context.Context, kind, typ string, config map[string]any) error {
	if err := core.ValidateType("type", typ); err != nil {
		return err
	}
	types := BuiltinTypes[kind]
	if !slices.Contains(types, typ) {
		return core.Invalid("type", "unknown %s type %q (known: %s)", kind, typ, strings.Join(types, ", "))
	}
	return core.ValidateConfig("config", config)
}
