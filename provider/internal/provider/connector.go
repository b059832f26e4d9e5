package provider

// connector.go is the part issuers, targets and notifiers share: they are
// all a plugin type plus a configuration that the plugin's schema checks,
// some of whose fields are sensitive. The configuration is a JSON object
// (write it with jsonencode), so that each plugin's fields keep their
// types; sensitive fields go in sensitive_config, or in the write-only
// sensitive_config_wo that never reaches the state.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// connectorModel holds the attributes every connector resource has.
type connectorModel struct {
	ID                       types.String `tfsdk:"id"`
	Name                     types.String `tfsdk:"name"`
	Type                     types.String `tfsdk:"type"`
	Config                   types.String `tfsdk:"config"`
	SensitiveConfig          types.String `tfsdk:"sensitive_config"`
	SensitiveConfigWO        types.String `tfsdk:"sensitive_config_wo"`
	SensitiveConfigWOVersion types.Int64  `tfsdk:"sensitive_config_wo_version"`
	SecretFields             types.Set    `tfsdk:"secret_fields"`
	CreatedAt                types.String `tfsdk:"created_at"`
}

// connector is what the server says about an issuer, target or notifier.
type connector struct {
	ID           string
	Name         string
	Type         string
	Config       map[string]any
	SecretFields []string
	CreatedAt    string
	AgentID      *string // targets
	Enabled      bool    // notifiers
}

// connectorSpec says how one kind of connector maps to the API. M is the
// resource's model, which embeds connectorModel.
type connectorSpec[M any] struct {
	kind        string // plugin kind: issuer, target, notifier
	description string
	extra       map[string]schema.Attribute
	base        func(*M) *connectorModel
	// request builds the create or update body from the model and the
	// merged configuration.
	create   func(ctx context.Context, c *client.Client, m *M, cfg map[string]any) (connector, error)
	update   func(ctx context.Context, c *client.Client, id string, m *M, cfg map[string]any) (connector, error)
	validate func(ctx context.Context, c *client.Client, id string, m *M, cfg map[string]any) (*api.ConnectorValidation, error)
	get      func(ctx context.Context, c *client.Client, id string) (connector, error)
	del      func(ctx context.Context, c *client.Client, id string) error
	// fromAPI sets the kind's own attributes from the server's object.
	fromAPI func(m *M, o connector)
}

type connectorResource[M any] struct {
	base
	spec connectorSpec[M]
}

var (
	_ resource.ResourceWithConfigure   = (*connectorResource[connectorModel])(nil)
	_ resource.ResourceWithImportState = (*connectorResource[connectorModel])(nil)
	_ resource.ResourceWithModifyPlan  = (*connectorResource[connectorModel])(nil)
)

func (r *connectorResource[M]) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_" + r.spec.kind
}

func (r *connectorResource[M]) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.configure(req.ProviderData, &resp.Diagnostics)
}

func (r *connectorResource[M]) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	k := r.spec.kind
	attrs := map[string]schema.Attribute{
		"id": schema.StringAttribute{
			Computed:      true,
			Description:   "The " + k + "'s id (a UUID), assigned by the server.",
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
		},
		"name": schema.StringAttribute{
			Required:    true,
			Description: "The " + k + "'s unique name. Changing it renames the " + k + " in place.",
		},
		"type": schema.StringAttribute{
			Required: true,
			Description: "The " + k + " plugin that implements it, such as " + pluginExamples[k] +
				" (the `certctl_plugins` data source lists them). Changing it replaces the " + k + ".",
			PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
		},
		"config": schema.StringAttribute{
			Optional: true,
			Description: "The plugin's non-sensitive configuration, a JSON object (use `jsonencode`). The " +
				"server checks it against the plugin's schema during `terraform plan`: an unknown field, a " +
				"wrong type or a missing required field fails the plan. Fields left out take the plugin's " +
				"defaults; a field removed later returns to its default. Only the fields written here are " +
				"compared with the server for drift, so defaults and values the plugin generates (such as " +
				"the local CA's certificate) cause no diff.",
		},
		"sensitive_config": schema.StringAttribute{
			Optional:  true,
			Sensitive: true,
			Description: "The plugin's sensitive fields (passwords, keys, webhook URLs), a JSON object. " +
				"The server stores them encrypted and never returns them, so changes made outside " +
				"Terraform are not seen. They are kept in the Terraform state; to keep them out of it, " +
				"use `sensitive_config_wo`.",
		},
		"sensitive_config_wo": schema.StringAttribute{
			Optional:  true,
			Sensitive: true,
			WriteOnly: true,
			Description: "Write-only form of `sensitive_config` (Terraform 1.11 or later): a JSON object of " +
				"sensitive fields that is sent to the server but never stored in the plan or the state. " +
				"Terraform cannot see when it changes: it is sent at creation and whenever " +
				"`sensitive_config_wo_version` changes.",
		},
		"sensitive_config_wo_version": schema.Int64Attribute{
			Optional: true,
			Description: "Any number; change it to send `sensitive_config_wo` again (to rotate the " +
				"secrets it holds).",
		},
		"secret_fields": schema.SetAttribute{
			Computed:    true,
			ElementType: types.StringType,
			Description: "Names of the sensitive fields the server holds a value for (the values are never returned).",
		},
		"created_at": schema.StringAttribute{
			Computed:      true,
			Description:   "When the " + k + " was created (RFC 3339).",
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
		},
	}
	maps.Copy(attrs, r.spec.extra)
	resp.Schema = schema.Schema{Description: r.spec.description, Attributes: attrs}
}

var pluginExamples = map[string]string{
	"issuer":   "`local`",
	"target":   "`nginx`, `apache`, `haproxy`, `iis` or `f5`",
	"notifier": "`webhook`, `email`, `slack`, `teams`, `pagerduty` or `opsgenie`",
}

// parseObject decodes a JSON object attribute; null or "" is empty.
func parseObject(v types.String, attrName string, diags *diag.Diagnostics) map[string]any {
	if v.IsNull() || v.IsUnknown() || strings.TrimSpace(v.ValueString()) == "" {
		return map[string]any{}
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(v.ValueString()), &m); err != nil || m == nil {
		diags.AddAttributeError(path.Root(attrName), "Not a JSON object",
			fmt.Sprintf("%s must be a JSON object, such as jsonencode({ field = \"value\" }): %v", attrName, err))
		return map[string]any{}
	}
	return m
}

// mergedConfig joins config, sensitive_config and the write-only form
// (when wo is true) into the configuration sent to the server. A field in
// two of them is an error: which value wins would be a guess.
func mergedConfig(m *connectorModel, wo types.String, diags *diag.Diagnostics) map[string]any {
	out := parseObject(m.Config, "config", diags)
	for _, part := range []struct {
		name string
		v    types.String
	}{{"sensitive_config", m.SensitiveConfig}, {"sensitive_config_wo", wo}} {
		for k, v := range parseObject(part.v, part.name, diags) {
			if _, dup := out[k]; dup {
				diags.AddAttributeError(path.Root(part.name), "Field given twice",
					fmt.Sprintf("field %q is set in %s and in another configuration attribute; set it once", k, part.name))
				continue
			}
			out[k] = v
		}
	}
	return out
}

// removedFields sets to null (back to its default, for the server's merge)
// every field the prior state had that the new configuration lacks.
func removedFields(prior *connectorModel, cfg map[string]any) {
	var d diag.Diagnostics // the prior state was checked when it was planned
	for _, v := range []types.String{prior.Config, prior.SensitiveConfig} {
		for k := range parseObject(v, "config", &d) {
			if _, ok := cfg[k]; !ok {
				cfg[k] = nil
			}
		}
	}
}

// writeOnly reads sensitive_config_wo from the configuration: write-only
// values are only there, never in the plan.
func writeOnly(ctx context.Context, config tfsdk.Config, diags *diag.Diagnostics) types.String {
	var v types.String
	diags.Append(config.GetAttribute(ctx, path.Root("sensitive_config_wo"), &v)...)
	return v
}

// ModifyPlan sends the planned configuration to the server's validate route
// so that a typo or a bad value fails `terraform plan`, not `apply`.
func (r *connectorResource[M]) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.client() == nil {
		return // destroy, or the provider is not configured yet
	}
	if req.Plan.Raw.Equal(req.State.Raw) {
		// Nothing changes: nothing will be sent, so nothing to check (a
		// plugin upgraded since must not fail plans that leave it alone).
		return
	}
	var plan M
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	pb := r.spec.base(&plan)
	wo := writeOnly(ctx, req.Config, &resp.Diagnostics)
	if pb.Name.IsUnknown() || pb.Type.IsUnknown() || pb.Config.IsUnknown() || pb.SensitiveConfig.IsUnknown() ||
		wo.IsUnknown() {
		return // checked at apply time, by the create or update itself
	}
	cfg := mergedConfig(pb, wo, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	id := ""
	if !req.State.Raw.IsNull() {
		var prior M
		resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
		pr := r.spec.base(&prior)
		if pr.Type.ValueString() == pb.Type.ValueString() {
			id = pr.ID.ValueString() // an update; a new type replaces the connector
			removedFields(pr, cfg)
		}
	}
	_, err := r.spec.validate(ctx, r.client(), id, &plan, cfg)
	if client.IsForbidden(err) {
		// A read-only key may plan; the create or update will say no.
		resp.Diagnostics.AddWarning("Configuration not checked", "the API key may not use the server's validate route: "+err.Error())
		return
	}
	if err != nil {
		attr := path.Root("config")
		if e, ok := client.AsError(err); ok {
			switch {
			case e.Field == "name" || e.Field == "type" || e.Field == "agent_id":
				attr = path.Root(e.Field)
			case strings.HasPrefix(e.Field, "config."):
				if _, inPlain := parseObject(pb.Config, "config", &diag.Diagnostics{})[strings.TrimPrefix(e.Field, "config.")]; !inPlain {
					attr = path.Root("sensitive_config")
				}
			}
		}
		resp.Diagnostics.AddAttributeError(attr, "The certctl server refuses this "+r.spec.kind, err.Error())
	}
}

func (r *connectorResource[M]) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan M
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	wo := writeOnly(ctx, req.Config, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	pb := r.spec.base(&plan)
	cfg := mergedConfig(pb, wo, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	o, err := r.spec.create(ctx, r.client(), &plan, cfg)
	if err != nil {
		apiError(&resp.Diagnostics, "create "+r.spec.kind+" "+pb.Name.ValueString(), err)
		return
	}
	r.setComputed(&plan, o)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// setComputed sets what the server decides; the configured attributes
// keep the planned values (Terraform requires it).
func (r *connectorResource[M]) setComputed(m *M, o connector) {
	b := r.spec.base(m)
	b.ID = types.StringValue(o.ID)
	b.SecretFields = stringSetValue(o.SecretFields)
	b.CreatedAt = types.StringValue(o.CreatedAt)
	b.SensitiveConfigWO = types.StringNull()
	r.spec.fromAPI(m, o)
}

func (r *connectorResource[M]) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state M
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	sb := r.spec.base(&state)
	o, err := r.spec.get(ctx, r.client(), sb.ID.ValueString())
	if client.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "read "+r.spec.kind+" "+sb.ID.ValueString(), err)
		return
	}
	sb.Name = types.StringValue(o.Name)
	sb.Type = types.StringValue(o.Type)
	if sb.Config.IsNull() && sb.CreatedAt.IsNull() {
		// An import: the state has only the id. Keep the fields that are
		// not the plugin's defaults.
		sb.Config = importedConfig(ctx, r.data, r.spec.kind, o)
	} else {
		sb.Config = refreshConfig(sb.Config, o.Config)
	}
	r.setComputed(&state, o)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// refreshConfig compares the fields of the configured JSON with the
// server's values and returns the prior text when they agree, or the
// server's values of those same fields when something changed outside
// Terraform (which then shows as a diff).
func refreshConfig(prior types.String, server map[string]any) types.String {
	var d diag.Diagnostics
	m := parseObject(prior, "config", &d)
	if d.HasError() || len(m) == 0 {
		return prior
	}
	changed := false
	for k, v := range m {
		sv, ok := server[k]
		switch {
		case !ok || sv == nil:
			delete(m, k)
			changed = true
		case !jsonEqual(v, sv):
			m[k] = sv
			changed = true
		}
	}
	if !changed {
		return prior
	}
	b, err := json.Marshal(m)
	if err != nil {
		return prior
	}
	return types.StringValue(string(b))
}

// jsonEqual compares two decoded JSON values after a round trip, so that
// 30 and 30.0 are equal.
func jsonEqual(a, b any) bool {
	norm := func(v any) any {
		raw, err := json.Marshal(v)
		if err != nil {
			return v
		}
		var out any
		if json.Unmarshal(raw, &out) != nil {
			return v
		}
		return out
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

// importedConfig is the configuration an imported connector starts with:
// the server's fields without those equal to the plugin's defaults (the
// plugin catalogue says them). Without the catalogue, every field.
func importedConfig(ctx context.Context, pd *providerData, kind string, o connector) types.String {
	cfg := maps.Clone(o.Config)
	if pd != nil {
		if plugins, err := pd.catalogue(ctx); err == nil {
			if p, ok := findPlugin(plugins, kind, o.Type); ok {
				for _, f := range p.Schema.Fields {
					if v, ok := cfg[f.Name]; ok && f.Default != nil && jsonEqual(v, f.Default) {
						delete(cfg, f.Name)
					}
				}
			}
		}
	}
	for k, v := range cfg {
		if v == nil || slices.Contains(o.SecretFields, k) {
			delete(cfg, k)
		}
	}
	if len(cfg) == 0 {
		return types.StringNull()
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return types.StringNull()
	}
	return types.StringValue(string(b))
}

func (r *connectorResource[M]) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, prior M
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	wo := writeOnly(ctx, req.Config, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	pb, pr := r.spec.base(&plan), r.spec.base(&prior)
	if pb.SensitiveConfigWOVersion.Equal(pr.SensitiveConfigWOVersion) {
		// Write-only secrets are sent again only when their version says so.
		wo = types.StringNull()
	}
	cfg := mergedConfig(pb, wo, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	removedFields(pr, cfg)
	o, err := r.spec.update(ctx, r.client(), pr.ID.ValueString(), &plan, cfg)
	if err != nil {
		apiError(&resp.Diagnostics, "update "+r.spec.kind+" "+pr.ID.ValueString(), err)
		return
	}
	r.setComputed(&plan, o)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *connectorResource[M]) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state M
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := r.spec.base(&state).ID.ValueString()
	if err := r.spec.del(ctx, r.client(), id); err != nil && !client.IsNotFound(err) {
		apiError(&resp.Diagnostics, "delete "+r.spec.kind+" "+id, err)
	}
}

func (r *connectorResource[M]) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
