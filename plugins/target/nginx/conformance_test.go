package main

import (
	"testing"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// TestConformance runs the SDK's conformance kit on the built binary,
// including a real deployment to an nginx of its own and the check that
// nginx then serves the deployed certificate.
func TestConformance(t *testing.T) {
	t.Parallel()
	srv := startNginx(t)
	valid := srv.config()
	with := func(k string, v any) plugin.Config {
		c := valid.Clone()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	plugintest.Run(t, plugintest.Options{
		Binary:      plugintest.Build(t, "."),
		Kind:        plugin.KindTarget,
		ValidConfig: valid,
		InvalidConfigs: []plugintest.InvalidConfig{
			{Name: "missing certificate_path", Config: with(fieldCertificatePath, nil), Field: fieldCertificatePath},
			{Name: "missing key_path", Config: with(fieldKeyPath, nil), Field: fieldKeyPath},
			{Name: "relative key_path", Config: with(fieldKeyPath, "ssl/server.key"), Field: fieldKeyPath},
			{Name: "chain_path same as key_path", Config: with(fieldChainPath, valid[fieldKeyPath]), Field: fieldKeyPath},
			{Name: "empty reload_command", Config: with("reload_command", []any{}), Field: "reload_command"},
			{Name: "verify_address without port", Config: with("verify_address", "127.0.0.1"), Field: "verify_address"},
			{Name: "command_timeout over max", Config: with("command_timeout", "11m"), Field: "command_timeout"},
		},
		Target: &plugintest.TargetCases{Deploy: true, ValidateDeployment: true},
	})
}
