package service

import (
	"context"
	"errors"
	"slices"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/host"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// HostCatalog is the ConnectorCatalog of a server with a plugin host:
// issuer and notifier configurations are checked against their plugin's
// schema and by the plugin itself; target configurations against the
// schema when the server has the target plugin (agents run target plugins
// and check the rest), else by type name.
type HostCatalog struct {
	Host *host.Host
}

// Prepare implements ConnectorCatalog.
func (c HostCatalog) Prepare(ctx context.Context, kind plugin.Kind, typ string, cfg plugin.Config) (plugin.Config, plugin.Schema, error) {
	schema, err := c.Host.Schema(kind, typ)
	if plugin.ErrorCode(err) == plugin.CodeNotFound && kind == plugin.KindTarget && slices.Contains(BuiltinTypes[kind], typ) {
		return Builtins{}.Prepare(ctx, kind, typ, cfg)
	}
	if err != nil {
		return nil, schema, pluginError(err, kind, typ)
	}
	norm, err := schema.Normalize(cfg)
	if err != nil {
		return nil, schema, pluginError(err, kind, typ)
	}
	if kind == plugin.KindTarget {
		return norm, schema, nil
	}
	ctx, cancel := context.WithTimeout(ctx, validationTimeout)
	defer cancel()
	var p plugin.Plugin
	if kind == plugin.KindIssuer {
		p, err = c.Host.Issuer(typ)
	} else {
		p, err = c.Host.Notifier(typ)
	}
	if err == nil {
		err = p.ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: norm})
	}
	if err != nil {
		return nil, schema, pluginError(err, kind, typ)
	}
	return norm, schema, nil
}

// Provision implements ConnectorCatalog.
func (c HostCatalog) Provision(ctx context.Context, typ string, cfg plugin.Config) (plugin.Config, error) {
	iss, err := c.Host.Issuer(typ)
	if err != nil {
		return nil, pluginError(err, plugin.KindIssuer, typ)
	}
	ctx, cancel := context.WithTimeout(ctx, validationTimeout)
	defer cancel()
	res, err := iss.Provision(ctx, plugin.ProvisionRequest{Config: cfg})
	if plugin.ErrorCode(err) == plugin.CodeUnimplemented {
		// An issuer with nothing to prepare (plugin.UnimplementedIssuer's
		// Provision): the configuration is stored as it is.
		return cfg, nil
	}
	if err != nil {
		return nil, pluginError(err, plugin.KindIssuer, typ)
	}
	schema, err := c.Host.Schema(plugin.KindIssuer, typ)
	if err != nil {
		return nil, pluginError(err, plugin.KindIssuer, typ)
	}
	// What the plugin returns must still fit its schema.
	out, err := schema.Normalize(res.Config)
	if err != nil {
		return nil, core.Errorf(core.EINTERNAL, "issuer plugin %q returned a configuration outside its schema: %v", typ, err)
	}
	return out, nil
}

// PluginRegistry lists and registers plugins in the server's terms; the
// server's wiring (server/app) adapts its plugin host to it.
type PluginRegistry interface {
	Plugins() []core.PluginStatus
	Register(ctx context.Context, kind plugin.Kind, name string) (core.PluginStatus, error)
}

// ListPlugins returns every plugin the server found, with its status.
func (s *Service) ListPlugins(ctx context.Context) ([]core.PluginStatus, error) {
	if err := s.read(ctx); err != nil {
		return nil, err
	}
	if s.plugins == nil {
		return []core.PluginStatus{}, nil
	}
	return s.plugins.Plugins(), nil
}

// RegisterPlugin accepts the binary now in the plugin directory for kind
// and name, e.g. after an upgrade changed its checksum.
func (s *Service) RegisterPlugin(ctx context.Context, kind plugin.Kind, name string) (core.PluginStatus, error) {
	var out core.PluginStatus
	err := s.mutate(ctx, change{role: core.RoleAdmin, action: "plugin.register", resourceType: "plugin", resourceID: string(kind) + "/" + name},
		func(_ *store.Queries) (string, map[string]any, error) {
			if !slices.Contains(plugin.Kinds, kind) {
				return "", nil, core.Invalid("kind", "must be issuer, target or notifier")
			}
			if s.plugins == nil {
				return "", nil, core.Errorf(core.ENOTFOUND, "this server has no plugin directory")
			}
			st, err := s.plugins.Register(ctx, kind, name)
			if err != nil {
				return "", nil, registerError(err, kind, name)
			}
			out = st
			return "", map[string]any{"sha256": st.SHA256, "version": st.Version}, nil
		})
	return out, err
}

// registerError is the API's error for a failed register. No request
// field is at fault (the request has no body): a binary that is not a
// working plugin makes an invalid request without a field (the message
// says why, with the plugin's exit status and the end of its standard
// error, and what goes on serving), a missing file is not found, a host
// that is stopping is unavailable.
func registerError(err error, kind plugin.Kind, name string) error {
	var re *host.RegisterError
	if errors.As(err, &re) {
		return core.Errorf(core.EINVALID, "the new binary was not accepted: %s", re.Error())
	}
	var pe *plugin.Error
	if errors.As(err, &pe) {
		switch pe.Code {
		case plugin.CodeNotFound:
			return core.Errorf(core.ENOTFOUND, "%s", pe.Message)
		case plugin.CodeUnavailable:
			return core.Errorf(core.EUNAVAILABLE, "%s plugin %q: %s", kind, name, pe.Message)
		}
	}
	return err
}
