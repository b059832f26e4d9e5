package provider

// enrollment_token_resource.go: certctl_enrollment_token, a single-use
// token an agent enrolls with.

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

type enrollmentTokenModel struct {
	ID            types.String `tfsdk:"id"`
	AgentName     types.String `tfsdk:"agent_name"`
	Labels        types.Map    `tfsdk:"labels"`
	TTL           types.String `tfsdk:"ttl"`
	Token         types.String `tfsdk:"token"`
	Prefix        types.String `tfsdk:"prefix"`
	ExpiresAt     types.String `tfsdk:"expires_at"`
	UsedAt        types.String `tfsdk:"used_at"`
	UsedByAgentID types.String `tfsdk:"used_by_agent_id"`
}

type enrollmentTokenResource struct{ base }

func newEnrollmentTokenResource() resource.Resource { return &enrollmentTokenResource{} }

func (r *enrollmentTokenResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_enrollment_token"
}

func (r *enrollmentTokenResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.configure(req.ProviderData, &resp.Diagnostics)
}

func (r *enrollmentTokenResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		Description: "An agent enrollment token: a single-use secret a new `certctl-agent` exchanges for its own " +
			"credential (`certctl-agent enroll`). The token is shown only at creation and is kept in the state " +
			"(sensitive); to keep it out of the state, use the `certctl_enrollment_token` ephemeral resource " +
			"instead. Any change makes a new token; destroying the resource revokes the token if it is unused.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, Description: "The token's id (a UUID).",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"agent_name": schema.StringAttribute{Optional: true, PlanModifiers: replace,
				Description: "Name the enrolled agent gets; without it the agent names itself. Changing it makes a new token."},
			"labels": schema.MapAttribute{Optional: true, ElementType: types.StringType,
				PlanModifiers: []planmodifier.Map{mapplanmodifier.RequiresReplace()},
				Description:   "Labels the enrolled agent gets. Changing them makes a new token."},
			"ttl": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("24h"), PlanModifiers: replace,
				Description: "How long the token can be used, a Go duration (`30m`, `24h`); at most 30 days (`720h`). Defaults to `24h`. Changing it makes a new token."},
			"token": schema.StringAttribute{Computed: true, Sensitive: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
				Description:   "The token (`cce_...`). Secret; null after an import, since the server shows it only once."},
			"prefix": schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
				Description: "The token's first characters, which identify it in lists and logs."},
			"expires_at": schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
				Description: "When the token expires (RFC 3339)."},
			"used_at":          schema.StringAttribute{Computed: true, Description: "When an agent enrolled with the token (RFC 3339), or null."},
			"used_by_agent_id": schema.StringAttribute{Computed: true, Description: "Id of the agent that enrolled with the token, or null."},
		},
	}
}

func (m *enrollmentTokenModel) set(t *api.EnrollmentToken) {
	m.ID = types.StringValue(t.ID)
	if t.AgentName != "" || !m.AgentName.IsNull() {
		m.AgentName = types.StringValue(t.AgentName)
	}
	if len(t.Labels) > 0 {
		m.Labels = stringMapValue(t.Labels)
	}
	if t.Token != "" {
		m.Token = types.StringValue(t.Token)
	}
	m.Prefix = types.StringValue(t.Prefix)
	m.ExpiresAt = timeString(&t.ExpiresAt)
	m.UsedAt = timeString(t.UsedAt)
	m.UsedByAgentID = strPtrValue(t.UsedByAgentID)
}

func (r *enrollmentTokenResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m enrollmentTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	labels := stringMap(ctx, m.Labels, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	t, err := r.client().CreateEnrollmentToken(ctx, api.EnrollmentTokenRequest{AgentName: m.AgentName.ValueString(),
		Labels: labels, TTL: m.TTL.ValueString()})
	if err != nil {
		apiError(&resp.Diagnostics, "create enrollment token", err)
		return
	}
	m.set(t)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *enrollmentTokenResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m enrollmentTokenModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	t, err := r.client().GetEnrollmentToken(ctx, m.ID.ValueString())
	if client.IsNotFound(err) || (err == nil && t.RevokedAt != nil) {
		// Gone or revoked outside Terraform: a new one is planned.
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "read enrollment token "+m.ID.ValueString(), err)
		return
	}
	if m.TTL.IsNull() {
		m.TTL = types.StringValue("24h") // an import: the TTL is not kept, only the expiry
	}
	m.set(t)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Update is never called with a change (every argument replaces), but the
// framework wants it.
func (r *enrollmentTokenResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m enrollmentTokenModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *enrollmentTokenResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m enrollmentTokenModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || !m.UsedAt.IsNull() {
		return // a used token can do nothing more; its record stays for the audit trail
	}
	if _, err := r.client().RevokeEnrollmentToken(ctx, m.ID.ValueString()); err != nil && !client.IsNotFound(err) && !client.IsConflict(err) {
		apiError(&resp.Diagnostics, "revoke enrollment token "+m.ID.ValueString(), err)
	}
}

func (r *enrollmentTokenResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
