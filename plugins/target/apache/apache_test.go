package main

import (
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/plugins/target/internal/servertest"
	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// TestApache deploys through the plugin's real process to a real Apache
// httpd whose chain is in a file of its own (SSLCertificateChainFile).
func TestApache(t *testing.T) {
	t.Parallel()
	srv := startApache(t, true)
	target := servertest.Open(t, plugintest.Build(t, "."))

	servertest.RunLifecycle(t, servertest.Lifecycle{
		Target: target,
		Server: srv.Server,
		Config: srv.config(),
		Addr:   srv.addr,
		Files: func(l servertest.Leaf) []servertest.WantFile {
			return []servertest.WantFile{
				{Path: srv.cert, Content: l.CertPEM, Mode: 0o644},
				{Path: srv.chain, Content: l.ChainPEM, Mode: 0o644},
				{Path: srv.key, Content: l.KeyPEM, Mode: 0o600},
			}
		},
		ChainLen:     2,
		Break:        srv.breakConfig,
		BrokenOutput: "Invalid command 'CertctlBrokenDirective'",
		Reloads:      func(t *testing.T) int { return servertest.Count(t, srv.reloads) },
		DirField:     fieldChainPath,
	})

	t.Run("files", func(t *testing.T) {
		servertest.RunFileChecks(t, servertest.FileChecks{
			Target: target,
			Config: func(dir string, validate, reload []any) plugin.Config {
				return plugin.Config{fieldCertificatePath: filepath.Join(dir, "cert.pem"), fieldKeyPath: filepath.Join(dir, "key.pem"),
					"validate_command": validate, "reload_command": reload}
			},
			Files: func(dir string, l servertest.Leaf) []servertest.WantFile {
				return []servertest.WantFile{
					{Path: filepath.Join(dir, "cert.pem"), Content: l.CertPEM + l.ChainPEM, Mode: 0o644},
					{Path: filepath.Join(dir, "key.pem"), Content: l.KeyPEM, Mode: 0o600},
				}
			},
		})
	})
}
