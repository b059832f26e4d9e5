package provider

// agent_data_source.go: certctl_agent (one agent, by id or name) and
// certctl_agents (a filtered list).

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

var agentAttrTypes = map[string]attr.Type{
	"id": types.StringType, "name": types.StringType, "status": types.StringType,
	"labels": types.MapType{ElemType: types.StringType}, "os": types.StringType, "arch": types.StringType,
	"hostname": types.StringType, "ip_address": types.StringType, "agent_version": types.StringType,
	"last_heartbeat_at": types.StringType, "enrolled_at": types.StringType,
}

var agentDescriptions = map[string]string{
	"id": "The agent's id.", "name": "The agent's name.",
	"status": "`pending`, `online`, `offline` or `retired`.", "labels": "The agent's labels (from its enrollment token).",
	"os": "Operating system the agent reported (`linux`, `windows`, ...).", "arch": "CPU architecture it reported (`amd64`, `arm64`, ...).",
	"hostname": "Host name it reported.", "ip_address": "IP address it reported, or null.",
	"agent_version": "Its certctl-agent version.", "last_heartbeat_at": "Its last heartbeat (RFC 3339), or null.",
	"enrolled_at": "When it enrolled (RFC 3339).",
}

func agentObject(a api.Agent) map[string]attr.Value {
	return map[string]attr.Value{
		"id": types.StringValue(a.ID), "name": types.StringValue(a.Name), "status": types.StringValue(a.Status),
		"labels": labelsValue(a.Labels), "os": types.StringValue(a.OS), "arch": types.StringValue(a.Arch),
		"hostname": types.StringValue(a.Hostname), "ip_address": strPtrValue(a.IPAddress),
		"agent_version": types.StringValue(a.AgentVersion), "last_heartbeat_at": timeString(a.LastHeartbeatAt),
		"enrolled_at": timeString(&a.EnrolledAt),
	}
}

// ---- certctl_agent

type agentDataSource struct{ base }

func newAgentDataSource() datasource.DataSource { return &agentDataSource{} }

func (d *agentDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_agent"
}

func (d *agentDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.configure(req.ProviderData, &resp.Diagnostics)
}

func (d *agentDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := computedAttrs(agentAttrTypes, agentDescriptions)
	attrs["id"] = schema.StringAttribute{Optional: true, Computed: true, Description: "The agent's id. Give `id` or `name`."}
	attrs["name"] = schema.StringAttribute{Optional: true, Computed: true, Description: "The agent's name. Give `id` or `name`."}
	resp.Schema = schema.Schema{
		Description: "One enrolled agent, by id or name: to bind a `certctl_target` to it (`agent_id`).",
		Attributes:  attrs,
	}
}

func (d *agentDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var id, name types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("id"), &id)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("name"), &name)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var a *api.Agent
	var err error
	switch {
	case id.ValueString() != "":
		a, err = d.client().GetAgent(ctx, id.ValueString())
	case name.ValueString() != "":
		a, err = d.client().FindAgent(ctx, name.ValueString())
	default:
		resp.Diagnostics.AddError("No agent named", "give id or name")
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "find agent", err)
		return
	}
	for k, v := range agentObject(*a) {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(k), v)...)
	}
}

// ---- certctl_agents

type agentsDataSource struct{ base }

func newAgentsDataSource() datasource.DataSource { return &agentsDataSource{} }

type agentsModel struct {
	OS     types.String `tfsdk:"os"`
	Arch   types.String `tfsdk:"arch"`
	Status types.String `tfsdk:"status"`
	Labels types.Map    `tfsdk:"labels"`
	Agents types.List   `tfsdk:"agents"`
}

func (d *agentsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_agents"
}

func (d *agentsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.configure(req.ProviderData, &resp.Diagnostics)
}

func (d *agentsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "The agents the filters select (all of them combine), oldest first.",
		Attributes: map[string]schema.Attribute{
			"os":     schema.StringAttribute{Optional: true, Description: "Only agents on this operating system (`linux`, `windows`, ...)."},
			"arch":   schema.StringAttribute{Optional: true, Description: "Only agents on this architecture (`amd64`, `arm64`, ...)."},
			"status": schema.StringAttribute{Optional: true, Description: "Only agents in this status: `pending`, `online`, `offline` or `retired`."},
			"labels": schema.MapAttribute{Optional: true, ElementType: types.StringType, Description: "Only agents carrying all these labels."},
			"agents": schema.ListNestedAttribute{
				Computed:     true,
				Description:  "The agents found.",
				NestedObject: schema.NestedAttributeObject{Attributes: computedAttrs(agentAttrTypes, agentDescriptions)},
			},
		},
	}
}

func (d *agentsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m agentsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	labels := stringMap(ctx, m.Labels, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	items := []attr.Value{}
	opts := client.AgentListOptions{OS: m.OS.ValueString(), Arch: m.Arch.ValueString(), Status: m.Status.ValueString(), Limit: 500}
	for a, err := range d.client().AllAgents(ctx, opts) {
		if err != nil {
			apiError(&resp.Diagnostics, "list agents", err)
			return
		}
		// The server has no labels filter: it is applied here.
		if hasLabels(a.Labels, labels) {
			items = append(items, types.ObjectValueMust(agentAttrTypes, agentObject(a)))
		}
	}
	m.Agents = types.ListValueMust(types.ObjectType{AttrTypes: agentAttrTypes}, items)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
