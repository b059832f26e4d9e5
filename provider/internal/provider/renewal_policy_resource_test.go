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

func TestRenewalPolicyResource(t *testing.T) {
	ctx := context.Background()
	var id string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers(),
		CheckDestroy: func(*terraform.State) error {
			if _, err := env.client.GetRenewalPolicy(ctx, id); err == nil {
				return fmt.Errorf("renewal policy %s still exists", id)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config: `
resource "certctl_renewal_policy" "p" {
  name           = "tf-two-thirds"
  mode           = "fraction"
  renew_fraction = 0.66
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("certctl_renewal_policy.p", tfjsonpath.New("jitter_fraction"), knownvalue.Float64Exact(0.05)),
					statecheck.ExpectKnownValue("certctl_renewal_policy.p", tfjsonpath.New("use_issuer_window"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("certctl_renewal_policy.p", tfjsonpath.New("is_default"), knownvalue.Bool(false)),
				},
				Check: func(s *terraform.State) error { id = idOf(s, "certctl_renewal_policy.p"); return nil },
			},
			{
				Config: `
resource "certctl_renewal_policy" "p" {
  name               = "tf-two-weeks"
  mode               = "days_before"
  days_before_expiry = 14
  jitter_fraction    = 0
  reuse_key          = true
  use_issuer_window  = false
}
`,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("certctl_renewal_policy.p", plancheck.ResourceActionUpdate),
				}},
				Check: func(s *terraform.State) error {
					p, err := env.client.GetRenewalPolicy(ctx, id)
					if err != nil {
						return err
					}
					if p.Mode != "days_before" || p.DaysBeforeExpiry != 14 || !p.ReuseKey || p.UseIssuerWindow || p.JitterFraction != 0 {
						return fmt.Errorf("server has %+v", p)
					}
					return nil
				},
			},
			{ResourceName: "certctl_renewal_policy.p", ImportState: true, ImportStateVerify: true},
		},
	})
}

func TestNotificationRuleResource(t *testing.T) {
	rcv := newWebhookReceiver(t)
	ctx := context.Background()
	cfg := func(rule string) string {
		return fmt.Sprintf(`
resource "certctl_notifier" "hook" {
  name = "tf-rule-hook"
  type = "webhook"
  sensitive_config = jsonencode({ url = %q })
}

resource "certctl_notification_rule" "r" {
  name        = "tf-rule"
  notifier_id = certctl_notifier.hook.id
%s
}
`, rcv.URL, rule)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers(),
		Steps: []resource.TestStep{
			{
				Config: cfg(`  events = ["certificate.expiring", "certificate.renewal_failed"]`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("certctl_notification_rule.r", tfjsonpath.New("expiry_days"), knownvalue.ListExact(
						[]knownvalue.Check{knownvalue.Int64Exact(30), knownvalue.Int64Exact(14), knownvalue.Int64Exact(7), knownvalue.Int64Exact(1)})),
					statecheck.ExpectKnownValue("certctl_notification_rule.r", tfjsonpath.New("enabled"), knownvalue.Bool(true)),
				},
			},
			{
				Config: cfg(`  events = ["certificate.expiring"]
  expiry_days = [10, 3]
  certificate_labels = { team = "web" }
  enabled = false`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("certctl_notification_rule.r", plancheck.ResourceActionUpdate),
				}},
				Check: func(s *terraform.State) error {
					r, err := env.client.GetNotificationRule(ctx, idOf(s, "certctl_notification_rule.r"))
					if err != nil {
						return err
					}
					if r.Enabled || fmt.Sprint(r.ExpiryDays) != "[10 3]" || r.CertificateLabels["team"] != "web" || len(r.Events) != 1 {
						return fmt.Errorf("server has %+v", r)
					}
					return nil
				},
			},
			{ResourceName: "certctl_notification_rule.r", ImportState: true, ImportStateVerify: true},
		},
	})
}
