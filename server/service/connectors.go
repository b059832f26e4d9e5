package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/core"
)

// ConnectorCatalog knows the connector types and checks their
// configuration: HostCatalog through the plugins, Builtins by type name only.
type ConnectorCatalog interface {
	// Prepare checks a connector's configuration and returns it normalised
	// (defaults applied), with the schema that says which fields are
	// sensitive. Errors are core errors: EINVALID for a bad type or field,
	// EUNAVAILABLE when the plugin cannot be asked.
	Prepare(ctx context.Context, kind plugin.Kind, typ string, cfg plugin.Config) (plugin.Config, plugin.Schema, error)
	// Provision lets an issuer plugin complete a new configuration (e.g.
	// create its CA); it returns cfg unchanged when there is nothing to do.
	Provision(ctx context.Context, typ string, cfg plugin.Config) (plugin.Config, error)
}

// validationTimeout bounds asking a plugin about a configuration during an
// API request.
const validationTimeout = 30 * time.Second

// connectorInput is what a client sends for any connector.
type connectorInput struct {
	kind   plugin.Kind
	typ    string
	config map[string]any
}

// prepareConnector validates a connector's configuration and splits it into
// the public part and the sealed sensitive part. On update, current holds
// the stored configuration: fields the client leaves out keep their current
// values (sensitive ones are never shown, so clients cannot send them back),
// and a field sent as null returns to its default. provision runs the
// issuer plugin's Provision step.
func (s *Service) prepareConnector(ctx context.Context, in connectorInput, id string, current *storedConfig,
	provision bool) (map[string]any, core.Sealed, error) {
	cfg, schema, err := s.checkConnector(ctx, in, current)
	if err != nil {
		return nil, core.Sealed{}, err
	}
	if provision {
		if cfg, err = s.connectors.Provision(ctx, in.typ, cfg); err != nil {
			return nil, core.Sealed{}, err
		}
	}
	public, secret := schema.Split(cfg)
	sealed, err := s.seal(secret, in.kind, id)
	return public, sealed, err
}

// checkConnector is the validation half of prepareConnector: it merges the
// input into the current configuration (on update) and has the catalogue
// check and normalise the result, changing nothing.
func (s *Service) checkConnector(ctx context.Context, in connectorInput, current *storedConfig) (plugin.Config, plugin.Schema, error) {
	if err := core.ValidateType("type", in.typ); err != nil {
		return nil, plugin.Schema{}, err
	}
	if err := core.ValidateConfig("config", in.config); err != nil {
		return nil, plugin.Schema{}, err
	}
	cfg := plugin.Config{}
	if current != nil {
		full, err := s.openConfig(current.public, current.sealed, current.context)
		if err != nil {
			return nil, plugin.Schema{}, err
		}
		cfg = full
	}
	for k, v := range in.config {
		if v == nil {
			delete(cfg, k)
		} else {
			cfg[k] = v
		}
	}
	return s.connectors.Prepare(ctx, in.kind, in.typ, cfg)
}

// storedConfig is a connector's configuration as stored.
type storedConfig struct {
	public  map[string]any
	sealed  core.Sealed
	context string
}

// sealContext binds a sealed configuration to its row.
func sealContext(kind plugin.Kind, id string) string {
	return string(kind) + ":" + id
}

func (s *Service) seal(secret plugin.Config, kind plugin.Kind, id string) (core.Sealed, error) {
	if len(secret) == 0 {
		return core.Sealed{Fields: []string{}}, nil
	}
	if s.box == nil {
		return core.Sealed{}, core.Errorf(core.EINTERNAL, "no encryption key configured for sensitive fields")
	}
	raw, err := json.Marshal(secret)
	if err != nil {
		return core.Sealed{}, fmt.Errorf("seal configuration: %w", err)
	}
	names := make([]string, 0, len(secret))
	for k := range secret {
		names = append(names, k)
	}
	slices.Sort(names)
	return core.Sealed{Fields: names, Ciphertext: s.box.Seal(raw, sealContext(kind, id))}, nil
}

// openConfig returns a connector's whole configuration, sensitive fields
// decrypted: only for plugin calls, never for API answers or logs.
func (s *Service) openConfig(public map[string]any, sealed core.Sealed, context string) (plugin.Config, error) {
	cfg := plugin.Config{}
	for k, v := range public {
		cfg[k] = v
	}
	if len(sealed.Ciphertext) == 0 {
		return cfg, nil
	}
	if s.box == nil {
		return nil, core.Errorf(core.EINTERNAL, "no encryption key configured to open sensitive fields")
	}
	raw, err := s.box.Open(sealed.Ciphertext, context)
	if err != nil {
		return nil, fmt.Errorf("open sensitive configuration of %s: %w", context, err)
	}
	var secret map[string]any
	if err := json.Unmarshal(raw, &secret); err != nil {
		return nil, fmt.Errorf("open sensitive configuration of %s: %w", context, err)
	}
	for k, v := range secret {
		cfg[k] = v
	}
	return cfg, nil
}

// pluginError turns an error from a plugin (or the host) into a core error
// for the client. Invalid configuration names its field as config.<field>.
func pluginError(err error, kind plugin.Kind, typ string) error {
	var pe *plugin.Error
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case plugin.CodeInvalidConfig, plugin.CodeInvalidInput:
		field := "config"
		if pe.Field != "" {
			field = "config." + pe.Field
		}
		return core.Invalid(field, "%s", pe.Message)
	case plugin.CodeNotFound:
		return core.Invalid("type", "%s", pe.Message)
	case plugin.CodeUnavailable, plugin.CodeTransient, plugin.CodeDeadline:
		return core.Errorf(core.EUNAVAILABLE, "%s plugin %q is unavailable, try again: %s", kind, typ, pe.Message)
	}
	return core.Errorf(core.EINVALID, "%s plugin %q refused the configuration: %s", kind, typ, pe.Message)
}

// Builtins is a ConnectorCatalog of the built-in connector type names that
// checks only the type and the shape of the configuration: for tests, and
// for target types whose plugins run only on agents.
type Builtins struct{}

// BuiltinTypes are the connector types certctl ships, by kind.
var BuiltinTypes = map[plugin.Kind][]string{
	plugin.KindIssuer:   {"local", "acme", "script", "vault"},
	plugin.KindTarget:   {"nginx", "apache", "haproxy", "f5", "iis"},
	plugin.KindNotifier: {"email", "webhook", "slack", "teams", "pagerduty", "opsgenie"},
}

// Prepare implements ConnectorCatalog.
func (Builtins) Prepare(_ context.Context, kind plugin.Kind, typ string, cfg plugin.Config) (plugin.Config, plugin.Schema, error) {
	types := BuiltinTypes[kind]
	if !slices.Contains(types, typ) {
		return nil, plugin.Schema{}, core.Invalid("type", "unknown %s type %q (known: %s)", kind, typ, strings.Join(types, ", "))
	}
	return cfg, plugin.Schema{}, nil
}

// Provision implements ConnectorCatalog.
func (Builtins) Provision(_ context.Context, _ string, cfg plugin.Config) (plugin.Config, error) {
	return cfg, nil
}
