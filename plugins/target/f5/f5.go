package main

import (
	"context"
	"log/slog"

	"github.com/certctl/certctl/sdk/plugin"

	"github.com/certctl/certctl/plugins/target/internal/keylock"
)

// version is the plugin's own version.
const version = "0.1.0"

// target is the F5 BIG-IP target plugin: it implements plugin.Target.
type target struct {
	log   *slog.Logger
	locks keylock.Locks // one per profile: deployments to it must not interleave their transactions
}

var _ plugin.Target = (*target)(nil)

// New returns the plugin, logging to log (nil discards).
func newTarget(log *slog.Logger) *target {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &target{log: log.With("target", "f5")}
}

// Info describes the plugin.
func (t *target) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{
		Name:    "f5",
		Kind:    plugin.KindTarget,
		Version: version,
		Description: "Deploys to an F5 BIG-IP through iControl REST: installs the certificate, chain and key as new objects " +
			"and switches a client-SSL profile to them in one transaction; verifies the profile (and optionally the served serial).",
		Schema: schema,
	}, nil
}

// ValidateConfig checks a configuration without contacting the BIG-IP
// (the server that stores it may not reach it; the agent that deploys
// does, and a dry run checks the login, partition and profile).
func (t *target) ValidateConfig(ctx context.Context, req plugin.ValidateConfigRequest) error {
	cfg := req.Config
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := readConfig(cfg)
	return err
}
