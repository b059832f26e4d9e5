package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func TestEnrollmentTokenResource(t *testing.T) {
	ctx := context.Background()
	var first string
	cfg := func(name string) string {
		return fmt.Sprintf(`
resource "certctl_enrollment_token" "web" {
  agent_name = %q
  labels     = { role = "web" }
  ttl        = "2h"
}
`, name)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers(),
		CheckDestroy: func(*terraform.State) error {
			tok, err := env.client.GetEnrollmentToken(ctx, first)
			if err != nil {
				return err
			}
			if tok.RevokedAt == nil {
				return fmt.Errorf("token %s not revoked by destroy", first)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: cfg("web-01"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("certctl_enrollment_token.web", tfjsonpath.New("token"), knownvalue.StringRegexp(regexpMust(`^cce_`))),
					statecheck.ExpectSensitiveValue("certctl_enrollment_token.web", tfjsonpath.New("token")),
				},
				Check: func(s *terraform.State) error { first = idOf(s, "certctl_enrollment_token.web"); return nil },
			},
			{
				// A token cannot change: a new one replaces it, the old is revoked.
				Config: cfg("web-02"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("certctl_enrollment_token.web", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: func(s *terraform.State) error {
					tok, err := env.client.GetEnrollmentToken(ctx, first)
					if err != nil {
						return err
					}
					if tok.RevokedAt == nil {
						return fmt.Errorf("the replaced token was not revoked")
					}
					first = idOf(s, "certctl_enrollment_token.web")
					return nil
				},
			},
			{
				ResourceName:            "certctl_enrollment_token.web",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"token", "ttl"}, // shown once; the server keeps the expiry, not the TTL
			},
		},
	})
}

func TestAPIKeyResource(t *testing.T) {
	ctx := context.Background()
	var id string
	cfg := func(role string) string {
		return fmt.Sprintf(`
resource "certctl_api_key" "ci" {
  name       = "tf-ci-%s"
  role       = %q
  expires_at = "2030-01-01T00:00:00Z"
}

provider "certctl" {
  alias = "ci"
}
`, role, role)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers(),
		CheckDestroy: func(*terraform.State) error {
			k, err := env.client.GetAPIKey(ctx, id)
			if err != nil {
				return err
			}
			if k.RevokedAt == nil {
				return fmt.Errorf("API key %s not revoked by destroy", id)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: cfg("viewer"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("certctl_api_key.ci", tfjsonpath.New("key"), knownvalue.StringRegexp(regexpMust(`^cck_`))),
					statecheck.ExpectSensitiveValue("certctl_api_key.ci", tfjsonpath.New("key")),
				},
				Check: func(s *terraform.State) error {
					id = idOf(s, "certctl_api_key.ci")
					k, err := env.client.GetAPIKey(ctx, id)
					if err != nil {
						return err
					}
					if k.Role != "viewer" || k.ExpiresAt == nil || k.ExpiresAt.Year() != 2030 {
						return fmt.Errorf("server has %+v", k)
					}
					return nil
				},
			},
			{
				Config: cfg("operator"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("certctl_api_key.ci", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: func(s *terraform.State) error {
					k, err := env.client.GetAPIKey(ctx, id)
					if err != nil {
						return err
					}
					if k.RevokedAt == nil {
						return fmt.Errorf("the replaced key was not revoked")
					}
					id = idOf(s, "certctl_api_key.ci")
					return nil
				},
			},
			{
				ResourceName:            "certctl_api_key.ci",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"key"},
			},
		},
	})
}
