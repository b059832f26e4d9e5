package provider

// issuer_data_source.go: certctl_issuer, one issuer by id or name.

import (
	"context"
	"encoding/json"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/certctl/certctl/sdk/api"
)

type issuerDataSource struct{ base }

func newIssuerDataSource() datasource.DataSource { return &issuerDataSource{} }

type issuerDataModel struct {
	ID               types.String `tfsdk:"id"`
	Name             types.String `tfsdk:"name"`
	Type             types.String `tfsdk:"type"`
	Config           types.String `tfsdk:"config"`
	SecretFields     types.Set    `tfsdk:"secret_fields"`
	CACertificatePEM types.String `tfsdk:"ca_certificate_pem"`
}

func (d *issuerDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_issuer"
}

func (d *issuerDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.configure(req.ProviderData, &resp.Diagnostics)
}

func (d *issuerDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "One issuer, by id or name: for instance the `local` CA the server creates at its first start, " +
			"to issue certificates from it or to trust its CA certificate.",
		Attributes: map[string]schema.Attribute{
			"id":   schema.StringAttribute{Optional: true, Computed: true, Description: "The issuer's id. Give `id` or `name`."},
			"name": schema.StringAttribute{Optional: true, Computed: true, Description: "The issuer's name. Give `id` or `name`."},
			"type": schema.StringAttribute{Computed: true, Description: "The issuer plugin, such as `local`."},
			"config": schema.StringAttribute{Computed: true,
				Description: "The issuer's whole non-sensitive configuration, defaults included, as a JSON object (`jsondecode` it)."},
			"secret_fields": schema.SetAttribute{Computed: true, ElementType: types.StringType,
				Description: "Names of the sensitive fields that are set (their values are never returned)."},
			"ca_certificate_pem": schema.StringAttribute{Computed: true,
				Description: "The CA certificate, PEM, when the plugin publishes it in `ca_certificate_pem` (the `local` plugin does); else null."},
		},
	}
}

func (d *issuerDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m issuerDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var is *api.Issuer
	var err error
	switch {
	case m.ID.ValueString() != "":
		is, err = d.client().GetIssuer(ctx, m.ID.ValueString())
	case m.Name.ValueString() != "":
		is, err = d.client().FindIssuer(ctx, m.Name.ValueString())
	default:
		resp.Diagnostics.AddError("No issuer named", "give id or name")
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "find issuer", err)
		return
	}
	cfg, err := json.Marshal(is.Config)
	if err != nil {
		resp.Diagnostics.AddError("Issuer configuration", err.Error())
		return
	}
	m.ID, m.Name, m.Type = types.StringValue(is.ID), types.StringValue(is.Name), types.StringValue(is.Type)
	m.Config = types.StringValue(string(cfg))
	m.SecretFields = stringSetValue(is.SecretFields)
	m.CACertificatePEM = types.StringNull()
	if s, ok := is.Config["ca_certificate_pem"].(string); ok && s != "" {
		m.CACertificatePEM = types.StringValue(s)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
