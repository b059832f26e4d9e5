package main

import (
	"os"
	"strings"
	"testing"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// TestConformance builds this plugin and runs certctl's conformance kit on
// the binary, as a host would run it.
func TestConformance(t *testing.T) {
	plugintest.Run(t, plugintest.Options{
		Binary:      plugintest.Build(t, "."),
		Kind:        plugin.KindIssuer,
		ValidConfig: plugin.Config{"validity": "7d"},
		InvalidConfigs: []plugintest.InvalidConfig{
			{Name: "validity not a duration", Config: plugin.Config{"validity": "soon"}, Field: "validity"},
			{Name: "key without certificate", Config: plugin.Config{"ca_key": "secret"}, Field: "ca_cert"},
		},
		Issuer: &plugintest.IssuerCases{
			Provision:  true,
			KeyTypes:   []string{"ecdsa-p256", "ecdsa-p384", "rsa-2048", "ed25519"},
			CommonName: "app.example.com",
			SANs:       []string{"www.example.com", "192.0.2.7"},
		},
	})
}

// TestDocsShowThisSource keeps the copy of main.go in docs/plugins.md
// identical to the file, and the file under 100 lines as the docs say.
func TestDocsShowThisSource(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := os.ReadFile("../../../docs/plugins.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(docs), "```go\n"+string(src)+"```\n") {
		t.Error("docs/plugins.md does not show sdk/plugin/example/main.go as it is: copy the file into its code block")
	}
	if n := strings.Count(string(src), "\n"); n >= 100 {
		t.Errorf("main.go has %d lines; the docs promise under 100", n)
	}
}
