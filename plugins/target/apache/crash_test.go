package main

import (
	"testing"

	"github.com/certctl/certctl/plugins/target/internal/servertest"
	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// TestCrashRecovery kills the plugin between writing the certificate,
// chain and key files and reloading Apache, and checks that the next
// process completes the deployment or rolls it back, and says which.
func TestCrashRecovery(t *testing.T) {
	t.Parallel()
	srv := startApache(t, true)
	var reload []any
	for _, a := range srv.apache("-k", "graceful") {
		reload = append(reload, a)
	}
	servertest.RunCrashRecovery(t, servertest.CrashRecovery{
		Binary: plugintest.Build(t, "."),
		Server: srv.Server,
		Addr:   srv.addr,
		Config: func(reload []any) plugin.Config {
			c := srv.config()
			c["reload_command"] = reload
			return c
		},
		Reload:   reload,
		LeafPath: srv.cert,
	})
}
