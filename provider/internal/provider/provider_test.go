package provider

import (
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// pluginsProbe is a data source read that needs a working client.
const pluginsProbe = `
data "certctl_plugins" "all" {}
`

// TestProviderSettings configures the provider every way it can be: from
// the environment (every other test), from its block, over TLS with the
// server's CA given as a file or as PEM, with verification off, and wrong.
func TestProviderSettings(t *testing.T) {
	// A TLS front for the server, as a reverse proxy in production would be.
	u, err := url.Parse(env.url)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(u))
	t.Cleanup(front.Close)
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: front.Certificate().Raw}))
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, []byte(caPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	block := func(settings string) string {
		return fmt.Sprintf("provider \"certctl\" {\n%s\n}\n", settings) + pluginsProbe
	}
	hasPlugins := []statecheck.StateCheck{
		statecheck.ExpectKnownValue("data.certctl_plugins.all", tfjsonpath.New("plugins"), knownvalue.NotNull()),
	}
	t.Setenv(EnvURL, "")
	t.Setenv(EnvAPIKey, "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers(),
		// The failures first: the destroy after the last step uses its
		// configuration, which must work.
		Steps: []resource.TestStep{
			{
				Config:      block(fmt.Sprintf("endpoint = %q\napi_key = %q", front.URL, env.key)),
				ExpectError: regexp.MustCompile(`certificate`), // the system's roots do not know the test CA
			},
			{Config: block(fmt.Sprintf("endpoint = %q\napi_key = \"cck_wrong\"", env.url)), ExpectError: regexp.MustCompile(`(?i)unauthori`)},
			{Config: block(fmt.Sprintf("api_key = %q", env.key)), ExpectError: regexp.MustCompile(`CERTCTL_URL`)},
			{Config: block(fmt.Sprintf("endpoint = %q", env.url)), ExpectError: regexp.MustCompile(`CERTCTL_API_KEY`)},
			{
				Config:      block(fmt.Sprintf("endpoint = %q\napi_key = %q\nca_pem = \"not a certificate\"", front.URL, env.key)),
				ExpectError: regexp.MustCompile(`no PEM certificate`),
			},
			{Config: block(fmt.Sprintf("endpoint = %q\napi_key = %q\ninsecure_skip_verify = true", front.URL, env.key)), ConfigStateChecks: hasPlugins},
			{Config: block(fmt.Sprintf("endpoint = %q\napi_key = %q\nca_file = %q", front.URL, env.key, caFile)), ConfigStateChecks: hasPlugins},
			{Config: block(fmt.Sprintf("endpoint = %q\napi_key = %q\nca_pem = %q", front.URL, env.key, caPEM)), ConfigStateChecks: hasPlugins},
			{Config: block(fmt.Sprintf("endpoint = %q\napi_key = %q", env.url, env.key)), ConfigStateChecks: hasPlugins},
		},
	})
}

// TestProviderEnvironment: with no provider block at all, CERTCTL_URL and
// CERTCTL_API_KEY configure it (TestMain sets them to the test server).
func TestProviderEnvironment(t *testing.T) {
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers(),
		Steps: []resource.TestStep{{
			Config: pluginsProbe,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("data.certctl_plugins.all", tfjsonpath.New("plugins"), knownvalue.NotNull()),
			},
		}},
	})
}
