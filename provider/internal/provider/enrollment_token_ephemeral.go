package provider

// enrollment_token_ephemeral.go: the certctl_enrollment_token ephemeral
// resource, a fresh agent enrollment token for a machine the same
// configuration provisions (cloud-init user data, a provisioner), never
// stored in the plan or the state.

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/certctl/certctl/sdk/api"
)

type enrollmentTokenEphemeral struct{ base }

func newEnrollmentTokenEphemeral() ephemeral.EphemeralResource { return &enrollmentTokenEphemeral{} }

type enrollmentTokenEphemeralModel struct {
	AgentName types.String `tfsdk:"agent_name"`
	Labels    types.Map    `tfsdk:"labels"`
	TTL       types.String `tfsdk:"ttl"`
	ID        types.String `tfsdk:"id"`
	Token     types.String `tfsdk:"token"`
	Prefix    types.String `tfsdk:"prefix"`
	ExpiresAt types.String `tfsdk:"expires_at"`
}

func (e *enrollmentTokenEphemeral) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_enrollment_token"
}

func (e *enrollmentTokenEphemeral) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	e.configure(req.ProviderData, &resp.Diagnostics)
}

func (e *enrollmentTokenEphemeral) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A fresh single-use agent enrollment token, made each time Terraform opens it (in every plan " +
			"and every apply), for an agent the same configuration provisions. Ephemeral (Terraform 1.10 or later): " +
			"the token is never stored in the plan or the state. Tokens nobody uses expire after `ttl`, so keep it short.",
		Attributes: map[string]schema.Attribute{
			"agent_name": schema.StringAttribute{Optional: true, Description: "Name the enrolled agent gets; without it the agent names itself."},
			"labels":     schema.MapAttribute{Optional: true, ElementType: types.StringType, Description: "Labels the enrolled agent gets."},
			"ttl": schema.StringAttribute{Optional: true,
				Description: "How long the token can be used, a Go duration; defaults to `1h` (the server allows up to `720h`)."},
			"id":         schema.StringAttribute{Computed: true, Description: "The token's id."},
			"token":      schema.StringAttribute{Computed: true, Sensitive: true, Description: "The token (`cce_...`), for `certctl-agent enroll`."},
			"prefix":     schema.StringAttribute{Computed: true, Description: "The token's first characters, which identify it in lists and logs."},
			"expires_at": schema.StringAttribute{Computed: true, Description: "When the token expires (RFC 3339)."},
		},
	}
}

func (e *enrollmentTokenEphemeral) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	var m enrollmentTokenEphemeralModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	labels := stringMap(ctx, m.Labels, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	ttl := m.TTL.ValueString()
	if ttl == "" {
		ttl = "1h"
	}
	t, err := e.client().CreateEnrollmentToken(ctx, api.EnrollmentTokenRequest{AgentName: m.AgentName.ValueString(), Labels: labels, TTL: ttl})
	if err != nil {
		apiError(&resp.Diagnostics, "create enrollment token", err)
		return
	}
	m.ID, m.Token, m.Prefix = types.StringValue(t.ID), types.StringValue(t.Token), types.StringValue(t.Prefix)
	m.ExpiresAt = timeString(&t.ExpiresAt)
	resp.Diagnostics.Append(resp.Result.Set(ctx, &m)...)
}
