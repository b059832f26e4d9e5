package provider

// notifier_resource.go: certctl_notifier, a channel notifications are
// delivered through.

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

type notifierModel struct {
	connectorModel
	Enabled types.Bool `tfsdk:"enabled"`
}

func newNotifierResource() resource.Resource {
	req := func(m *notifierModel, cfg map[string]any) api.NotifierRequest {
		enabled := m.Enabled.ValueBool()
		return api.NotifierRequest{Name: m.Name.ValueString(), Type: m.Type.ValueString(), Config: cfg, Enabled: &enabled}
	}
	return &connectorResource[notifierModel]{spec: connectorSpec[notifierModel]{
		kind: "notifier",
		description: "A notifier: a channel lifecycle events are delivered through (a webhook, e-mail, Slack, " +
			"Microsoft Teams, PagerDuty, Opsgenie), implemented by a notifier plugin. Notification rules " +
			"(`certctl_notification_rule`) say which events go to it. Its secrets (webhook URLs, API keys, " +
			"passwords) belong in `sensitive_config` or `sensitive_config_wo`.",
		extra: map[string]schema.Attribute{
			"enabled": schema.BoolAttribute{
				Optional:    true,
				Computed:    true,
				Default:     booldefault.StaticBool(true),
				Description: "Whether notifications are sent through this notifier. Defaults to true.",
			},
		},
		base: func(m *notifierModel) *connectorModel { return &m.connectorModel },
		create: func(ctx context.Context, c *client.Client, m *notifierModel, cfg map[string]any) (connector, error) {
			return notifierConnector(c.CreateNotifier(ctx, req(m, cfg)))
		},
		update: func(ctx context.Context, c *client.Client, id string, m *notifierModel, cfg map[string]any) (connector, error) {
			return notifierConnector(c.UpdateNotifier(ctx, id, req(m, cfg)))
		},
		validate: func(ctx context.Context, c *client.Client, id string, m *notifierModel, cfg map[string]any) (*api.ConnectorValidation, error) {
			if id != "" {
				return c.ValidateNotifierUpdate(ctx, id, req(m, cfg))
			}
			return c.ValidateNotifier(ctx, req(m, cfg))
		},
		get: func(ctx context.Context, c *client.Client, id string) (connector, error) {
			return notifierConnector(c.GetNotifier(ctx, id))
		},
		del:     func(ctx context.Context, c *client.Client, id string) error { return c.DeleteNotifier(ctx, id) },
		fromAPI: func(m *notifierModel, o connector) { m.Enabled = types.BoolValue(o.Enabled) },
	}}
}

func notifierConnector(n *api.Notifier, err error) (connector, error) {
	if err != nil {
		return connector{}, err
	}
	return connector{ID: n.ID, Name: n.Name, Type: n.Type, Config: n.Config, SecretFields: n.SecretFields,
		CreatedAt: n.CreatedAt.UTC().Format(time.RFC3339), Enabled: n.Enabled}, nil
}
