package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

func targetConfig(name, typ, config string) string {
	return fmt.Sprintf(`
resource "certctl_target" "web" {
  name   = %q
  type   = %q
  config = jsonencode(%s)
}
`, name, typ, config)
}

func TestTargetResource(t *testing.T) {
	ctx := context.Background()
	var first string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providers(),
		CheckDestroy: func(*terraform.State) error {
			for _, id := range []string{first} {
				if _, err := env.client.GetTarget(ctx, id); err == nil {
					return fmt.Errorf("target %s still exists after destroy", id)
				}
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				Config:      targetConfig("tf-web", "nginx", `{ certificate_path = "/etc/nginx/tls/web.crt", key_pth = "/etc/nginx/tls/web.key" }`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`key_pth`),
			},
			{
				Config: targetConfig("tf-web", "nginx", `{ certificate_path = "/etc/nginx/tls/web.crt", key_path = "/etc/nginx/tls/web.key" }`),
				Check: func(s *terraform.State) error {
					first = idOf(s, "certctl_target.web")
					tg, err := env.client.GetTarget(ctx, first)
					if err != nil {
						return err
					}
					if tg.Type != "nginx" || tg.Config["key_path"] != "/etc/nginx/tls/web.key" || tg.AgentID != nil {
						return fmt.Errorf("server has %+v", tg)
					}
					return nil
				},
			},
			{
				Config: targetConfig("tf-web", "nginx", `{ certificate_path = "/etc/nginx/tls/web.crt", key_path = "/etc/nginx/tls/web.key", reload_command = ["systemctl", "reload", "nginx"] }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("certctl_target.web", plancheck.ResourceActionUpdate),
				}},
				Check: func(s *terraform.State) error {
					tg, err := env.client.GetTarget(ctx, first)
					if err != nil {
						return err
					}
					if fmt.Sprint(tg.Config["reload_command"]) != "[systemctl reload nginx]" {
						return fmt.Errorf("reload_command %v", tg.Config["reload_command"])
					}
					return nil
				},
			},
			{
				// Another plugin is another target: replaced.
				Config: targetConfig("tf-web", "apache", `{ certificate_path = "/etc/apache2/tls/web.crt", key_path = "/etc/apache2/tls/web.key" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("certctl_target.web", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: func(s *terraform.State) error {
					if idOf(s, "certctl_target.web") == first {
						return fmt.Errorf("the target kept its id: not replaced")
					}
					if _, err := env.client.GetTarget(ctx, first); err == nil {
						return fmt.Errorf("the replaced target %s still exists", first)
					}
					return nil
				},
			},
			{
				ResourceName:            "certctl_target.web",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"config"},
			},
		},
	})
}
