package provider

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/certctl/certctl/sdk/api"
)

func issuerConfig(name, config string) string {
	return fmt.Sprintf(`
resource "certctl_issuer" "ca" {
  name   = %q
  type   = "local"
  config = jsonencode(%s)
}
`, name, config)
}

// idOf reads a resource's id from the state, for PreConfig steps that
// change it behind Terraform's back.
func idOf(s *terraform.State, addr string) string {
	if rs, ok := s.RootModule().Resources[addr]; ok {
		return rs.Primary.ID
	}
	return ""
}

func TestIssuerResource(t *testing.T) {
	var id string
	ctx := context.Background()
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers(),
		CheckDestroy: func(*terraform.State) error {
			if _, err := env.client.GetIssuer(ctx, id); err == nil {
				return fmt.Errorf("issuer %s still exists after destroy", id)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				// A typo in the configuration fails the plan: the server's
				// validate route knows the plugin's fields.
				Config:      issuerConfig("tf-issuer", `{ valdity = "30d" }`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`valdity`),
			},
			{
				Config:      issuerConfig("tf-issuer", `{ validity = "thirty days" }`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`validity`),
			},
			{
				Config: issuerConfig("tf-issuer", `{ validity = "30d", common_name = "Terraform test CA" }`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("certctl_issuer.ca", tfjsonpath.New("secret_fields"),
						knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("ca_private_key_pem")})),
				},
				Check: func(s *terraform.State) error {
					id = idOf(s, "certctl_issuer.ca")
					is, err := env.client.GetIssuer(ctx, id)
					if err != nil {
						return err
					}
					if is.Config["validity"] != "30d" || is.Config["common_name"] != "Terraform test CA" {
						return fmt.Errorf("server config %v", is.Config)
					}
					return nil
				},
			},
			{
				// Rename and reconfigure: in place.
				Config: issuerConfig("tf-issuer-2", `{ validity = "60d", common_name = "Terraform test CA" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("certctl_issuer.ca", plancheck.ResourceActionUpdate),
				}},
				Check: func(s *terraform.State) error {
					if got := idOf(s, "certctl_issuer.ca"); got != id {
						return fmt.Errorf("id changed from %s to %s: not in place", id, got)
					}
					is, err := env.client.GetIssuer(ctx, id)
					if err != nil {
						return err
					}
					if is.Name != "tf-issuer-2" || is.Config["validity"] != "60d" {
						return fmt.Errorf("server has %s %v", is.Name, is.Config)
					}
					return nil
				},
			},
			{
				// A field removed from config returns to the plugin's default.
				Config: issuerConfig("tf-issuer-2", `{ validity = "60d" }`),
				Check: func(*terraform.State) error {
					is, err := env.client.GetIssuer(ctx, id)
					if err != nil {
						return err
					}
					if is.Config["common_name"] != "certctl local CA" {
						return fmt.Errorf("common_name %v, want the default back", is.Config["common_name"])
					}
					return nil
				},
			},
			{
				// A change made outside Terraform shows as a diff...
				PreConfig: func() {
					if _, err := env.client.UpdateIssuer(ctx, id, api.IssuerRequest{Name: "tf-issuer-2", Type: "local",
						Config: map[string]any{"validity": "45d"}}); err != nil {
						t.Fatal(err)
					}
				},
				Config:             issuerConfig("tf-issuer-2", `{ validity = "60d" }`),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				// ... and the next apply puts it back.
				Config: issuerConfig("tf-issuer-2", `{ validity = "60d" }`),
				Check: func(*terraform.State) error {
					is, err := env.client.GetIssuer(ctx, id)
					if err != nil {
						return err
					}
					if is.Config["validity"] != "60d" {
						return fmt.Errorf("validity %v after apply, want 60d", is.Config["validity"])
					}
					return nil
				},
			},
			{
				ResourceName:      "certctl_issuer.ca",
				ImportState:       true,
				ImportStateVerify: true,
				// An import cannot know which fields the configuration set
				// (the generated CA certificate, the default CRL URL are
				// there too).
				ImportStateVerifyIgnore: []string{"config"},
			},
		},
	})
}

// testCA makes a CA key and certificate for a local issuer given its CA.
func testCA(t *testing.T, cn string) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(5 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}

// TestIssuerWriteOnlyCAKey gives a local issuer its CA key as a write-only
// argument: the issuer signs with it, and the key is in no state file (the
// scan after the tests checks).
func TestIssuerWriteOnlyCAKey(t *testing.T) {
	certPEM, keyPEM := testCA(t, "Terraform write-only CA")
	noteSecret("a CA private key given as sensitive_config_wo", keyPEM)
	cfg := fmt.Sprintf(`
resource "certctl_issuer" "ca" {
  name   = "tf-wo-ca"
  type   = "local"
  config = jsonencode({ ca_certificate_pem = %q })
  sensitive_config_wo = jsonencode({ ca_private_key_pem = %q })
  sensitive_config_wo_version = 1
}
`, certPEM, keyPEM)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers(),
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("certctl_issuer.ca", tfjsonpath.New("secret_fields"),
					knownvalue.SetExact([]knownvalue.Check{knownvalue.StringExact("ca_private_key_pem")})),
				statecheck.ExpectKnownValue("certctl_issuer.ca", tfjsonpath.New("sensitive_config_wo"), knownvalue.Null()),
			},
			Check: func(s *terraform.State) error {
				is, err := env.client.GetIssuer(context.Background(), idOf(s, "certctl_issuer.ca"))
				if err != nil {
					return err
				}
				if got, _ := is.Config["ca_certificate_pem"].(string); strings.TrimSpace(got) != strings.TrimSpace(certPEM) {
					return fmt.Errorf("the server's CA certificate is not the one given")
				}
				return nil
			},
		}},
	})
}
