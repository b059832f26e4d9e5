package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/certctl/certctl/sdk/client"
)

// TestEphemeralResources opens both ephemeral resources and hands what they
// give to the echo provider, whose resource keeps only what may be kept: the
// serial, and digests of the key and the token. The key and token
// themselves must reach no state file (the scan after the tests).
func TestEphemeralResources(t *testing.T) {
	cfg := `
resource "certctl_issuer" "ca" {
  name = "tf-eph-ca"
  type = "local"
}

resource "certctl_certificate" "srv" {
  name        = "tf-eph"
  common_name = "eph.example.com"
  issuer_id   = certctl_issuer.ca.id
  key_mode    = "server"
  wait_for    = "issued"
}

ephemeral "certctl_key_bundle" "k" {
  certificate_id = certctl_certificate.srv.id
}

ephemeral "certctl_enrollment_token" "t" {
  agent_name = "tf-eph-agent"
  labels     = { role = "web" }
  ttl        = "10m"
}

provider "echo" {
  data = {
    serial       = ephemeral.certctl_key_bundle.k.serial_number
    key_sha256   = sha256(ephemeral.certctl_key_bundle.k.private_key_pem)
    key_is_pkcs8 = startswith(ephemeral.certctl_key_bundle.k.private_key_pem, "-----BEGIN PRIVATE KEY-----")
    fullchain_ok = startswith(ephemeral.certctl_key_bundle.k.fullchain_pem, ephemeral.certctl_key_bundle.k.certificate_pem)
    token_id     = ephemeral.certctl_enrollment_token.t.id
    token_prefix = ephemeral.certctl_enrollment_token.t.prefix
    token_sha256 = sha256(ephemeral.certctl_enrollment_token.t.token)
  }
}

resource "echo" "out" {}
`
	resource.Test(t, resource.TestCase{
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_10_0)},
		ProtoV6ProviderFactories: providers(),
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.CompareValuePairs("echo.out", tfjsonpath.New("data").AtMapKey("serial"),
					"certctl_certificate.srv", tfjsonpath.New("serial_number"), compareSame),
				statecheck.ExpectKnownValue("echo.out", tfjsonpath.New("data").AtMapKey("key_is_pkcs8"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue("echo.out", tfjsonpath.New("data").AtMapKey("fullchain_ok"), knownvalue.Bool(true)),
				statecheck.ExpectKnownValue("echo.out", tfjsonpath.New("data").AtMapKey("token_prefix"),
					knownvalue.StringRegexp(regexpMust(`^cce_`))),
			},
			Check: func(s *terraform.State) error {
				ctx := context.Background()
				out := s.RootModule().Resources["echo.out"].Primary.Attributes
				certID := idOf(s, "certctl_certificate.srv")
				// The key the ephemeral resource gave is the server's key of
				// this certificate: the same digest as an export through the SDK.
				b, err := env.client.GetBundle(ctx, certID, client.BundleOptions{IncludeKey: true})
				if err != nil {
					return err
				}
				noteSecret("a private key exported through certctl_key_bundle", string(b.PrivateKeyPEM))
				sum := sha256.Sum256(b.PrivateKeyPEM)
				if got := out["data.key_sha256"]; got != hex.EncodeToString(sum[:]) {
					return fmt.Errorf("key digest %s, want the server's key's %x", got, sum)
				}
				tok, err := env.client.GetEnrollmentToken(ctx, out["data.token_id"])
				if err != nil {
					return fmt.Errorf("the ephemeral token is not on the server: %w", err)
				}
				if tok.Prefix != out["data.token_prefix"] || tok.AgentName != "tf-eph-agent" || tok.RevokedAt != nil || tok.UsedAt != nil {
					return fmt.Errorf("server has token %+v", tok)
				}
				return nil
			},
		}},
	})
}
