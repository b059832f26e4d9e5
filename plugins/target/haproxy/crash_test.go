package main

import (
	"testing"

	"github.com/certctl/certctl/plugins/target/internal/servertest"
	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// TestCrashRecovery kills the plugin between writing the combined PEM
// file (certificate, chain and key) and reloading HAProxy, and checks
// that the next process completes the deployment or rolls it back, and
// says which.
func TestCrashRecovery(t *testing.T) {
	t.Parallel()
	srv := startHAProxy(t)
	servertest.RunCrashRecovery(t, servertest.CrashRecovery{
		Binary: plugintest.Build(t, "."),
		Server: srv.Server,
		Addr:   srv.addr,
		Config: func(reload []any) plugin.Config {
			c := srv.config()
			c["reload_command"] = reload
			return c
		},
		Reload:   []any{"sh", "-c", `kill -USR2 "$(cat "$0")"`, srv.pidFile},
		LeafPath: srv.pem,
	})
}
