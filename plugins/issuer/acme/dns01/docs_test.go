package dns01

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/tools/doctest"
)

// TestDocsExamples checks that every configuration in the DNS-01 section
// of docs/issuers.md passes the schema, FromConfig and New, and that the
// section's table lists exactly the fields and providers compiled in.
func TestDocsExamples(t *testing.T) {
	text, err := os.ReadFile(filepath.Join(doctest.RepoRoot(t), "docs", "issuers.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(text), "\n## DNS-01\n")
	if !ok {
		t.Fatal("docs/issuers.md has no ## DNS-01 section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	n := 0
	for _, block := range strings.Split(section, "```json\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		var cfg plugin.Config
		if err := json.Unmarshal([]byte(block), &cfg); err != nil {
			t.Errorf("example %d does not parse: %v\n%s", n+1, err, block)
			continue
		}
		n++
		norm, err := plugin.Schema{Fields: SchemaFields()}.Normalize(cfg)
		if err != nil {
			t.Errorf("example %d: %v", n, err)
			continue
		}
		c, err := FromConfig(norm)
		if err == nil {
			_, err = New(c)
		}
		if err != nil {
			t.Errorf("example %d (%s): %v", n, cfg[FieldProvider], err)
		}
	}
	if n < 4 {
		t.Errorf("%d examples found, want rfc2136, hook, cloudflare and route53", n)
	}
	for _, f := range SchemaFields() {
		if !strings.Contains(section, "| `"+f.Name+"` |") {
			t.Errorf("the fields table lacks %s", f.Name)
		}
	}
	for _, p := range LegoProviders() {
		if !strings.Contains(section, "| `"+p+"` |") {
			t.Errorf("the providers table lacks %s", p)
		}
	}
}
