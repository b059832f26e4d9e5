package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// TestConformance runs the SDK's conformance kit on the built binary,
// issuing through the documented OpenSSL CA script.
func TestConformance(t *testing.T) {
	ca := newOpenSSLCA(t)
	notExec := filepath.Join(t.TempDir(), "sign.sh")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	with := func(field string, v any) plugin.Config {
		cfg := ca.config()
		cfg[field] = v
		return cfg
	}
	plugintest.Run(t, plugintest.Options{
		Binary:      plugintest.Build(t, "."),
		Kind:        plugin.KindIssuer,
		ValidConfig: ca.config(),
		InvalidConfigs: []plugintest.InvalidConfig{
			{Name: "no command", Config: plugin.Config{fieldEnv: []any{"CA_DIR=/x"}}, Field: fieldCommand},
			{Name: "empty command", Config: with(fieldCommand, []any{}), Field: fieldCommand},
			{Name: "command a shell string", Config: with(fieldCommand, "/bin/sign --all"), Field: fieldCommand},
			{Name: "relative path", Config: with(fieldCommand, []any{"bin/sign.sh"}), Field: fieldCommand},
			{Name: "missing program", Config: with(fieldCommand, []any{"/nonexistent/sign.sh"}), Field: fieldCommand},
			{Name: "not on PATH", Config: with(fieldCommand, []any{"certctl-no-such-signer"}), Field: fieldCommand},
			{Name: "not executable", Config: with(fieldCommand, []any{notExec}), Field: fieldCommand},
			{Name: "a directory", Config: with(fieldCommand, []any{t.TempDir()}), Field: fieldCommand},
			{Name: "revoke program missing", Config: with(fieldRevokeCommand, []any{"/nonexistent/revoke.sh"}), Field: fieldRevokeCommand},
			{Name: "timeout zero", Config: with(fieldTimeout, "0s"), Field: fieldTimeout},
			{Name: "env entry without =", Config: with(fieldEnv, []any{"hunter2hunter2"}), Field: fieldEnv},
			{Name: "env name reserved", Config: with(fieldEnv, []any{"CERTCTL_COMMON_NAME=x.example.com"}), Field: fieldEnv},
			{Name: "env name twice", Config: with(fieldEnv, []any{"A=1", "A=2"}), Field: fieldEnv},
			{Name: "working dir missing", Config: with(fieldWorkingDir, "/nonexistent/dir"), Field: fieldWorkingDir},
			{Name: "working dir relative", Config: with(fieldWorkingDir, "ca"), Field: fieldWorkingDir},
		},
		Issuer: &plugintest.IssuerCases{
			KeyTypes:   plugintest.KeyTypes,
			CommonName: "api.example.com",
			SANs:       []string{"www.example.com", "*.api.example.com", "192.0.2.10"},
		},
	})
}
