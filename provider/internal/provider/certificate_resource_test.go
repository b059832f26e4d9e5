package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/certctl/certctl/sdk/client"
)

// certificateConfig is an issuer, a target without an agent and a
// certificate; body is the certificate's arguments beyond the issuer.
func certificateConfig(body string) string {
	return `
resource "certctl_issuer" "ca" {
  name   = "tf-cert-ca"
  type   = "local"
  config = jsonencode({ validity = "30d" })
}

resource "certctl_target" "web" {
  name   = "tf-cert-web"
  type   = "nginx"
  config = jsonencode({ certificate_path = "/etc/nginx/tls/www.crt", key_path = "/etc/nginx/tls/www.key" })
}

resource "certctl_certificate" "www" {
  issuer_id = certctl_issuer.ca.id
` + body + `
}
`
}

func TestCertificateResource(t *testing.T) {
	ctx := context.Background()
	var id, serial string
	state := func(s *terraform.State, attr string) string {
		return s.RootModule().Resources["certctl_certificate.www"].Primary.Attributes[attr]
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers(),
		CheckDestroy: func(*terraform.State) error {
			if _, err := env.client.GetCertificate(ctx, id); !client.IsNotFound(err) {
				return fmt.Errorf("certificate %s after destroy: %v, want not found", id, err)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: certificateConfig(`
  name        = "tf-www"
  common_name = "www.example.com"
  sans        = ["www.example.com", "WWW2.example.com"]
  labels      = { team = "web" }
  wait_for    = "issued"
  wait_timeout = "3m"
`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("certctl_certificate.www", tfjsonpath.New("status"), knownvalue.StringExact("active")),
					statecheck.ExpectKnownValue("certctl_certificate.www", tfjsonpath.New("key_mode"), knownvalue.StringExact("server")),
					statecheck.ExpectKnownValue("certctl_certificate.www", tfjsonpath.New("key_type"), knownvalue.StringExact("ecdsa-p256")),
					statecheck.ExpectKnownValue("certctl_certificate.www", tfjsonpath.New("certificate_pem"),
						knownvalue.StringRegexp(regexpMust(`^-----BEGIN CERTIFICATE-----`))),
					statecheck.ExpectKnownValue("certctl_certificate.www", tfjsonpath.New("serial_number"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue("certctl_certificate.www", tfjsonpath.New("fingerprint_sha256"), knownvalue.NotNull()),
					statecheck.ExpectKnownValue("certctl_certificate.www", tfjsonpath.New("not_after"), knownvalue.NotNull()),
				},
				Check: func(s *terraform.State) error {
					id, serial = idOf(s, "certctl_certificate.www"), state(s, "serial_number")
					return nil
				},
			},
			{
				// The server renews by itself (here: asked through the SDK, as
				// its scheduler would): the plan after it is empty.
				PreConfig: func() {
					c, err := env.client.GetCertificate(ctx, id)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := env.client.RenewCertificate(ctx, id); err != nil {
						t.Fatal(err)
					}
					wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
					defer cancel()
					if _, err := env.client.WaitForCertificate(wctx, id, client.WaitOptions{Until: client.WaitIssued,
						AfterVersionID: *c.CurrentVersionID}); err != nil {
						t.Fatal(err)
					}
				},
				Config: certificateConfig(`
  name        = "tf-www"
  common_name = "www.example.com"
  sans        = ["www.example.com", "WWW2.example.com"]
  labels      = { team = "web" }
  wait_for    = "issued"
  wait_timeout = "3m"
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: func(s *terraform.State) error {
					if got := state(s, "serial_number"); got == serial || got == "" {
						return fmt.Errorf("serial %q after the renewal, was %q: the refresh did not see it", got, serial)
					}
					serial = state(s, "serial_number")
					return nil
				},
			},
			{
				// Labels, target and name change in place, without a new key.
				Config: certificateConfig(`
  name        = "tf-www-2"
  common_name = "www.example.com"
  sans        = ["www.example.com", "WWW2.example.com"]
  labels      = { team = "platform" }
  target_ids  = [certctl_target.web.id]
  key_mode    = "server"
  wait_for    = "issued"
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("certctl_certificate.www", plancheck.ResourceActionUpdate),
				}},
				Check: func(s *terraform.State) error {
					if got := idOf(s, "certctl_certificate.www"); got != id {
						return fmt.Errorf("id %s, was %s: not in place", got, id)
					}
					c, err := env.client.GetCertificate(ctx, id)
					if err != nil {
						return err
					}
					if c.Name != "tf-www-2" || c.Labels["team"] != "platform" || len(c.TargetIDs) != 1 {
						return fmt.Errorf("server has %+v", c)
					}
					return nil
				},
			},
			{
				// New names: a new version, in place, waited for.
				Config: certificateConfig(`
  name        = "tf-www-2"
  common_name = "www.example.com"
  sans        = ["www.example.com", "www3.example.com"]
  labels      = { team = "platform" }
  target_ids  = [certctl_target.web.id]
  key_mode    = "server"
  wait_for    = "issued"
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("certctl_certificate.www", plancheck.ResourceActionUpdate),
				}},
				Check: func(s *terraform.State) error {
					if got := state(s, "serial_number"); got == serial {
						return fmt.Errorf("serial unchanged (%s) after new SANs", got)
					}
					v, err := env.client.GetCertificateVersion(ctx, id, state(s, "current_version_id"))
					if err != nil {
						return err
					}
					if !strings.Contains(strings.Join(v.SANs, ","), "www3.example.com") {
						return fmt.Errorf("current version's SANs %v", v.SANs)
					}
					return nil
				},
			},
			{
				// A new key type needs a new key: replaced.
				Config: certificateConfig(`
  name        = "tf-www-2"
  common_name = "www.example.com"
  sans        = ["www.example.com", "www3.example.com"]
  labels      = { team = "platform" }
  target_ids  = [certctl_target.web.id]
  key_mode    = "server"
  key_type    = "ecdsa-p384"
  wait_for    = "issued"
`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("certctl_certificate.www", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: func(s *terraform.State) error {
					if _, err := env.client.GetCertificate(ctx, id); !client.IsNotFound(err) {
						return fmt.Errorf("the replaced certificate %s: %v, want not found", id, err)
					}
					id = idOf(s, "certctl_certificate.www")
					return nil
				},
			},
			{
				ResourceName:            "certctl_certificate.www",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"wait_for"},
			},
		},
	})
}

// TestCertificateWaitFails: wait_for ends the apply with the server's
// reason when the certificate cannot get there (the CA refuses the name),
// and with a timeout when it does not get there in time (a target no agent
// serves).
func TestCertificateWaitFails(t *testing.T) {
	cfg := func(body string) string {
		return `
resource "certctl_issuer" "narrow" {
  name   = "tf-wait-ca"
  type   = "local"
  config = jsonencode({ allowed_domains = ["example.com"] })
}

resource "certctl_target" "orphan" {
  name   = "tf-wait-orphan"
  type   = "nginx"
  config = jsonencode({ certificate_path = "/srv/tls/a.crt", key_path = "/srv/tls/a.key" })
}

resource "certctl_certificate" "c" {
  issuer_id = certctl_issuer.narrow.id
` + body + `
}
`
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers(),
		Steps: []resource.TestStep{
			{
				Config: cfg(`
  name        = "tf-wait-refused"
  common_name = "www.example.org"
  wait_for    = "issued"
`),
				ExpectError: regexpMust(`(?s)did not become issued.*example\.org`),
			},
			{
				Config: cfg(`
  name         = "tf-wait-slow"
  common_name  = "www.example.com"
  key_mode     = "server"
  target_ids   = [certctl_target.orphan.id]
  wait_for     = "deployed"
  wait_timeout = "5s"
`),
				ExpectError: regexpMust(`did not become deployed`),
			},
		},
	})
}
