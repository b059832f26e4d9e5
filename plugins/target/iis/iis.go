package main

import (
	"context"
	"log/slog"

	"github.com/certctl/certctl/sdk/plugin"

	"github.com/certctl/certctl/plugins/target/internal/keylock"
)

// version is the plugin's version: below 1.0 until it has been tried on
// a real Windows host.
const version = "0.1.0"

// target is the IIS target plugin.
type target struct {
	log   *slog.Logger
	locks keylock.Locks // one per binding, within this process
}

var _ plugin.Target = (*target)(nil)

func newTarget(log *slog.Logger) *target {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &target{log: log.With("target", "iis")}
}

// Info describes the plugin.
func (t *target) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{
		Name:    "iis",
		Kind:    plugin.KindTarget,
		Version: version,
		Description: "Deploys to a Microsoft IIS site over WinRM (HTTPS, NTLM or Basic): imports a PFX into the LocalMachine store, " +
			"binds it to the site's https binding, restores the previous certificate if binding fails, and verifies the binding " +
			"(and optionally the served certificate). Preview: not yet tried against a real Windows host.",
		Schema: schema,
	}, nil
}

// ValidateConfig checks a configuration without reaching the host:
// addresses, names and limits must be well formed. Whether the host
// answers, the credentials work, the site exists and the store is
// writable is what a dry run checks, from the agent that deploys.
func (t *target) ValidateConfig(ctx context.Context, req plugin.ValidateConfigRequest) error {
	cfg := req.Config
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := readConfig(cfg)
	return err
}
