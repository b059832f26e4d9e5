package main

import (
	"testing"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// TestConformance runs the SDK's conformance kit on the built binary,
// including a real deployment (full chain in SSLCertificateFile) to an
// Apache of its own and the check that Apache then serves it.
func TestConformance(t *testing.T) {
	t.Parallel()
	srv := startApache(t, false)
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
			{Name: "relative chain_path", Config: with(fieldChainPath, "chain.crt"), Field: fieldChainPath},
			{Name: "key_path same as certificate_path", Config: with(fieldKeyPath, valid[fieldCertificatePath]), Field: fieldKeyPath},
			{Name: "reload_command not a list", Config: with("reload_command", "apachectl -k graceful"), Field: "reload_command"},
			{Name: "verify_timeout over max", Config: with("verify_timeout", "1h"), Field: "verify_timeout"},
		},
		Target: &plugintest.TargetCases{Deploy: true, ValidateDeployment: true},
	})
}
