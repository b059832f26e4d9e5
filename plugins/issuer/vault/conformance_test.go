package main

import (
	"testing"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// TestConformance runs the SDK's conformance kit on the built binary
// against the fake Vault, over TLS, in a namespace, logging in with
// AppRole.
func TestConformance(t *testing.T) {
	f := newFakeVault(t, true)
	f.namespace = "team-a"
	valid := plugin.Config{fieldAddress: f.URL, fieldRole: "web", fieldRoleID: f.roleID, fieldSecretID: f.secretID,
		fieldNamespace: "team-a", fieldCACert: f.CACertPEM}
	with := func(changes plugin.Config) plugin.Config {
		cfg := valid.Clone()
		for k, v := range changes {
			if v == nil {
				delete(cfg, k)
			} else {
				cfg[k] = v
			}
		}
		return cfg
	}
	plugintest.Run(t, plugintest.Options{
		Binary:      plugintest.Build(t, "."),
		Kind:        plugin.KindIssuer,
		ValidConfig: valid,
		InvalidConfigs: []plugintest.InvalidConfig{
			{Name: "no address", Config: with(plugin.Config{fieldAddress: nil}), Field: fieldAddress},
			{Name: "address without scheme", Config: with(plugin.Config{fieldAddress: "vault.example.com:8200"}), Field: fieldAddress},
			{Name: "address with credentials", Config: with(plugin.Config{fieldAddress: "https://user:pw@vault.example.com"}), Field: fieldAddress},
			{Name: "no credentials", Config: with(plugin.Config{fieldRoleID: nil, fieldSecretID: nil}), Field: fieldToken},
			{Name: "token and AppRole", Config: with(plugin.Config{fieldToken: "hvs.sometoken"}), Field: fieldToken},
			{Name: "role_id without secret_id", Config: with(plugin.Config{fieldSecretID: nil}), Field: fieldSecretID},
			{Name: "mount not a path", Config: with(plugin.Config{fieldMount: "pki/../sys"}), Field: fieldMount},
			{Name: "role not a name", Config: with(plugin.Config{fieldRole: "web/../x"}), Field: fieldRole},
			{Name: "ca_cert not PEM", Config: with(plugin.Config{fieldCACert: "not a certificate"}), Field: fieldCACert},
			{Name: "wrong secret_id", Config: with(plugin.Config{fieldSecretID: "wrong-secret-id"}), Field: fieldSecretID},
			{Name: "unknown role", Config: with(plugin.Config{fieldRole: "db"}), Field: fieldRole},
			{Name: "unknown mount", Config: with(plugin.Config{fieldMount: "pki_int"}), Field: fieldMount},
			{Name: "wrong namespace", Config: with(plugin.Config{fieldNamespace: "team-b"}), Field: fieldApproleMount},
			{Name: "untrusted TLS", Config: with(plugin.Config{fieldCACert: nil}), Field: fieldCACert},
		},
		Issuer: &plugintest.IssuerCases{
			KeyTypes:   plugintest.KeyTypes,
			CommonName: "api.example.com",
			SANs:       []string{"www.example.com", "*.api.example.com", "192.0.2.10"},
			Roots:      rootsOf(f),
		},
	})
}
