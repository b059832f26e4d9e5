package provider

// renewal_policy_resource.go: certctl_renewal_policy, when certificates
// renew.

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

type renewalPolicyModel struct {
	ID               types.String  `tfsdk:"id"`
	Name             types.String  `tfsdk:"name"`
	Mode             types.String  `tfsdk:"mode"`
	RenewFraction    types.Float64 `tfsdk:"renew_fraction"`
	DaysBeforeExpiry types.Int64   `tfsdk:"days_before_expiry"`
	JitterFraction   types.Float64 `tfsdk:"jitter_fraction"`
	ReuseKey         types.Bool    `tfsdk:"reuse_key"`
	UseIssuerWindow  types.Bool    `tfsdk:"use_issuer_window"`
	IsDefault        types.Bool    `tfsdk:"is_default"`
}

type renewalPolicyResource struct{ base }

func newRenewalPolicyResource() resource.Resource { return &renewalPolicyResource{} }

func (r *renewalPolicyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_renewal_policy"
}

func (r *renewalPolicyResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.configure(req.ProviderData, &resp.Diagnostics)
}

func (r *renewalPolicyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A renewal policy: when the certificates that follow it (`certctl_certificate.renewal_policy_id`) " +
			"are renewed. Every attribute changes in place. A policy cannot be deleted while certificates follow it.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, Description: "The policy's id (a UUID).",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"name": schema.StringAttribute{Required: true, Description: "Unique name of the policy."},
			"mode": schema.StringAttribute{Required: true, Description: "`fraction`: renew when `renew_fraction` of the " +
				"validity has passed; `days_before`: renew `days_before_expiry` days before the end of the validity."},
			"renew_fraction": schema.Float64Attribute{Optional: true, Computed: true,
				Description: "For `fraction` mode: the part of the validity after which to renew, between 0 and 1 (0.66 renews a 90-day certificate after about 60 days)."},
			"days_before_expiry": schema.Int64Attribute{Optional: true, Computed: true,
				Description: "For `days_before` mode: how many days before expiry to renew."},
			"jitter_fraction": schema.Float64Attribute{Optional: true, Computed: true,
				Description: "Spread of renewal times, as a part of the validity, so that certificates issued together do not all renew at once. Defaults to 0.05."},
			"reuse_key": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				Description: "Renew with the same private key instead of a new one. Defaults to false."},
			"use_issuer_window": schema.BoolAttribute{Optional: true, Computed: true,
				Description: "Follow the renewal window the CA suggests (ACME ARI) when it gives one. Defaults to true."},
			"is_default": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				Description: "Make this the policy of certificates that name none. Setting it takes the role from the previous default. Defaults to false."},
		},
	}
}

func (m *renewalPolicyModel) request() api.RenewalPolicyRequest {
	req := api.RenewalPolicyRequest{
		Name: m.Name.ValueString(), Mode: m.Mode.ValueString(), RenewFraction: m.RenewFraction.ValueFloat64(),
		DaysBeforeExpiry: int(m.DaysBeforeExpiry.ValueInt64()), ReuseKey: m.ReuseKey.ValueBool(), IsDefault: m.IsDefault.ValueBool(),
	}
	if !m.JitterFraction.IsNull() && !m.JitterFraction.IsUnknown() {
		v := m.JitterFraction.ValueFloat64()
		req.JitterFraction = &v
	}
	if !m.UseIssuerWindow.IsNull() && !m.UseIssuerWindow.IsUnknown() {
		v := m.UseIssuerWindow.ValueBool()
		req.UseIssuerWindow = &v
	}
	return req
}

func (m *renewalPolicyModel) set(p *api.RenewalPolicy) {
	m.ID = types.StringValue(p.ID)
	m.Name = types.StringValue(p.Name)
	m.Mode = types.StringValue(p.Mode)
	m.RenewFraction = types.Float64Value(p.RenewFraction)
	m.DaysBeforeExpiry = types.Int64Value(int64(p.DaysBeforeExpiry))
	m.JitterFraction = types.Float64Value(p.JitterFraction)
	m.ReuseKey = types.BoolValue(p.ReuseKey)
	m.UseIssuerWindow = types.BoolValue(p.UseIssuerWindow)
	m.IsDefault = types.BoolValue(p.IsDefault)
}

func (r *renewalPolicyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m renewalPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := r.client().CreateRenewalPolicy(ctx, m.request())
	if err != nil {
		apiError(&resp.Diagnostics, "create renewal policy "+m.Name.ValueString(), err)
		return
	}
	m.set(p)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *renewalPolicyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m renewalPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := r.client().GetRenewalPolicy(ctx, m.ID.ValueString())
	if client.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "read renewal policy "+m.ID.ValueString(), err)
		return
	}
	m.set(p)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *renewalPolicyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m, prior renewalPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := r.client().UpdateRenewalPolicy(ctx, prior.ID.ValueString(), m.request())
	if err != nil {
		apiError(&resp.Diagnostics, "update renewal policy "+prior.ID.ValueString(), err)
		return
	}
	m.set(p)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *renewalPolicyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m renewalPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.client().DeleteRenewalPolicy(ctx, m.ID.ValueString()); err != nil && !client.IsNotFound(err) {
		apiError(&resp.Diagnostics, "delete renewal policy "+m.ID.ValueString(), err)
	}
}

func (r *renewalPolicyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
