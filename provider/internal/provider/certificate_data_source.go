package provider

// certificate_data_source.go: certctl_certificate (one certificate, by id
// or name) and certctl_certificates (a filtered list).

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// certificateAttrTypes are the attributes of a certificate in both data
// sources.
var certificateAttrTypes = map[string]attr.Type{
	"id": types.StringType, "name": types.StringType, "common_name": types.StringType,
	"sans": types.ListType{ElemType: types.StringType}, "issuer_id": types.StringType,
	"target_ids": types.ListType{ElemType: types.StringType}, "key_type": types.StringType, "key_mode": types.StringType,
	"renewal_policy_id": types.StringType, "labels": types.MapType{ElemType: types.StringType},
	"status": types.StringType, "last_error": types.StringType, "current_version_id": types.StringType,
	"not_after": types.StringType, "next_renewal_at": types.StringType, "profile": types.StringType,
}

// certificateDescriptions describe those attributes.
var certificateDescriptions = map[string]string{
	"id": "The certificate's id.", "name": "The certificate's name in certctl.", "common_name": "The subject common name.",
	"sans": "Subject alternative names.", "issuer_id": "Id of the issuer that signs it.",
	"target_ids": "Ids of the targets it is deployed to.", "key_type": "Key algorithm.",
	"key_mode":          "`agent` or `server`: where the private key is made and kept.",
	"renewal_policy_id": "Id of its renewal policy, or null for the server's default.", "labels": "Its labels.",
	"status":     "Lifecycle status: `pending`, `issuing`, `active`, `renewing`, `failed`, `expired` or `revoked`.",
	"last_error": "The last issuance error, or empty.", "current_version_id": "Id of the current version, or null.",
	"not_after":       "End of the current version's validity (RFC 3339), or null.",
	"next_renewal_at": "When the server plans to renew it (RFC 3339), or null.",
	"profile":         "The CA's certificate profile it is issued with (an ACME profile such as `shortlived`), or empty for the issuer's default.",
}

func certificateObject(c api.Certificate) map[string]attr.Value {
	return map[string]attr.Value{
		"id": types.StringValue(c.ID), "name": types.StringValue(c.Name), "common_name": types.StringValue(c.CommonName),
		"sans": stringListValue(c.SANs), "issuer_id": types.StringValue(c.IssuerID), "target_ids": stringListValue(c.TargetIDs),
		"key_type": types.StringValue(c.KeyType), "key_mode": types.StringValue(c.KeyMode),
		"renewal_policy_id": strPtrValue(c.RenewalPolicyID), "labels": labelsValue(c.Labels),
		"status": types.StringValue(c.Status), "last_error": types.StringValue(c.LastError),
		"current_version_id": strPtrValue(c.CurrentVersionID), "not_after": timeString(c.NotAfter),
		"next_renewal_at": timeString(c.NextRenewalAt), "profile": types.StringValue(c.Profile),
	}
}

// labelsValue is a map that is empty, not null, without labels: data
// source results compare more simply that way.
func labelsValue(m map[string]string) types.Map {
	if len(m) == 0 {
		return types.MapValueMust(types.StringType, map[string]attr.Value{})
	}
	return stringMapValue(m)
}

// computedAttrs makes the computed data source attributes of types
// (strings, lists and maps: all these data sources have).
func computedAttrs(typesOf map[string]attr.Type, desc map[string]string) map[string]schema.Attribute {
	out := map[string]schema.Attribute{}
	for name, t := range typesOf {
		switch tt := t.(type) {
		case types.ListType:
			out[name] = schema.ListAttribute{Computed: true, ElementType: tt.ElemType, Description: desc[name]}
		case types.MapType:
			out[name] = schema.MapAttribute{Computed: true, ElementType: tt.ElemType, Description: desc[name]}
		default:
			out[name] = schema.StringAttribute{Computed: true, Description: desc[name]}
		}
	}
	return out
}

// ---- certctl_certificate

type certificateDataSource struct{ base }

func newCertificateDataSource() datasource.DataSource { return &certificateDataSource{} }

func (d *certificateDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_certificate"
}

func (d *certificateDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.configure(req.ProviderData, &resp.Diagnostics)
}

func (d *certificateDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := computedAttrs(certificateAttrTypes, certificateDescriptions)
	attrs["id"] = schema.StringAttribute{Optional: true, Computed: true, Description: "The certificate's id. Give `id` or `name`."}
	attrs["name"] = schema.StringAttribute{Optional: true, Computed: true, Description: "The certificate's name. Give `id` or `name`."}
	attrs["serial_number"] = schema.StringAttribute{Computed: true, Description: "Serial number of the current version, hexadecimal."}
	attrs["fingerprint_sha256"] = schema.StringAttribute{Computed: true, Description: "SHA-256 fingerprint of the current version."}
	attrs["not_before"] = schema.StringAttribute{Computed: true, Description: "Start of the current version's validity (RFC 3339)."}
	attrs["certificate_pem"] = schema.StringAttribute{Computed: true, Description: "The current version's certificate, PEM (never the key)."}
	attrs["chain_pem"] = schema.StringAttribute{Computed: true, Description: "The current version's issuer chain, PEM."}
	resp.Schema = schema.Schema{
		Description: "One managed certificate, by id or name, with its current version (a certificate managed " +
			"elsewhere, to use its PEM or serial in this configuration).",
		Attributes: attrs,
	}
}

var certificateVersionAttrTypes = map[string]attr.Type{
	"serial_number": types.StringType, "fingerprint_sha256": types.StringType, "not_before": types.StringType,
	"certificate_pem": types.StringType, "chain_pem": types.StringType,
}

func (d *certificateDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var id, name types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("id"), &id)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("name"), &name)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var cert *api.Certificate
	var err error
	switch {
	case id.ValueString() != "":
		cert, err = d.client().GetCertificate(ctx, id.ValueString())
	case name.ValueString() != "":
		cert, err = d.client().FindCertificate(ctx, name.ValueString())
	default:
		resp.Diagnostics.AddError("No certificate named", "give id or name")
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "find certificate", err)
		return
	}
	v, err := currentVersion(ctx, d.client(), cert)
	if err != nil {
		apiError(&resp.Diagnostics, "certificate "+cert.Name, err)
		return
	}
	vals := certificateObject(*cert)
	for k := range certificateVersionAttrTypes {
		vals[k] = types.StringNull()
	}
	if v != nil {
		vals["serial_number"] = types.StringValue(v.SerialNumber)
		vals["fingerprint_sha256"] = types.StringValue(v.FingerprintSHA256)
		vals["not_before"] = timeString(&v.NotBefore)
		vals["certificate_pem"] = types.StringValue(v.CertificatePEM)
		vals["chain_pem"] = types.StringValue(v.ChainPEM)
	}
	for k, v := range vals {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(k), v)...)
	}
}

// ---- certctl_certificates

type certificatesDataSource struct{ base }

func newCertificatesDataSource() datasource.DataSource { return &certificatesDataSource{} }

type certificatesModel struct {
	Status           types.String `tfsdk:"status"`
	IssuerID         types.String `tfsdk:"issuer_id"`
	TargetID         types.String `tfsdk:"target_id"`
	NamePrefix       types.String `tfsdk:"name_prefix"`
	ExpiringBefore   types.String `tfsdk:"expiring_before"`
	DeploymentHealth types.String `tfsdk:"deployment_health"`
	Labels           types.Map    `tfsdk:"labels"`
	Certificates     types.List   `tfsdk:"certificates"`
}

func (d *certificatesDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_certificates"
}

func (d *certificatesDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.configure(req.ProviderData, &resp.Diagnostics)
}

func (d *certificatesDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "The managed certificates the filters select (all of them combine), oldest first.",
		Attributes: map[string]schema.Attribute{
			"status":            schema.StringAttribute{Optional: true, Description: "Only certificates in this status (`active`, `failed`, ...)."},
			"issuer_id":         schema.StringAttribute{Optional: true, Description: "Only certificates of this issuer."},
			"target_id":         schema.StringAttribute{Optional: true, Description: "Only certificates deployed to this target."},
			"name_prefix":       schema.StringAttribute{Optional: true, Description: "Only certificates whose name starts with this."},
			"expiring_before":   schema.StringAttribute{Optional: true, Description: "Only certificates whose current version expires before this time (RFC 3339)."},
			"deployment_health": schema.StringAttribute{Optional: true, Description: "`failed` (a deployment failed), `pending` (one is under way) or `succeeded` (all succeeded)."},
			"labels":            schema.MapAttribute{Optional: true, ElementType: types.StringType, Description: "Only certificates carrying all these labels."},
			"certificates": schema.ListNestedAttribute{
				Computed:     true,
				Description:  "The certificates found.",
				NestedObject: schema.NestedAttributeObject{Attributes: computedAttrs(certificateAttrTypes, certificateDescriptions)},
			},
		},
	}
}

func (d *certificatesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m certificatesModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	labels := stringMap(ctx, m.Labels, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	opts := client.CertificateListOptions{Status: m.Status.ValueString(), IssuerID: m.IssuerID.ValueString(),
		TargetID: m.TargetID.ValueString(), NamePrefix: m.NamePrefix.ValueString(),
		DeploymentHealth: m.DeploymentHealth.ValueString(), Limit: 500}
	if v := m.ExpiringBefore.ValueString(); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("expiring_before"), "Invalid time", err.Error())
			return
		}
		opts.ExpiringBefore = t
	}
	items := []attr.Value{}
	objType := types.ObjectType{AttrTypes: certificateAttrTypes}
	for c, err := range d.client().AllCertificates(ctx, opts) {
		if err != nil {
			apiError(&resp.Diagnostics, "list certificates", err)
			return
		}
		if !hasLabels(c.Labels, labels) {
			continue
		}
		items = append(items, types.ObjectValueMust(certificateAttrTypes, certificateObject(c)))
	}
	m.Certificates = types.ListValueMust(objType, items)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// hasLabels says whether have carries every label of want.
func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}
