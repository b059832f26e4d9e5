package provider

// notification_rule_resource.go: certctl_notification_rule, which events
// go to which notifier.

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
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

type notificationRuleModel struct {
	ID                types.String `tfsdk:"id"`
	Name              types.String `tfsdk:"name"`
	NotifierID        types.String `tfsdk:"notifier_id"`
	Events            types.Set    `tfsdk:"events"`
	ExpiryDays        types.List   `tfsdk:"expiry_days"`
	CertificateLabels types.Map    `tfsdk:"certificate_labels"`
	Enabled           types.Bool   `tfsdk:"enabled"`
}

type notificationRuleResource struct{ base }

func newNotificationRuleResource() resource.Resource { return &notificationRuleResource{} }

func (r *notificationRuleResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_notification_rule"
}

func (r *notificationRuleResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.configure(req.ProviderData, &resp.Diagnostics)
}

func (r *notificationRuleResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A notification rule: sends the lifecycle events it names, of the certificates whose labels " +
			"match, to a notifier. Every attribute changes in place.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, Description: "The rule's id (a UUID).",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"name":        schema.StringAttribute{Required: true, Description: "Unique name of the rule."},
			"notifier_id": schema.StringAttribute{Required: true, Description: "Id of the `certctl_notifier` the events go to."},
			"events": schema.SetAttribute{Required: true, ElementType: types.StringType,
				Description: "Events to send, one or more of `certificate.issued`, `certificate.renewed`, `certificate.renewal_failed`, " +
					"`certificate.expiring`, `certificate.revoked`, `deployment.failed` and `agent.offline`."},
			"expiry_days": schema.ListAttribute{Optional: true, Computed: true, ElementType: types.Int64Type,
				Description: "For `certificate.expiring`: the days before expiry at which to warn. Defaults to [30, 14, 7, 1]."},
			"certificate_labels": schema.MapAttribute{Optional: true, ElementType: types.StringType,
				Description: "Only certificates carrying all these labels; none means every certificate."},
			"enabled": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				Description: "Whether the rule sends anything. Defaults to true."},
		},
	}
}

func (m *notificationRuleModel) request(ctx context.Context, diags *diagsT) api.NotificationRuleRequest {
	enabled := m.Enabled.ValueBool()
	req := api.NotificationRuleRequest{Name: m.Name.ValueString(), NotifierID: m.NotifierID.ValueString(),
		Events: stringSet(ctx, m.Events, diags), CertificateLabels: stringMap(ctx, m.CertificateLabels, diags), Enabled: &enabled}
	if !m.ExpiryDays.IsNull() && !m.ExpiryDays.IsUnknown() {
		var days []int64
		diags.Append(m.ExpiryDays.ElementsAs(ctx, &days, false)...)
		for _, d := range days {
			req.ExpiryDays = append(req.ExpiryDays, int(d))
		}
	}
	return req
}

func (m *notificationRuleModel) set(n *api.NotificationRule) {
	m.ID = types.StringValue(n.ID)
	m.Name = types.StringValue(n.Name)
	m.NotifierID = types.StringValue(n.NotifierID)
	m.Events = stringSetValue(n.Events)
	days := make([]attr.Value, 0, len(n.ExpiryDays))
	for _, d := range n.ExpiryDays {
		days = append(days, types.Int64Value(int64(d)))
	}
	m.ExpiryDays = types.ListValueMust(types.Int64Type, days)
	if len(n.CertificateLabels) > 0 {
		m.CertificateLabels = stringMapValue(n.CertificateLabels)
	} else if len(m.CertificateLabels.Elements()) > 0 {
		m.CertificateLabels = types.MapNull(types.StringType)
	}
	m.Enabled = types.BoolValue(n.Enabled)
}

func (r *notificationRuleResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m notificationRuleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	body := m.request(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	n, err := r.client().CreateNotificationRule(ctx, body)
	if err != nil {
		apiError(&resp.Diagnostics, "create notification rule "+body.Name, err)
		return
	}
	m.set(n)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *notificationRuleResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m notificationRuleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	n, err := r.client().GetNotificationRule(ctx, m.ID.ValueString())
	if client.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "read notification rule "+m.ID.ValueString(), err)
		return
	}
	m.set(n)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *notificationRuleResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m, prior notificationRuleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	body := m.request(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	n, err := r.client().UpdateNotificationRule(ctx, prior.ID.ValueString(), body)
	if err != nil {
		apiError(&resp.Diagnostics, "update notification rule "+prior.ID.ValueString(), err)
		return
	}
	m.set(n)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *notificationRuleResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m notificationRuleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.client().DeleteNotificationRule(ctx, m.ID.ValueString()); err != nil && !client.IsNotFound(err) {
		apiError(&resp.Diagnostics, "delete notification rule "+m.ID.ValueString(), err)
	}
}

func (r *notificationRuleResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
