package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/tools/doctest"
)

// TestDocsExamples checks every issuer of the ACME section of
// docs/issuers.md against the plugin's schema and ValidateConfig, as the
// server does when the issuer is created.
func TestDocsExamples(t *testing.T) {
	text, err := os.ReadFile(filepath.Join(doctest.RepoRoot(t), "docs", "issuers.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(text), "\n## ACME\n")
	if !ok {
		t.Fatal("docs/issuers.md has no ## ACME section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	n := 0
	for _, block := range strings.Split(section, "```json\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		var issuer struct {
			Name   string         `json:"name"`
			Type   string         `json:"type"`
			Config map[string]any `json:"config"`
		}
		if err := json.Unmarshal([]byte(block), &issuer); err != nil {
			t.Errorf("example %d does not parse: %v\n%s", n+1, err, block)
			continue
		}
		n++
		if issuer.Type != "acme" || issuer.Name == "" {
			t.Errorf("example %q: type %q", issuer.Name, issuer.Type)
		}
		norm, err := schema().Normalize(issuer.Config)
		if err == nil {
			err = newIssuer().ValidateConfig(context.Background(), plugin.ValidateConfigRequest{Config: norm})
		}
		if err != nil {
			t.Errorf("example %q: %v", issuer.Name, err)
		}
	}
	if n < 4 {
		t.Errorf("%d examples found, want the four of the section", n)
	}
}
