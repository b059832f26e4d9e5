package main

import (
	"testing"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// TestConformance runs the SDK's conformance kit on the built binary.
func TestConformance(t *testing.T) {
	plugintest.Run(t, plugintest.Options{
		Binary:      plugintest.Build(t, "."),
		Kind:        plugin.KindIssuer,
		ValidConfig: plugin.Config{fieldCAKeyType: "ecdsa-p256", fieldValidity: "7d", fieldCRLURL: crlURL},
		InvalidConfigs: []plugintest.InvalidConfig{
			{Name: "unknown CA key type", Config: plugin.Config{fieldCAKeyType: "dsa-1024"}, Field: fieldCAKeyType},
			{Name: "validity over max", Config: plugin.Config{fieldValidity: "400d"}, Field: fieldValidity},
			{Name: "CRL URL not http", Config: plugin.Config{fieldCRLURL: "ftp://ca.example.com/crl"}, Field: fieldCRLURL},
			{Name: "key without certificate", Config: plugin.Config{fieldCAKey: "not a key"}, Field: fieldCACert},
			{Name: "allowed domain not a name", Config: plugin.Config{fieldAllowedDomains: []any{"not a domain"}}, Field: fieldAllowedDomains},
		},
		Issuer: &plugintest.IssuerCases{
			Provision:  true,
			KeyTypes:   plugintest.KeyTypes,
			CommonName: "api.example.com",
			SANs:       []string{"www.example.com", "192.0.2.10"},
		},
	})
}
