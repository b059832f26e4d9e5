package provider

// target_resource.go: certctl_target, a place certificates are deployed
// to by an agent.

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

type targetModel struct {
	connectorModel
	AgentID types.String `tfsdk:"agent_id"`
}

func newTargetResource() resource.Resource {
	req := func(m *targetModel, cfg map[string]any) api.TargetRequest {
		return api.TargetRequest{Name: m.Name.ValueString(), Type: m.Type.ValueString(), AgentID: strPtr(m.AgentID), Config: cfg}
	}
	return &connectorResource[targetModel]{spec: connectorSpec[targetModel]{
		kind: "target",
		description: "A target: a place certificates are deployed to (an NGINX, Apache or HAProxy server, IIS, " +
			"an F5 BIG-IP), implemented by a target plugin that the bound agent runs. A certificate bound to " +
			"the target (`certctl_certificate.target_ids`) is deployed there at each issuance. A target cannot be " +
			"deleted while certificates are bound to it.",
		extra: map[string]schema.Attribute{
			"agent_id": schema.StringAttribute{
				Optional: true,
				Description: "Id of the agent that deploys to this target (the `certctl_agent` and `certctl_agents` " +
					"data sources find it). Without one, deployments wait until an agent is bound. Changing it " +
					"moves the target to another agent in place.",
			},
		},
		base: func(m *targetModel) *connectorModel { return &m.connectorModel },
		create: func(ctx context.Context, c *client.Client, m *targetModel, cfg map[string]any) (connector, error) {
			return targetConnector(c.CreateTarget(ctx, req(m, cfg)))
		},
		update: func(ctx context.Context, c *client.Client, id string, m *targetModel, cfg map[string]any) (connector, error) {
			return targetConnector(c.UpdateTarget(ctx, id, req(m, cfg)))
		},
		validate: func(ctx context.Context, c *client.Client, id string, m *targetModel, cfg map[string]any) (*api.ConnectorValidation, error) {
			if id != "" {
				return c.ValidateTargetUpdate(ctx, id, req(m, cfg))
			}
			return c.ValidateTarget(ctx, req(m, cfg))
		},
		get: func(ctx context.Context, c *client.Client, id string) (connector, error) {
			return targetConnector(c.GetTarget(ctx, id))
		},
		del:     func(ctx context.Context, c *client.Client, id string) error { return c.DeleteTarget(ctx, id) },
		fromAPI: func(m *targetModel, o connector) { m.AgentID = strPtrValue(o.AgentID) },
	}}
}

func targetConnector(t *api.Target, err error) (connector, error) {
	if err != nil {
		return connector{}, err
	}
	return connector{ID: t.ID, Name: t.Name, Type: t.Type, Config: t.Config, SecretFields: t.SecretFields,
		CreatedAt: t.CreatedAt.UTC().Format(time.RFC3339), AgentID: t.AgentID}, nil
}
