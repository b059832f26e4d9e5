package provider

// api_key_resource.go: certctl_api_key, a credential for the REST API.

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

type apiKeyModel struct {
	ID        types.String `tfsdk:"id"`
	Name      types.String `tfsdk:"name"`
	Role      types.String `tfsdk:"role"`
	ExpiresAt types.String `tfsdk:"expires_at"`
	Key       types.String `tfsdk:"key"`
	Prefix    types.String `tfsdk:"prefix"`
	CreatedBy types.String `tfsdk:"created_by"`
}

type apiKeyResource struct{ base }

func newAPIKeyResource() resource.Resource { return &apiKeyResource{} }

func (r *apiKeyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_api_key"
}

func (r *apiKeyResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.configure(req.ProviderData, &resp.Diagnostics)
}

func (r *apiKeyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		Description: "An API key for certctl's REST API (managing them needs an admin key). The key is shown only at " +
			"creation and kept in the state (sensitive). Any change makes a new key; destroying the resource " +
			"revokes the key. The server refuses to revoke the last usable admin key.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, Description: "The key's id (a UUID).",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"name": schema.StringAttribute{Required: true, PlanModifiers: replace,
				Description: "Name of the key, shown in the audit trail as its actor. Changing it makes a new key."},
			"role": schema.StringAttribute{Required: true, PlanModifiers: replace,
				Description: "`viewer` (read only), `operator` (manage certificates and connectors) or `admin` (also keys, " +
					"key export and encryption key rotation). Changing it makes a new key."},
			"expires_at": schema.StringAttribute{Optional: true, PlanModifiers: replace,
				Description: "When the key stops working (RFC 3339, such as `2027-06-30T00:00:00Z`); none means never. Changing it makes a new key."},
			"key": schema.StringAttribute{Computed: true, Sensitive: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
				Description:   "The key (`cck_...`), sent as `Authorization: Bearer <key>`. Secret; null after an import, since the server shows it only once."},
			"prefix": schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
				Description: "The key's first characters, which identify it in lists and logs."},
			"created_by": schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
				Description: "Who created the key."},
		},
	}
}

func (m *apiKeyModel) set(k *api.APIKey) {
	m.ID = types.StringValue(k.ID)
	m.Name = types.StringValue(k.Name)
	m.Role = types.StringValue(k.Role)
	if k.ExpiresAt == nil {
		m.ExpiresAt = types.StringNull()
	} else if t, err := time.Parse(time.RFC3339, m.ExpiresAt.ValueString()); err != nil || !t.Equal(*k.ExpiresAt) {
		m.ExpiresAt = timeString(k.ExpiresAt)
	}
	if k.Key != "" {
		m.Key = types.StringValue(k.Key)
	}
	m.Prefix = types.StringValue(k.Prefix)
	m.CreatedBy = types.StringValue(k.CreatedBy)
}

func (r *apiKeyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m apiKeyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body := api.APIKeyRequest{Name: m.Name.ValueString(), Role: m.Role.ValueString()}
	if v := m.ExpiresAt.ValueString(); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("expires_at"), "Invalid expires_at", fmt.Sprintf("%q is not an RFC 3339 time: %v", v, err))
			return
		}
		body.ExpiresAt = &t
	}
	k, err := r.client().CreateAPIKey(ctx, body)
	if err != nil {
		apiError(&resp.Diagnostics, "create API key "+body.Name, err)
		return
	}
	m.set(k)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *apiKeyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m apiKeyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	k, err := r.client().GetAPIKey(ctx, m.ID.ValueString())
	if client.IsNotFound(err) || (err == nil && k.RevokedAt != nil) {
		resp.State.RemoveResource(ctx) // revoked outside Terraform: a new one is planned
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "read API key "+m.ID.ValueString(), err)
		return
	}
	m.set(k)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Update is never called with a change (every argument replaces).
func (r *apiKeyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m apiKeyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *apiKeyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m apiKeyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if _, err := r.client().RevokeAPIKey(ctx, m.ID.ValueString()); err != nil && !client.IsNotFound(err) {
		apiError(&resp.Diagnostics, "revoke API key "+m.ID.ValueString(), err)
	}
}

func (r *apiKeyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
