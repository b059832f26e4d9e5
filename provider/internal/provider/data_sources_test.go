package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/certctl/certctl/sdk/api"
)

// enrollTestAgent enrolls an agent through the SDK's agent API, as
// certctl-agent does, reporting the given facts.
func enrollTestAgent(t *testing.T, name, os, arch string, labels map[string]string) *api.Agent {
	t.Helper()
	ctx := context.Background()
	tok, err := env.client.CreateEnrollmentToken(ctx, api.EnrollmentTokenRequest{AgentName: name, Labels: labels, TTL: "10m"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := env.client.EnrollAgent(ctx, api.AgentEnrollRequest{Token: tok.Token,
		Facts: api.AgentFacts{OS: os, Arch: arch, Hostname: name + ".test", AgentVersion: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	return &res.Agent
}

// TestDataSources reads every data source against resources of the same
// configuration and agents enrolled through the SDK.
func TestDataSources(t *testing.T) {
	linux := enrollTestAgent(t, "tf-ds-linux", "linux", "amd64", map[string]string{"group": "tfds", "role": "web"})
	enrollTestAgent(t, "tf-ds-windows", "windows", "arm64", map[string]string{"group": "tfds", "role": "iis"})
	enrollTestAgent(t, "tf-ds-other", "linux", "amd64", map[string]string{"group": "elsewhere"})
	cfg := `
resource "certctl_issuer" "ca" {
  name = "tf-ds-ca"
  type = "local"
}

resource "certctl_certificate" "a" {
  name        = "tf-ds-a"
  common_name = "a.example.com"
  issuer_id   = certctl_issuer.ca.id
  labels      = { env = "prod" }
  wait_for    = "issued"
}

resource "certctl_certificate" "b" {
  name        = "tf-ds-b"
  common_name = "b.example.com"
  issuer_id   = certctl_issuer.ca.id
  labels      = { env = "dev" }
  wait_for    = "issued"
  # Lists come in creation order: b after a, so the checks below can
  # name them in order (Terraform would otherwise create both at once).
  depends_on = [certctl_certificate.a]
}

data "certctl_certificate" "a" {
  name = certctl_certificate.a.name
}

data "certctl_certificate" "b_by_id" {
  id = certctl_certificate.b.id
}

data "certctl_certificates" "prod" {
  name_prefix = "tf-ds-"
  labels      = { env = "prod" }
  depends_on  = [certctl_certificate.a, certctl_certificate.b]
}

data "certctl_certificates" "of_issuer" {
  issuer_id  = certctl_issuer.ca.id
  status     = "active"
  depends_on = [certctl_certificate.a, certctl_certificate.b]
}

data "certctl_issuer" "default" {
  name = "local"
}

data "certctl_issuer" "mine" {
  id = certctl_issuer.ca.id
}

data "certctl_agent" "linux" {
  name = "tf-ds-linux"
}

data "certctl_agents" "linux" {
  os     = "linux"
  labels = { group = "tfds" }
}

data "certctl_agents" "arm" {
  arch   = "arm64"
  labels = { group = "tfds" }
}

data "certctl_agents" "group" {
  labels = { group = "tfds" }
}

data "certctl_plugins" "targets" {
  kind = "target"
}
`
	names := func(addr, list string, want ...string) statecheck.StateCheck {
		var checks []knownvalue.Check
		for _, n := range want {
			checks = append(checks, knownvalue.ObjectPartial(map[string]knownvalue.Check{"name": knownvalue.StringExact(n)}))
		}
		return statecheck.ExpectKnownValue(addr, tfjsonpath.New(list), knownvalue.ListExact(checks))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers(),
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.CompareValuePairs("data.certctl_certificate.a", tfjsonpath.New("serial_number"),
					"certctl_certificate.a", tfjsonpath.New("serial_number"), compare.ValuesSame()),
				statecheck.CompareValuePairs("data.certctl_certificate.a", tfjsonpath.New("certificate_pem"),
					"certctl_certificate.a", tfjsonpath.New("certificate_pem"), compare.ValuesSame()),
				statecheck.ExpectKnownValue("data.certctl_certificate.b_by_id", tfjsonpath.New("name"), knownvalue.StringExact("tf-ds-b")),
				statecheck.ExpectKnownValue("data.certctl_certificate.b_by_id", tfjsonpath.New("status"), knownvalue.StringExact("active")),
				names("data.certctl_certificates.prod", "certificates", "tf-ds-a"),
				names("data.certctl_certificates.of_issuer", "certificates", "tf-ds-a", "tf-ds-b"),
				statecheck.ExpectKnownValue("data.certctl_issuer.default", tfjsonpath.New("type"), knownvalue.StringExact("local")),
				statecheck.ExpectKnownValue("data.certctl_issuer.default", tfjsonpath.New("ca_certificate_pem"),
					knownvalue.StringRegexp(regexpMust(`^-----BEGIN CERTIFICATE-----`))),
				statecheck.ExpectKnownValue("data.certctl_issuer.mine", tfjsonpath.New("name"), knownvalue.StringExact("tf-ds-ca")),
				statecheck.ExpectKnownValue("data.certctl_agent.linux", tfjsonpath.New("id"), knownvalue.StringExact(linux.ID)),
				statecheck.ExpectKnownValue("data.certctl_agent.linux", tfjsonpath.New("os"), knownvalue.StringExact("linux")),
				statecheck.ExpectKnownValue("data.certctl_agent.linux", tfjsonpath.New("labels"),
					knownvalue.MapExact(map[string]knownvalue.Check{"group": knownvalue.StringExact("tfds"), "role": knownvalue.StringExact("web")})),
				names("data.certctl_agents.linux", "agents", "tf-ds-linux"),
				names("data.certctl_agents.arm", "agents", "tf-ds-windows"),
				names("data.certctl_agents.group", "agents", "tf-ds-linux", "tf-ds-windows"),
				statecheck.ExpectKnownValue("data.certctl_plugins.targets", tfjsonpath.New("plugins"), knownvalue.ListPartial(
					map[int]knownvalue.Check{0: knownvalue.ObjectPartial(map[string]knownvalue.Check{"kind": knownvalue.StringExact("target")})})),
			},
		}},
	})
}
