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
// identical to the file, and the file under 100 lines of code as the docs
// and issue 13 promise: blank lines and comment lines (those that start
// with //, after indentation) do not count; a line of code with a comment
// after it does.
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
	if strings.Contains(string(src), "/*") {
		t.Error("main.go has a /* comment, which this count does not know: use // comments")
	}
	if n := codeLines(string(src)); n >= 100 {
		t.Errorf("main.go has %d lines of code (blank and comment lines aside); the docs promise under 100", n)
	}
}

// codeLines counts the lines of src that are neither blank nor comments.
func codeLines(src string) int {
	n := 0
	for line := range strings.Lines(src) {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "//") {
			n++
		}
	}
	return n
}

func TestCodeLines(t *testing.T) {
	src := "// Package main.\npackage main\n\n\t// a comment\nfunc main() {} // counted\n  \n"
	if got := codeLines(src); got != 2 {
		t.Errorf("codeLines = %d, want 2", got)
	}
}
