package provider

// key_bundle_ephemeral.go: the certctl_key_bundle ephemeral resource, the
// private key of a server-key certificate with its certificate and chain,
// for use in the same run (a secret store, a load balancer's API) and
// never written to the plan or the state.

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/certctl/certctl/sdk/client"
)

type keyBundleEphemeral struct{ base }

func newKeyBundleEphemeral() ephemeral.EphemeralResource { return &keyBundleEphemeral{} }

type keyBundleModel struct {
	CertificateID  types.String `tfsdk:"certificate_id"`
	VersionID      types.String `tfsdk:"version_id"`
	SerialNumber   types.String `tfsdk:"serial_number"`
	NotAfter       types.String `tfsdk:"not_after"`
	CertificatePEM types.String `tfsdk:"certificate_pem"`
	ChainPEM       types.String `tfsdk:"chain_pem"`
	FullchainPEM   types.String `tfsdk:"fullchain_pem"`
	PrivateKeyPEM  types.String `tfsdk:"private_key_pem"`
}

func (e *keyBundleEphemeral) Metadata(_ context.Context, req ephemeral.MetadataRequest, resp *ephemeral.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_key_bundle"
}

func (e *keyBundleEphemeral) Configure(_ context.Context, req ephemeral.ConfigureRequest, resp *ephemeral.ConfigureResponse) {
	e.configure(req.ProviderData, &resp.Diagnostics)
}

func (e *keyBundleEphemeral) Schema(_ context.Context, _ ephemeral.SchemaRequest, resp *ephemeral.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "The private key of a certificate whose key the server holds (`key_mode = \"server\"`), with its " +
			"certificate and chain. Ephemeral (Terraform 1.10 or later): the values exist only during the run, for " +
			"write-only arguments, provider settings or provisioners, and are never stored in the plan or the state. " +
			"Needs an admin API key; every export is recorded in the server's audit trail. A certificate not issued " +
			"yet, or whose key stays with its agent, is an error.",
		Attributes: map[string]schema.Attribute{
			"certificate_id": schema.StringAttribute{Required: true, Description: "Id of the certificate."},
			"version_id": schema.StringAttribute{Optional: true, Computed: true,
				Description: "Id of the version; defaults to the current one."},
			"serial_number":   schema.StringAttribute{Computed: true, Description: "Serial number of the version, hexadecimal."},
			"not_after":       schema.StringAttribute{Computed: true, Description: "End of the version's validity (RFC 3339)."},
			"certificate_pem": schema.StringAttribute{Computed: true, Description: "The certificate, PEM."},
			"chain_pem":       schema.StringAttribute{Computed: true, Description: "The issuer chain, PEM (may be empty)."},
			"fullchain_pem":   schema.StringAttribute{Computed: true, Description: "The certificate followed by its chain, PEM, as most servers load it."},
			"private_key_pem": schema.StringAttribute{Computed: true, Sensitive: true, Description: "The private key, PKCS#8 PEM (`PRIVATE KEY`)."},
		},
	}
}

func (e *keyBundleEphemeral) Open(ctx context.Context, req ephemeral.OpenRequest, resp *ephemeral.OpenResponse) {
	var m keyBundleModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	b, err := e.client().GetBundle(ctx, m.CertificateID.ValueString(), client.BundleOptions{
		VersionID: m.VersionID.ValueString(), IncludeKey: true})
	if err != nil {
		apiError(&resp.Diagnostics, "export the key of certificate "+m.CertificateID.ValueString(), err)
		return
	}
	m.VersionID = types.StringValue(b.Version.ID)
	m.SerialNumber = types.StringValue(b.Version.SerialNumber)
	m.NotAfter = timeString(&b.Version.NotAfter)
	m.CertificatePEM = types.StringValue(string(b.CertificatePEM))
	m.ChainPEM = types.StringValue(string(b.ChainPEM))
	m.FullchainPEM = types.StringValue(string(b.FullchainPEM()))
	m.PrivateKeyPEM = types.StringValue(string(b.PrivateKeyPEM))
	resp.Diagnostics.Append(resp.Result.Set(ctx, &m)...)
}
