package provider

// plugins_data_source.go: certctl_plugins, the server's plugin catalogue.

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

type pluginsDataSource struct{ base }

func newPluginsDataSource() datasource.DataSource { return &pluginsDataSource{} }

func (d *pluginsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_plugins"
}

func (d *pluginsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.configure(req.ProviderData, &resp.Diagnostics)
}

var pluginFieldAttrTypes = map[string]attr.Type{
	"name": types.StringType, "type": types.StringType, "description": types.StringType,
	"required": types.BoolType, "sensitive": types.BoolType, "enum": types.ListType{ElemType: types.StringType},
}

var pluginAttrTypes = map[string]attr.Type{
	"kind": types.StringType, "name": types.StringType, "version": types.StringType, "description": types.StringType,
	"status": types.StringType, "sha256": types.StringType,
	"fields": types.ListType{ElemType: types.ObjectType{AttrTypes: pluginFieldAttrTypes}},
}

func (d *pluginsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "The connector plugins the server found in its plugin directory, with the configuration " +
			"fields each accepts (what `config` and `sensitive_config` of issuers, targets and notifiers may hold).",
		Attributes: map[string]schema.Attribute{
			"kind": schema.StringAttribute{
				Optional:    true,
				Description: "Only plugins of this kind: `issuer`, `target` or `notifier`.",
			},
			"plugins": schema.ListNestedAttribute{
				Computed:    true,
				Description: "The plugins, by kind and name.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"kind":        schema.StringAttribute{Computed: true, Description: "`issuer`, `target` or `notifier`."},
					"name":        schema.StringAttribute{Computed: true, Description: "The plugin's name: the `type` of the connectors it implements."},
					"version":     schema.StringAttribute{Computed: true, Description: "The plugin's version."},
					"description": schema.StringAttribute{Computed: true, Description: "What the plugin does."},
					"status":      schema.StringAttribute{Computed: true, Description: "The plugin's state on the server (running, failed, ...)."},
					"sha256":      schema.StringAttribute{Computed: true, Description: "SHA-256 of the plugin binary, in hexadecimal."},
					"fields": schema.ListNestedAttribute{
						Computed:    true,
						Description: "The configuration fields the plugin accepts.",
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"name":        schema.StringAttribute{Computed: true, Description: "Field name, the key in `config`."},
							"type":        schema.StringAttribute{Computed: true, Description: "`string`, `int`, `bool`, `duration` or `string_list`."},
							"description": schema.StringAttribute{Computed: true, Description: "What the field is for."},
							"required":    schema.BoolAttribute{Computed: true, Description: "Whether the field must be set."},
							"sensitive":   schema.BoolAttribute{Computed: true, Description: "Whether the field is secret: set it in `sensitive_config` or `sensitive_config_wo`."},
							"enum":        schema.ListAttribute{Computed: true, ElementType: types.StringType, Description: "The values allowed, when the field has a fixed set."},
						}},
					},
				}},
			},
		},
	}
}

type pluginsModel struct {
	Kind    types.String `tfsdk:"kind"`
	Plugins types.List   `tfsdk:"plugins"`
}

func (d *pluginsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m pluginsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	list, err := d.client().ListPlugins(ctx)
	if err != nil {
		apiError(&resp.Diagnostics, "list plugins", err)
		return
	}
	var items []attr.Value
	for _, p := range list.Items {
		if k := m.Kind.ValueString(); k != "" && p.Kind != k {
			continue
		}
		var fields []attr.Value
		for _, f := range p.Schema.Fields {
			fields = append(fields, types.ObjectValueMust(pluginFieldAttrTypes, map[string]attr.Value{
				"name": types.StringValue(f.Name), "type": types.StringValue(f.Type), "description": types.StringValue(f.Description),
				"required": types.BoolValue(f.Required), "sensitive": types.BoolValue(f.Sensitive), "enum": stringListValue(f.Enum),
			}))
		}
		items = append(items, types.ObjectValueMust(pluginAttrTypes, map[string]attr.Value{
			"kind": types.StringValue(p.Kind), "name": types.StringValue(p.Name), "version": types.StringValue(p.Version),
			"description": types.StringValue(p.Description), "status": types.StringValue(p.Status), "sha256": types.StringValue(p.SHA256),
			"fields": types.ListValueMust(types.ObjectType{AttrTypes: pluginFieldAttrTypes}, fields),
		}))
	}
	m.Plugins = types.ListValueMust(types.ObjectType{AttrTypes: pluginAttrTypes}, items)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
