package main

import (
	"testing"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// TestConformance runs the SDK's conformance kit on the built binary,
// including a real deployment to an HAProxy of its own and the check
// that HAProxy then serves it.
func TestConformance(t *testing.T) {
	t.Parallel()
	srv := startHAProxy(t)
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
			{Name: "missing pem_path", Config: with(fieldPEMPath, nil), Field: fieldPEMPath},
			{Name: "relative pem_path", Config: with(fieldPEMPath, "certs/server.pem"), Field: fieldPEMPath},
			{Name: "empty reload_command", Config: with("reload_command", []any{}), Field: "reload_command"},
			{Name: "bad verify_address", Config: with("verify_address", "127.0.0.1:http-alt:1"), Field: "verify_address"},
			{Name: "command_timeout under min", Config: with("command_timeout", "500ms"), Field: "command_timeout"},
			{Name: "owner with a space", Config: with("owner", "ha proxy"), Field: "owner"},
		},
		Target: &plugintest.TargetCases{Deploy: true, ValidateDeployment: true},
	})
}
