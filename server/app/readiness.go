package app

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/host"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/httpapi"
	"github.com/certctl/certctl/server/store"
)

// pluginReadiness reports, for /readyz, each plugin this server needs: the
// issuer plugin of every issuer and the notifier plugin of every enabled
// notifier (targets' plugins run on agents). The key is
// "plugin/<kind>/<name>", the value "ok" or why the plugin cannot serve.
//
// It starts nothing: plugins start on first use, and a readiness probe
// every few seconds must not keep them all running. A plugin is ready when
// the host accepted its binary (the file's checksum is the catalogue's)
// whether or not a process runs: "crashed" is ready too, since the next
// call starts a new process. An open circuit is reported as degraded and
// does not make the server unready.
func pluginReadiness(ctx context.Context, st *store.Store, h *host.Host) (map[string]string, error) {
	required, err := requiredPlugins(ctx, st)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(required))
	for _, r := range required {
		out["plugin/"+string(r.kind)+"/"+r.name] = pluginReady(h, r.kind, r.name)
	}
	return out, nil
}

// pluginReady is "ok" or why the plugin kind/name cannot serve.
func pluginReady(h *host.Host, kind plugin.Kind, name string) string {
	st, found := h.Lookup(kind, name)
	if !found {
		return fmt.Sprintf("not installed: no %s%s-%s in the plugin directory", host.FilePrefix, kind, name)
	}
	switch st.Status {
	case host.StatusReady, host.StatusRunning, host.StatusCrashed:
		return "ok"
	case host.StatusCircuitOpen:
		// Every replica runs the same binary and meets the same failures,
		// so taking this one out of rotation would only move the load
		// balancer's traffic to replicas that are no better, or leave it
		// none: the API, the console and the agents' other work do not
		// need the plugin. Reported, not failed.
		msg := httpapi.DegradedPrefix + host.StatusCircuitOpen
		if st.LastError != "" {
			msg += ": " + st.LastError
		}
		return msg
	case host.StatusChecksumMismatch:
		return "checksum_mismatch: the binary changed since it was registered; register it (POST /api/v1/plugins/" +
			string(kind) + "/" + name + "/register on this server)"
	}
	if st.LastError != "" {
		return st.Status + ": " + st.LastError
	}
	return st.Status
}

type pluginRef struct {
	kind plugin.Kind
	name string
}

// requiredPlugins lists, without repeats, the plugins the stored issuers
// and enabled notifiers use.
func requiredPlugins(ctx context.Context, st *store.Store) ([]pluginRef, error) {
	var out []pluginRef
	add := func(kind plugin.Kind, name string) {
		if r := (pluginRef{kind, name}); !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	q := st.Q()
	var after *uuid.UUID
	for {
		issuers, more, err := q.ListIssuers(ctx, core.IssuerFilter{Page: core.Page{Limit: core.MaxPageLimit, After: after}})
		if err != nil {
			return nil, fmt.Errorf("list issuers: %w", err)
		}
		for _, iss := range issuers {
			add(plugin.KindIssuer, iss.Type)
		}
		if !more || len(issuers) == 0 {
			break
		}
		after = &issuers[len(issuers)-1].ID
	}
	after = nil
	for {
		notifiers, more, err := q.ListNotifiers(ctx, core.NotifierFilter{Page: core.Page{Limit: core.MaxPageLimit, After: after}})
		if err != nil {
			return nil, fmt.Errorf("list notifiers: %w", err)
		}
		for _, n := range notifiers {
			if n.Enabled {
				add(plugin.KindNotifier, n.Type)
			}
		}
		if !more || len(notifiers) == 0 {
			break
		}
		after = &notifiers[len(notifiers)-1].ID
	}
	return out, nil
}
