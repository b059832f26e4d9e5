package main

import (
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/plugins/target/internal/servertest"
	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// TestHAProxy deploys through the plugin's real process to a real
// HAProxy.
func TestHAProxy(t *testing.T) {
	t.Parallel()
	srv := startHAProxy(t)
	target := servertest.Open(t, plugintest.Build(t, "."))

	servertest.RunLifecycle(t, servertest.Lifecycle{
		Target: target,
		Server: srv.Server,
		Config: srv.config(),
		Addr:   srv.addr,
		Files: func(l servertest.Leaf) []servertest.WantFile {
			return []servertest.WantFile{{Path: srv.pem, Content: l.CertPEM + l.ChainPEM + l.KeyPEM, Mode: 0o600}}
		},
		ChainLen:     2,
		Break:        srv.breakConfig,
		BrokenOutput: "certctl-broken-keyword",
		Reloads:      func(t *testing.T) int { return servertest.Count(t, srv.reloads) },
		DirField:     fieldPEMPath,
	})

	t.Run("files", func(t *testing.T) {
		servertest.RunFileChecks(t, servertest.FileChecks{
			Target: target,
			Config: func(dir string, validate, reload []any) plugin.Config {
				return plugin.Config{fieldPEMPath: filepath.Join(dir, "server.pem"), "validate_command": validate, "reload_command": reload}
			},
			Files: func(dir string, l servertest.Leaf) []servertest.WantFile {
				return []servertest.WantFile{{Path: filepath.Join(dir, "server.pem"), Content: l.CertPEM + l.ChainPEM + l.KeyPEM, Mode: 0o600}}
			},
		})
	})

	t.Run("no_validate_command", func(t *testing.T) {
		// An empty validate_command skips the check; the reload still runs.
		cfg := srv.config()
		cfg["validate_command"] = []any{}
		l := servertest.NewCA(t, "no-validate CA").Issue(t, "localhost")
		before := servertest.Count(t, srv.reloads)
		ctx := t.Context()
		res, err := target.DeployCertificate(ctx, l.Request(cfg))
		if err != nil || !res.Changed {
			t.Fatalf("deploy without validate_command = %+v, %v", res, err)
		}
		if n := servertest.Count(t, srv.reloads); n != before+1 {
			t.Errorf("reload ran %d times, want once", n-before)
		}
		servertest.WaitServes(t, srv.Server, srv.addr, l.Serial)
	})
}
