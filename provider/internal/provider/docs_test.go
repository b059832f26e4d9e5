package provider

// docs_test.go checks that the generated documentation (docs/provider, made
// by provider/gendocs.sh with tfplugindocs) and the examples cover the
// provider as it is: a page and an example for every resource, data
// source and ephemeral resource, naming every attribute with its current
// description. A schema change without `provider/gendocs.sh` fails here.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/certctl/certctl/tools/doctest"
)

// docAttr is one attribute as the docs should show it.
type docAttr struct{ name, description string }

func TestDocs(t *testing.T) {
	ctx := context.Background()
	root := doctest.RepoRoot(t)
	p := New("test")().(*certctlProvider)
	check := func(kind, exampleFile, typeName string, attrs []docAttr) {
		t.Helper()
		short := strings.TrimPrefix(typeName, "certctl_")
		page := filepath.Join(root, "docs", "provider", kind, short+".md")
		b, err := os.ReadFile(page)
		if err != nil {
			t.Errorf("%s has no page: %v (run provider/gendocs.sh)", typeName, err)
			return
		}
		text := string(b)
		for _, a := range attrs {
			// tfplugindocs writes "- `name` (Type) description".
			if !strings.Contains(text, "- `"+a.name+"` (") {
				t.Errorf("%s: attribute %s is not documented (run provider/gendocs.sh)", page, a.name)
			} else if a.description != "" && !strings.Contains(text, strings.ReplaceAll(a.description, "\n", " ")) {
				t.Errorf("%s: attribute %s has an old description (run provider/gendocs.sh)", page, a.name)
			}
		}
		if _, err := os.Stat(filepath.Join(root, "examples", kind, typeName, exampleFile)); err != nil {
			t.Errorf("%s has no example: %v", typeName, err)
		}
	}
	for _, f := range p.Resources(ctx) {
		r := f()
		var md resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "certctl"}, &md)
		var sc resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &sc)
		var attrs []docAttr
		for name, a := range sc.Schema.Attributes {
			attrs = append(attrs, docAttr{name, a.GetDescription()})
		}
		check("resources", "resource.tf", md.TypeName, attrs)
		if _, err := os.Stat(filepath.Join(root, "examples", "resources", md.TypeName, "import.sh")); err != nil {
			t.Errorf("%s has no import example: %v", md.TypeName, err)
		}
	}
	for _, f := range p.DataSources(ctx) {
		d := f()
		var md datasource.MetadataResponse
		d.Metadata(ctx, datasource.MetadataRequest{ProviderTypeName: "certctl"}, &md)
		var sc datasource.SchemaResponse
		d.Schema(ctx, datasource.SchemaRequest{}, &sc)
		var attrs []docAttr
		for name, a := range sc.Schema.Attributes {
			attrs = append(attrs, docAttr{name, a.GetDescription()})
		}
		check("data-sources", "data-source.tf", md.TypeName, attrs)
	}
	for _, f := range p.EphemeralResources(ctx) {
		e := f()
		var md ephemeral.MetadataResponse
		e.Metadata(ctx, ephemeral.MetadataRequest{ProviderTypeName: "certctl"}, &md)
		var sc ephemeral.SchemaResponse
		e.Schema(ctx, ephemeral.SchemaRequest{}, &sc)
		var attrs []docAttr
		for name, a := range sc.Schema.Attributes {
			attrs = append(attrs, docAttr{name, a.GetDescription()})
		}
		check("ephemeral-resources", "ephemeral-resource.tf", md.TypeName, attrs)
	}
	var ps provider.SchemaResponse
	p.Schema(ctx, provider.SchemaRequest{}, &ps)
	index, err := os.ReadFile(filepath.Join(root, "docs", "provider", "index.md"))
	if err != nil {
		t.Fatal(err)
	}
	for name := range ps.Schema.Attributes {
		if !strings.Contains(string(index), "- `"+name+"` (") {
			t.Errorf("docs/provider/index.md: provider setting %s is not documented", name)
		}
	}
}
