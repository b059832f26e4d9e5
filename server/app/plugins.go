package app

// The adapter between the plugin host (sdk/plugin/host) and the server's
// own plugin types (server/core): the store keeps the catalogue and the
// HTTP API and console show plugin status in core's terms, so that neither
// depends on the plugin SDK's host or on gRPC. Only the wiring here and the
// service, which calls plugins, know the host.

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/host"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

// HostCatalogue makes a core catalogue (the store's plugins table) the
// plugin host's catalogue.
func HostCatalogue(c core.PluginCatalogue) host.Catalogue {
	return hostCatalogue{c: c}
}

type hostCatalogue struct {
	c core.PluginCatalogue
}

// Get implements host.Catalogue.
func (h hostCatalogue) Get(ctx context.Context, kind plugin.Kind, name string) (host.Entry, bool, error) {
	r, found, err := h.c.GetPlugin(ctx, string(kind), name)
	if err != nil || !found {
		return host.Entry{}, found, err
	}
	e := host.Entry{Kind: plugin.Kind(r.Kind), Name: r.Name, Version: r.Version, Path: r.Path, SHA256: r.SHA256,
		Description: r.Description, RegisteredAt: r.RegisteredAt}
	if len(r.Schema) > 0 {
		if err := json.Unmarshal(r.Schema, &e.Schema); err != nil {
			return host.Entry{}, false, fmt.Errorf("catalogue entry of %s plugin %q: decode its schema: %w", kind, name, err)
		}
	}
	return e, true, nil
}

// Put implements host.Catalogue.
func (h hostCatalogue) Put(ctx context.Context, e host.Entry) error {
	r, err := pluginRecord(e)
	if err != nil {
		return err
	}
	return h.c.PutPlugin(ctx, r)
}

// pluginRecord is e in core's terms, its schema encoded as the SDK encodes it.
func pluginRecord(e host.Entry) (core.PluginRecord, error) {
	schema, err := json.Marshal(e.Schema)
	if err != nil {
		return core.PluginRecord{}, fmt.Errorf("%s plugin %q: encode its schema: %w", e.Kind, e.Name, err)
	}
	return core.PluginRecord{Kind: string(e.Kind), Name: e.Name, Version: e.Version, Description: e.Description,
		Path: e.Path, SHA256: e.SHA256, Schema: schema, RegisteredAt: e.RegisteredAt}, nil
}

// PluginRegistry makes the plugin host the service's plugin registry.
func PluginRegistry(h *host.Host) service.PluginRegistry {
	return pluginRegistry{h: h}
}

type pluginRegistry struct {
	h *host.Host
}

// Plugins implements service.PluginRegistry.
func (p pluginRegistry) Plugins() []core.PluginStatus {
	sts := p.h.Plugins()
	out := make([]core.PluginStatus, 0, len(sts))
	for _, st := range sts {
		out = append(out, pluginStatus(st))
	}
	return out
}

// Register implements service.PluginRegistry. The host's errors pass
// through unchanged: the service classifies plugin errors.
func (p pluginRegistry) Register(ctx context.Context, kind plugin.Kind, name string) (core.PluginStatus, error) {
	st, err := p.h.Register(ctx, kind, name)
	if err != nil {
		return core.PluginStatus{}, err
	}
	return pluginStatus(st), nil
}

// pluginStatus is st in core's terms. A schema that does not encode (it
// cannot: the host checked it) is shown as none rather than hiding the
// plugin's status.
func pluginStatus(st host.Status) core.PluginStatus {
	r, err := pluginRecord(st.Entry)
	if err != nil {
		r = core.PluginRecord{Kind: string(st.Kind), Name: st.Name, Version: st.Version, Description: st.Description,
			Path: st.Path, SHA256: st.SHA256, RegisteredAt: st.RegisteredAt}
	}
	return core.PluginStatus{PluginRecord: r, Status: st.Status, Pid: st.Pid, Restarts: st.Restarts, LastError: st.LastError}
}
