package provider

// certificate_resource.go: certctl_certificate, a managed certificate. The
// server issues, renews and deploys it by itself; Terraform declares it.
// What the server changes on its own (a renewal: new serial, validity,
// PEM) lives in computed attributes only, so it is never a diff.

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"

	"github.com/certctl/certctl/sdk/keys"
)

// Values of wait_for.
const (
	waitIssued   = "issued"
	waitDeployed = "deployed"
)

// keyTypes are the key types the server accepts (sdk/keys.Types).
var keyTypes = keys.Types

// profilePattern is what the server accepts as a profile name (ACME
// profile names are short tokens), checked at plan time so that a typo
// fails before anything is applied.
var profilePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{0,64}$`)

type certificateModel struct {
	ID                types.String `tfsdk:"id"`
	Name              types.String `tfsdk:"name"`
	CommonName        types.String `tfsdk:"common_name"`
	SANs              types.Set    `tfsdk:"sans"`
	IssuerID          types.String `tfsdk:"issuer_id"`
	TargetIDs         types.Set    `tfsdk:"target_ids"`
	KeyType           types.String `tfsdk:"key_type"`
	KeyMode           types.String `tfsdk:"key_mode"`
	RenewalPolicyID   types.String `tfsdk:"renewal_policy_id"`
	Labels            types.Map    `tfsdk:"labels"`
	Profile           types.String `tfsdk:"profile"`
	WaitFor           types.String `tfsdk:"wait_for"`
	WaitTimeout       types.String `tfsdk:"wait_timeout"`
	Status            types.String `tfsdk:"status"`
	LastError         types.String `tfsdk:"last_error"`
	CurrentVersionID  types.String `tfsdk:"current_version_id"`
	SerialNumber      types.String `tfsdk:"serial_number"`
	FingerprintSHA256 types.String `tfsdk:"fingerprint_sha256"`
	NotBefore         types.String `tfsdk:"not_before"`
	NotAfter          types.String `tfsdk:"not_after"`
	CertificatePEM    types.String `tfsdk:"certificate_pem"`
	ChainPEM          types.String `tfsdk:"chain_pem"`
}

type certificateResource struct{ base }

var (
	_ resource.ResourceWithConfigure      = (*certificateResource)(nil)
	_ resource.ResourceWithImportState    = (*certificateResource)(nil)
	_ resource.ResourceWithValidateConfig = (*certificateResource)(nil)
)

func newCertificateResource() resource.Resource { return &certificateResource{} }

func (r *certificateResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_certificate"
}

func (r *certificateResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.configure(req.ProviderData, &resp.Diagnostics)
}

func computedString(desc string) schema.StringAttribute {
	return schema.StringAttribute{Computed: true, Description: desc}
}

func (r *certificateResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A managed certificate. The server issues it when it is created (and again when its names " +
			"change), renews it before it expires by its renewal policy, and deploys every issued version to its " +
			"targets through their agents. Renewals the server does by itself change only computed attributes " +
			"(serial, validity, PEM), so they never show as a diff. The private key is never read into Terraform: " +
			"it stays with the agent (`key_mode = \"agent\"`) or on the server (`\"server\"`, exported only " +
			"through the `certctl_key_bundle` ephemeral resource). Destroying the resource deletes the " +
			"certificate's record; files already deployed stay where they are.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:      true,
				Description:   "The certificate's id (a UUID), assigned by the server.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Required:    true,
				Description: "Unique name of the certificate in certctl (not in the certificate itself). Changes in place.",
			},
			"common_name": schema.StringAttribute{
				Required: true,
				Description: "The subject common name (a DNS name, at most 64 characters). Changing it issues a new " +
					"version, in place.",
			},
			"sans": schema.SetAttribute{
				Optional:    true,
				ElementType: types.StringType,
				Description: "Subject alternative names: DNS names, IP addresses, e-mail addresses and URIs. The " +
					"common name is not added by itself: list it here too if clients should match it. Changing " +
					"them issues a new version in place. DNS names are compared without regard to case.",
			},
			"issuer_id": schema.StringAttribute{
				Required:    true,
				Description: "Id of the `certctl_issuer` that signs the certificate. Changes in place: the next issuance or renewal uses the new issuer.",
			},
			"target_ids": schema.SetAttribute{
				Optional:    true,
				ElementType: types.StringType,
				Description: "Ids of the `certctl_target`s every version is deployed to. Changes in place; a target added gets the next version.",
			},
			"key_type": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Default:  stringdefault.StaticString("ecdsa-p256"),
				Description: "Key algorithm: one of `" + strings.Join(keyTypes, "`, `") + "`. Defaults to " +
					"`ecdsa-p256`. Changing it needs a new key and so replaces the certificate.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"key_mode": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Description: "Where the private key is made and kept: `agent` (on the host of the target's agent, " +
					"never leaving it) or `server` (on the server, encrypted, exportable by an admin). Defaults to " +
					"`agent` when the targets are bound to an agent and `server` otherwise. Changing it needs a new " +
					"key and so replaces the certificate.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplace()},
			},
			"renewal_policy_id": schema.StringAttribute{
				Optional:    true,
				Description: "Id of the `certctl_renewal_policy` that says when the certificate renews. Defaults to the server's default policy. Changes in place.",
			},
			"labels": schema.MapAttribute{
				Optional:    true,
				ElementType: types.StringType,
				Description: "Labels (key = value) that notification rules and filters select certificates by. Changes in place.",
			},
			"profile": schema.StringAttribute{
				Optional: true,
				Computed: true,
				Description: "The CA's certificate profile to issue with, sent to the issuer: an ACME profile such as " +
					"Let's Encrypt's `classic`, `tlsserver` or `shortlived` (the ACME issuer refuses one its CA does not " +
					"offer); the local CA knows `server` and `client`. At most 64 letters, digits, `-`, `_` and `.`. " +
					"Set, it is enforced; `\"\"` goes back to the issuer's configured profile, else the CA's default. " +
					"Left out of the configuration, the profile the server has is kept (the issuer's default, or one " +
					"set with the CLI or the API), so removing the argument changes nothing: set `\"\"` to clear it. " +
					"Changes in place and issues nothing by itself: the new profile applies from the next issuance or " +
					"renewal.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"wait_for": schema.StringAttribute{
				Optional: true,
				Description: "Make create and update wait until the certificate is `issued` (a version is active) or " +
					"`deployed` (issued, and every bound target serves it), for at most `wait_timeout`. A failure on " +
					"the way fails the apply. Without it, apply returns once the server accepted the declaration and " +
					"issuance goes on in the background.",
			},
			"wait_timeout": schema.StringAttribute{
				Optional:    true,
				Computed:    true,
				Default:     stringdefault.StaticString("10m"),
				Description: "Longest wait for `wait_for`, a Go duration such as `90s` or `10m`. Defaults to `10m`.",
			},
			"status":             computedString("Lifecycle status: `pending`, `issuing`, `active`, `renewing`, `failed`, `expired` or `revoked`."),
			"last_error":         computedString("The last issuance error, or empty."),
			"current_version_id": computedString("Id of the version in use (the latest issued), or null before the first issuance."),
			"serial_number":      computedString("Serial number of the current version, in hexadecimal."),
			"fingerprint_sha256": computedString("SHA-256 fingerprint of the current version's DER encoding, in hexadecimal."),
			"not_before":         computedString("Start of the current version's validity (RFC 3339)."),
			"not_after":          computedString("End of the current version's validity (RFC 3339)."),
			"certificate_pem":    computedString("The current version's certificate, PEM. Public; the private key is never in state."),
			"chain_pem":          computedString("The issuer chain of the current version, PEM, without the certificate itself."),
		},
	}
}

func (r *certificateResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m certificateModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	oneOf := func(v types.String, attr string, allowed []string) {
		if v.IsNull() || v.IsUnknown() || slices.Contains(allowed, v.ValueString()) {
			return
		}
		resp.Diagnostics.AddAttributeError(path.Root(attr), "Invalid "+attr,
			fmt.Sprintf("%q is not one of %s", v.ValueString(), strings.Join(allowed, ", ")))
	}
	oneOf(m.KeyType, "key_type", keyTypes)
	oneOf(m.KeyMode, "key_mode", []string{"agent", "server"})
	oneOf(m.WaitFor, "wait_for", []string{waitIssued, waitDeployed})
	if v := m.Profile; !v.IsNull() && !v.IsUnknown() && !profilePattern.MatchString(v.ValueString()) {
		resp.Diagnostics.AddAttributeError(path.Root("profile"), "Invalid profile",
			fmt.Sprintf("%q is not a profile name: at most 64 letters, digits, '-', '_' and '.'", v.ValueString()))
	}
	if v := m.WaitTimeout; !v.IsNull() && !v.IsUnknown() {
		if d, err := time.ParseDuration(v.ValueString()); err != nil || d <= 0 {
			resp.Diagnostics.AddAttributeError(path.Root("wait_timeout"), "Invalid wait_timeout",
				fmt.Sprintf("%q is not a positive Go duration such as 90s or 10m", v.ValueString()))
		}
	}
}

func (m *certificateModel) request(ctx context.Context, diags *diagsT) api.CertificateRequest {
	return api.CertificateRequest{
		Name:            m.Name.ValueString(),
		CommonName:      m.CommonName.ValueString(),
		SANs:            nonNil(stringSet(ctx, m.SANs, diags)),
		IssuerID:        m.IssuerID.ValueString(),
		TargetIDs:       nonNil(stringSet(ctx, m.TargetIDs, diags)),
		KeyType:         m.KeyType.ValueString(),
		KeyMode:         m.KeyMode.ValueString(), // unknown (to be decided by the server) is ""
		RenewalPolicyID: strPtr(m.RenewalPolicyID),
		Labels:          stringMap(ctx, m.Labels, diags),
		// Left out of the configuration, the plan holds the profile the
		// server had at the refresh (UseStateForUnknown): sending it back
		// keeps it, where "" would reset it to the issuer's default. Unknown
		// only at create, where "" is the default anyway.
		Profile: m.Profile.ValueString(),
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// setFromAPI sets the computed attributes from the certificate and its
// current version: v is nil before the first issuance, or when the model
// already holds the current version's attributes (versions never change). Configured attributes
// are taken from the server only when they differ beyond the server's
// normalisation (case of DNS names), so that drift shows and nothing else.
func (m *certificateModel) setFromAPI(c *api.Certificate, v *api.CertificateVersion) {
	m.ID = types.StringValue(c.ID)
	m.Name = types.StringValue(c.Name)
	if !strings.EqualFold(m.CommonName.ValueString(), c.CommonName) {
		m.CommonName = types.StringValue(c.CommonName)
	}
	if !sameFold(setStrings(m.SANs), c.SANs) {
		m.SANs = stringSetValue(c.SANs)
	}
	m.IssuerID = types.StringValue(c.IssuerID)
	if !slices.Equal(sorted(setStrings(m.TargetIDs)), sorted(c.TargetIDs)) {
		m.TargetIDs = stringSetValue(c.TargetIDs)
	} else if m.TargetIDs.IsUnknown() {
		m.TargetIDs = types.SetNull(types.StringType)
	}
	m.KeyType = types.StringValue(c.KeyType)
	m.KeyMode = types.StringValue(c.KeyMode)
	m.RenewalPolicyID = strPtrValue(c.RenewalPolicyID)
	m.Profile = types.StringValue(c.Profile)
	switch {
	case len(c.Labels) > 0:
		m.Labels = stringMapValue(c.Labels)
	case len(m.Labels.Elements()) > 0:
		m.Labels = types.MapNull(types.StringType) // removed outside Terraform
	}
	m.Status = types.StringValue(c.Status)
	m.LastError = types.StringValue(c.LastError)
	m.CurrentVersionID = strPtrValue(c.CurrentVersionID)
	if v == nil {
		if c.CurrentVersionID != nil {
			return // the caller knows the version's attributes are current
		}
		for _, a := range []*types.String{&m.SerialNumber, &m.FingerprintSHA256, &m.NotBefore, &m.NotAfter, &m.CertificatePEM, &m.ChainPEM} {
			*a = types.StringNull()
		}
		return
	}
	m.SerialNumber = types.StringValue(v.SerialNumber)
	m.FingerprintSHA256 = types.StringValue(v.FingerprintSHA256)
	m.NotBefore = timeString(&v.NotBefore)
	m.NotAfter = timeString(&v.NotAfter)
	m.CertificatePEM = types.StringValue(v.CertificatePEM)
	m.ChainPEM = types.StringValue(v.ChainPEM)
}

func setStrings(s types.Set) []string {
	if s.IsNull() || s.IsUnknown() {
		return nil
	}
	out := make([]string, 0, len(s.Elements()))
	for _, e := range s.Elements() {
		if sv, ok := e.(types.String); ok {
			out = append(out, sv.ValueString())
		}
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// sameFold says whether a and b hold the same strings, ignoring order and
// case.
func sameFold(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	low := func(s []string) []string {
		out := make([]string, len(s))
		for i, v := range s {
			out[i] = strings.ToLower(v)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(low(a), low(b))
}

// current returns the certificate's current version, or nil.
func currentVersion(ctx context.Context, c *client.Client, cert *api.Certificate) (*api.CertificateVersion, error) {
	if cert.CurrentVersionID == nil {
		return nil, nil
	}
	v, err := c.GetCertificateVersion(ctx, cert.ID, *cert.CurrentVersionID)
	if err != nil {
		return nil, fmt.Errorf("read current version: %w", err)
	}
	return v, nil
}

func (r *certificateResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan certificateModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body := plan.request(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	cert, err := r.client().CreateCertificate(ctx, body)
	if err != nil {
		apiError(&resp.Diagnostics, "create certificate "+body.Name, err)
		return
	}
	r.finish(ctx, &plan, cert, "", resp.State.Set, &resp.Diagnostics)
}

// finish waits as wait_for asks, then stores the outcome. The state is
// written even when the wait fails, so that Terraform keeps track of the
// certificate (and marks it tainted).
func (r *certificateResource) finish(ctx context.Context, m *certificateModel, cert *api.Certificate, priorVersion string,
	set func(context.Context, any) diagsT, diags *diagsT) {
	var waitErr error
	if w := m.WaitFor.ValueString(); w != "" {
		timeout, _ := time.ParseDuration(m.WaitTimeout.ValueString())
		cert, waitErr = waitCertificate(ctx, r.client(), cert, w, priorVersion, timeout)
	}
	v, err := currentVersion(ctx, r.client(), cert)
	if err != nil {
		apiError(diags, "certificate "+cert.Name, err)
		return
	}
	m.setFromAPI(cert, v)
	diags.Append(set(ctx, m)...)
	if waitErr != nil {
		diags.AddAttributeError(path.Root("wait_for"), "Certificate "+cert.Name+" did not become "+m.WaitFor.ValueString(), waitErr.Error())
	}
}

// waitCertificate waits through the SDK until cert is issued (a version
// other than priorVersion is current) or also deployed to every bound
// target, for at most timeout. Each step of the way is logged for
// TF_LOG=debug; a state from which the wanted one cannot come (failed
// issuance, failed deployment) ends the wait at once.
func waitCertificate(ctx context.Context, c *client.Client, cert *api.Certificate, want, priorVersion string,
	timeout time.Duration) (*api.Certificate, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	got, err := c.WaitForCertificate(ctx, cert.ID, client.WaitOptions{
		Until:          client.WaitCondition(want),
		AfterVersionID: priorVersion,
		Progress: func(e client.WaitEvent) {
			tflog.Debug(ctx, "certctl certificate wait", map[string]any{"certificate": cert.Name, "state": e.Message})
		},
	})
	if got == nil {
		got = cert
	}
	if errors.Is(err, context.DeadlineExceeded) {
		h := got.DeploymentHealth
		return got, fmt.Errorf("still %s after %v (deployments: %d of %d succeeded, %d pending, %d in progress, %d failed); "+
			"raise wait_timeout, or look at the certificate's jobs", got.Status, timeout, h.Succeeded, h.Total,
			h.Pending, h.InProgress, h.Failed)
	}
	return got, err
}

func (r *certificateResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state certificateModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cert, err := r.client().GetCertificate(ctx, state.ID.ValueString())
	if client.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		apiError(&resp.Diagnostics, "read certificate "+state.ID.ValueString(), err)
		return
	}
	if cert.CurrentVersionID != nil && *cert.CurrentVersionID == state.CurrentVersionID.ValueString() &&
		!state.SerialNumber.IsNull() {
		// A version never changes once issued: what the state holds of the
		// current one is still true, and a refresh of many certificates
		// makes one call each instead of two.
		state.setFromAPI(cert, nil)
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		return
	}
	v, err := currentVersion(ctx, r.client(), cert)
	if err != nil {
		apiError(&resp.Diagnostics, "read certificate "+cert.Name, err)
		return
	}
	if state.WaitTimeout.IsNull() {
		state.WaitTimeout = types.StringValue("10m") // an import: the default
	}
	state.setFromAPI(cert, v)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *certificateResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, prior certificateModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body := plan.request(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	cert, err := r.client().UpdateCertificate(ctx, prior.ID.ValueString(), body)
	if err != nil {
		apiError(&resp.Diagnostics, "update certificate "+prior.ID.ValueString(), err)
		return
	}
	priorVersion := ""
	respec := !strings.EqualFold(plan.CommonName.ValueString(), prior.CommonName.ValueString()) ||
		!sameFold(setStrings(plan.SANs), setStrings(prior.SANs))
	if respec {
		// Wait for the version the change makes, not the one before it.
		priorVersion = prior.CurrentVersionID.ValueString()
	}
	r.finish(ctx, &plan, cert, priorVersion, resp.State.Set, &resp.Diagnostics)
}

func (r *certificateResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state certificateModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.client().DeleteCertificate(ctx, state.ID.ValueString()); err != nil && !client.IsNotFound(err) {
		apiError(&resp.Diagnostics, "delete certificate "+state.ID.ValueString(), err)
	}
}

func (r *certificateResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}
