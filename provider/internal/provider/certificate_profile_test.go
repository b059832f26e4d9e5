package provider

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/certctl/certctl/sdk/client"
)

// TestCertificateProfile: profile is enforced when it is set (also over a
// profile set elsewhere), kept when it is left out (an update of other
// arguments does not reset a profile set with the CLI or the API), and
// cleared by ""; it reaches the issuer (the local CA's client profile
// makes a client-only certificate), shows in both data sources and in an
// import, and a bad name fails at plan time.
func TestCertificateProfile(t *testing.T) {
	ctx := context.Background()
	const name = "tf-profile"
	cfg := func(body string) string {
		return `
resource "certctl_issuer" "ca" {
  name = "tf-profile-ca"
  type = "local"
}

resource "certctl_certificate" "svc" {
  name        = "` + name + `"
  common_name = "svc.example.com"
  issuer_id   = certctl_issuer.ca.id
  wait_for    = "issued"
` + body + `
}

data "certctl_certificate" "svc" {
  name       = certctl_certificate.svc.name
  depends_on = [certctl_certificate.svc]
}

data "certctl_certificates" "all" {
  name_prefix = "` + name + `"
  depends_on  = [certctl_certificate.svc]
}
`
	}
	// onServer is the certificate's profile as the server has it.
	onServer := func(want string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			c, err := env.client.FindCertificate(ctx, name)
			if err != nil {
				return err
			}
			if c.Profile != want {
				return fmt.Errorf("the server has profile %q, want %q", c.Profile, want)
			}
			return nil
		}
	}
	// setElsewhere changes the profile as the CLI or another API client
	// would, leaving the rest of the declaration as it is.
	setElsewhere := func(p string) func() {
		return func() {
			c, err := env.client.FindCertificate(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			req := client.CertificateRequestFrom(*c)
			req.Profile = p
			if _, err := env.client.UpdateCertificate(ctx, c.ID, req); err != nil {
				t.Fatal(err)
			}
		}
	}
	profileIs := func(want string) []statecheck.StateCheck {
		return []statecheck.StateCheck{
			statecheck.ExpectKnownValue("certctl_certificate.svc", tfjsonpath.New("profile"), knownvalue.StringExact(want)),
		}
	}
	// update is a step that changes the certificate in place with a plan
	// that already knows the profile it ends with, want, and checks it in
	// the state, both data sources and on the server.
	update := func(pre func(), body, want string) resource.TestStep {
		return resource.TestStep{
			PreConfig: pre,
			Config:    cfg(body),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("certctl_certificate.svc", plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue("certctl_certificate.svc", tfjsonpath.New("profile"), knownvalue.StringExact(want)),
			}},
			ConfigStateChecks: append(profileIs(want),
				statecheck.ExpectKnownValue("data.certctl_certificate.svc", tfjsonpath.New("profile"), knownvalue.StringExact(want)),
				statecheck.ExpectKnownValue("data.certctl_certificates.all",
					tfjsonpath.New("certificates").AtSliceIndex(0).AtMapKey("profile"), knownvalue.StringExact(want))),
			Check: onServer(want),
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers(),
		Steps: []resource.TestStep{
			{
				// A bad name fails the plan; the destroy after the last step
				// runs with the last configuration, so this one comes first.
				Config: cfg(`
  profile = "short lived"
`),
				ExpectError: regexpMust(`Invalid profile`),
			},
			{
				Config: cfg(`
  profile = "client"
  labels  = { team = "a" }
`),
				ConfigStateChecks: append(profileIs("client"),
					statecheck.ExpectKnownValue("data.certctl_certificate.svc", tfjsonpath.New("profile"), knownvalue.StringExact("client")),
					statecheck.ExpectKnownValue("data.certctl_certificates.all",
						tfjsonpath.New("certificates").AtSliceIndex(0).AtMapKey("profile"), knownvalue.StringExact("client")),
				),
				Check: resource.ComposeTestCheckFunc(onServer("client"), func(s *terraform.State) error {
					text := s.RootModule().Resources["certctl_certificate.svc"].Primary.Attributes["certificate_pem"]
					block, _ := pem.Decode([]byte(text))
					if block == nil {
						return fmt.Errorf("no certificate_pem in the state")
					}
					leaf, err := x509.ParseCertificate(block.Bytes)
					if err != nil {
						return err
					}
					if !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
						return fmt.Errorf("extended key usages %v, want client authentication alone: the profile did not reach the issuer", leaf.ExtKeyUsage)
					}
					return nil
				}),
			},
			// Set in the configuration, it is enforced over a change made
			// elsewhere.
			update(setElsewhere("server"), `
  profile = "client"
  labels  = { team = "a" }
`, "client"),
			// Left out, with another change: the update keeps the profile.
			update(nil, `
  labels = { team = "b" }
`, "client"),
			{
				// Left out, and changed elsewhere: no diff, the refresh takes
				// the server's profile.
				PreConfig: setElsewhere("server"),
				Config: cfg(`
  labels = { team = "b" }
`),
				ConfigPlanChecks:  resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				ConfigStateChecks: profileIs("server"),
			},
			// ... and an update of something else does not reset it.
			update(nil, `
  labels = { team = "c" }
`, "server"),
			// "" clears it (and stays cleared: every step ends with a plan
			// that must be empty).
			update(nil, `
  labels  = { team = "c" }
  profile = ""
`, ""),
			{
				ResourceName:            "certctl_certificate.svc",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"wait_for"},
			},
		},
	})
}
