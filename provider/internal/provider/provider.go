// Package provider is the Terraform provider for certctl, built on the
// terraform-plugin-framework (protocol 6). Every resource, data source and
// ephemeral resource talks to the server through sdk/client and nothing
// else; each lives in a file of its own beside its acceptance test.
package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/ephemeral"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/certctl/certctl/sdk/client"
)

// Environment variables the provider falls back to, the same the agent and
// the CLI read.
const (
	EnvURL    = "CERTCTL_URL"
	EnvAPIKey = "CERTCTL_API_KEY"
)

// certctlProvider is the provider; version is the provider's own.
type certctlProvider struct {
	version string
}

var (
	_ provider.Provider                       = (*certctlProvider)(nil)
	_ provider.ProviderWithEphemeralResources = (*certctlProvider)(nil)
)

// New returns a constructor of the provider, as providerserver wants it.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &certctlProvider{version: version} }
}

// providerModel is the provider block.
type providerModel struct {
	Endpoint           types.String `tfsdk:"endpoint"`
	APIKey             types.String `tfsdk:"api_key"`
	CAFile             types.String `tfsdk:"ca_file"`
	CAPEM              types.String `tfsdk:"ca_pem"`
	InsecureSkipVerify types.Bool   `tfsdk:"insecure_skip_verify"`
}

func (p *certctlProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "certctl"
	resp.Version = p.version
}

func (p *certctlProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Manages a certctl server: issuers, targets, notifiers, managed certificates, renewal " +
			"policies, notification rules, agent enrollment tokens and API keys, through its REST API.",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				Optional: true,
				Description: "Base URL of the certctl server, such as `https://certctl.example.com` or " +
					"`http://127.0.0.1:8443` (a path is kept as a prefix). Defaults to the `" + EnvURL +
					"` environment variable; one of the two is required.",
			},
			"api_key": schema.StringAttribute{
				Optional:  true,
				Sensitive: true,
				Description: "API key (`cck_...`) the provider authenticates with. Managing API keys needs an " +
					"admin key; everything else an operator key. Defaults to the `" + EnvAPIKey +
					"` environment variable; one of the two is required.",
			},
			"ca_file": schema.StringAttribute{
				Optional: true,
				Description: "Path of a PEM file of CA certificates that verify the server's TLS certificate, " +
					"instead of the system's roots. Conflicts with `ca_pem`.",
			},
			"ca_pem": schema.StringAttribute{
				Optional: true,
				Description: "PEM text of CA certificates that verify the server's TLS certificate, instead of the " +
					"system's roots. Conflicts with `ca_file`.",
			},
			"insecure_skip_verify": schema.BoolAttribute{
				Optional: true,
				Description: "Do not verify the server's TLS certificate. For tests only: anyone on the path " +
					"can read the API key. Defaults to false.",
			},
		},
	}
}

// providerData is what resources and data sources get from Configure.
type providerData struct {
	client  *client.Client
	plugins pluginCatalogue
}

func (p *certctlProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for _, u := range []struct {
		v    types.String
		name string
	}{{m.Endpoint, "endpoint"}, {m.APIKey, "api_key"}, {m.CAFile, "ca_file"}, {m.CAPEM, "ca_pem"}} {
		if u.v.IsUnknown() {
			resp.Diagnostics.AddAttributeError(path.Root(u.name), "Unknown provider setting",
				fmt.Sprintf("%s depends on a value known only after apply; the provider needs it to plan. "+
					"Give it a value known at plan time, or set it from the environment.", u.name))
		}
	}
	if m.InsecureSkipVerify.IsUnknown() {
		resp.Diagnostics.AddAttributeError(path.Root("insecure_skip_verify"), "Unknown provider setting",
			"insecure_skip_verify depends on a value known only after apply.")
	}
	if resp.Diagnostics.HasError() {
		return
	}
	c, err := newClient(settings{
		endpoint:  firstSet(m.Endpoint.ValueString(), os.Getenv(EnvURL)),
		apiKey:    firstSet(m.APIKey.ValueString(), os.Getenv(EnvAPIKey)),
		caFile:    m.CAFile.ValueString(),
		caPEM:     m.CAPEM.ValueString(),
		insecure:  m.InsecureSkipVerify.ValueBool(),
		userAgent: "terraform-provider-certctl/" + p.version + " " + req.TerraformVersion,
	})
	if err != nil {
		resp.Diagnostics.AddError("Cannot configure the certctl provider", err.Error())
		return
	}
	data := &providerData{client: c}
	resp.ResourceData = data
	resp.DataSourceData = data
	resp.EphemeralResourceData = data
}

// settings are the provider's resolved settings.
type settings struct {
	endpoint, apiKey, caFile, caPEM string
	insecure                        bool
	userAgent                       string
}

// newClient builds the SDK client the settings describe.
func newClient(s settings) (*client.Client, error) {
	if s.endpoint == "" {
		return nil, fmt.Errorf("no server: set endpoint in the provider block or %s in the environment", EnvURL)
	}
	if s.apiKey == "" {
		return nil, fmt.Errorf("no API key: set api_key in the provider block or %s in the environment", EnvAPIKey)
	}
	if s.caFile != "" && s.caPEM != "" {
		return nil, errors.New("ca_file and ca_pem are both set: give the CA certificates one way")
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: s.insecure} //nolint:gosec // opt-in, documented as tests only
	pemData := []byte(s.caPEM)
	if s.caFile != "" {
		b, err := os.ReadFile(s.caFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pemData = b
	}
	if len(pemData) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemData) {
			return nil, errors.New("ca_file/ca_pem holds no PEM certificate")
		}
		tlsConf.RootCAs = pool
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsConf
	c, err := client.New(s.endpoint, client.WithAPIKey(s.apiKey), client.WithUserAgent(s.userAgent),
		client.WithHTTPClient(&http.Client{Transport: tr, Timeout: 60 * time.Second}))
	if err != nil {
		return nil, fmt.Errorf("endpoint: %w", err)
	}
	return c, nil
}

func firstSet(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func (p *certctlProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		newIssuerResource,
		newTargetResource,
		newNotifierResource,
		newCertificateResource,
		newRenewalPolicyResource,
		newNotificationRuleResource,
		newEnrollmentTokenResource,
		newAPIKeyResource,
	}
}

func (p *certctlProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		newCertificateDataSource,
		newCertificatesDataSource,
		newIssuerDataSource,
		newAgentDataSource,
		newAgentsDataSource,
		newPluginsDataSource,
	}
}

func (p *certctlProvider) EphemeralResources(context.Context) []func() ephemeral.EphemeralResource {
	return []func() ephemeral.EphemeralResource{
		newKeyBundleEphemeral,
		newEnrollmentTokenEphemeral,
	}
}
