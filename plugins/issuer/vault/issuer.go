// This file holds the plugin.Issuer methods of the Vault issuer, its
// configuration schema, and the reading of a configuration into settings.

package main

import (
	"context"
	"crypto/x509"
	"log/slog"
	"math/big"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/certctl/certctl/sdk/plugin"

	"github.com/certctl/certctl/sdk/keys"
)

// Configuration field names.
const (
	fieldAddress      = "address"
	fieldMount        = "mount"
	fieldRole         = "role"
	fieldIssuerRef    = "issuer_ref"
	fieldToken        = "token"
	fieldRoleID       = "role_id"
	fieldSecretID     = "secret_id"
	fieldApproleMount = "approle_mount"
	fieldNamespace    = "namespace"
	fieldCACert       = "ca_cert"
	fieldTLSName      = "tls_server_name"
	fieldTTL          = "ttl"
)

// schema describes the Vault issuer's configuration.
var schema = plugin.Schema{Fields: []plugin.Field{
	{Name: fieldAddress, Type: plugin.TypeString, Required: true,
		Description: "Vault's address, e.g. https://vault.example.com:8200."},
	{Name: fieldMount, Type: plugin.TypeString, Default: "pki",
		Description: "The path the PKI secrets engine is mounted at (e.g. pki, pki_int)."},
	{Name: fieldRole, Type: plugin.TypeString, Required: true,
		Description: "The PKI role that signs: its allowed domains, key usages and TTLs apply."},
	{Name: fieldIssuerRef, Type: plugin.TypeString,
		Description: "The issuer (name or id) of the mount to sign with (<mount>/issuer/<ref>/sign/<role>, Vault 1.11+); " +
			"the role's or mount's default issuer when empty."},
	{Name: fieldToken, Type: plugin.TypeString, Sensitive: true,
		Description: "A Vault token allowed to sign with the role (and to revoke). Give this, or role_id and secret_id."},
	{Name: fieldRoleID, Type: plugin.TypeString,
		Description: "AppRole role ID, with secret_id: certctl logs in, and keeps and renews the token while it lasts."},
	{Name: fieldSecretID, Type: plugin.TypeString, Sensitive: true,
		Description: "AppRole secret ID, with role_id."},
	{Name: fieldApproleMount, Type: plugin.TypeString, Default: "approle",
		Description: "The path the AppRole auth method is mounted at."},
	{Name: fieldNamespace, Type: plugin.TypeString,
		Description: "Vault Enterprise namespace (sent as X-Vault-Namespace); empty for none."},
	{Name: fieldCACert, Type: plugin.TypeString,
		Description: "CA certificate(s), PEM, that Vault's TLS certificate must chain to; the system's roots when empty."},
	{Name: fieldTLSName, Type: plugin.TypeString,
		Description: "The name to expect in Vault's TLS certificate, when it differs from the address's host."},
	{Name: fieldTTL, Type: plugin.TypeDuration,
		Description: "Lifetime to ask for; empty means the role's TTL. Vault shortens it to the role's max_ttl."},
}}

// issuer signs through Vault. Its only state is the cache of AppRole
// tokens, which a restart merely empties.
type issuer struct {
	log    *slog.Logger
	tokens *tokenCache
}

func newIssuer() *issuer {
	return &issuer{log: plugin.Logger(), tokens: newTokenCache(time.Now)}
}

var _ plugin.Issuer = (*issuer)(nil)

func (i *issuer) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{
		Name:    "vault",
		Kind:    plugin.KindIssuer,
		Version: "1.0.0",
		Description: "Signs CSRs with HashiCorp Vault's PKI secrets engine (sign with a role, the role's TTL), " +
			"revokes there, and logs in with a token or AppRole.",
		Schema: schema,
	}, nil
}

// ValidateConfig checks the settings, then asks Vault: the credentials
// must be accepted and the role must exist (when the token may read it).
func (i *issuer) ValidateConfig(ctx context.Context, req plugin.ValidateConfigRequest) error {
	cfg := req.Config
	if err := ctx.Err(); err != nil {
		return err
	}
	s, err := readSettings(cfg)
	if err != nil {
		return err
	}
	c, err := i.connect(ctx, s)
	if err != nil {
		return err
	}
	return c.checkRole(ctx)
}

// Provision has nothing to prepare: the CA lives in Vault.
func (i *issuer) Provision(ctx context.Context, req plugin.ProvisionRequest) (plugin.ProvisionResult, error) {
	cfg := req.Config
	if err := ctx.Err(); err != nil {
		return plugin.ProvisionResult{}, err
	}
	if _, err := readSettings(cfg); err != nil {
		return plugin.ProvisionResult{}, err
	}
	return plugin.ProvisionResult{Config: cfg}, nil
}

func (i *issuer) IssueCertificate(ctx context.Context, req plugin.IssueRequest) (plugin.IssueResult, error) {
	return i.sign(ctx, req, "issue")
}

// RenewCertificate signs anew: Vault's PKI engine has no renewal of its own.
func (i *issuer) RenewCertificate(ctx context.Context, req plugin.RenewRequest) (plugin.IssueResult, error) {
	return i.sign(ctx, req.IssueRequest, "renew")
}

func (i *issuer) sign(ctx context.Context, req plugin.IssueRequest, op string) (plugin.IssueResult, error) {
	if err := ctx.Err(); err != nil {
		return plugin.IssueResult{}, err
	}
	s, err := readSettings(req.Config)
	if err != nil {
		return plugin.IssueResult{}, err
	}
	csr, err := x509.ParseCertificateRequest(req.CSR)
	if err != nil {
		return plugin.IssueResult{}, plugin.Errorf(plugin.CodeInvalidInput, "the CSR does not parse: %v", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return plugin.IssueResult{}, plugin.Errorf(plugin.CodeInvalidInput, "the CSR's signature does not verify: %v", err)
	}
	c, err := i.connect(ctx, s)
	if err != nil {
		return plugin.IssueResult{}, err
	}
	res, leaf, err := c.sign(ctx, req, csr)
	if err != nil {
		return plugin.IssueResult{}, err
	}
	i.log.Info("certificate signed by Vault", "operation", op, "mount", s.mount, "role", s.role,
		"common_name", req.CommonName, "serial", leaf.SerialNumber.Text(16))
	return res, nil
}

// RevokeCertificate revokes in Vault, which keeps its own CRL. Revoking a
// revoked certificate succeeds there too.
func (i *issuer) RevokeCertificate(ctx context.Context, req plugin.RevokeRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s, err := readSettings(req.Config)
	if err != nil {
		return err
	}
	serial, err := parseSerial(req.SerialNumber)
	if err != nil {
		return err
	}
	c, err := i.connect(ctx, s)
	if err != nil {
		return err
	}
	if err := c.revoke(ctx, serial, req.CertificatePEM); err != nil {
		return err
	}
	i.log.Info("certificate revoked in Vault", "mount", s.mount, "serial", serial.Text(16))
	return nil
}

// GetOrderStatus always fails: Vault signs synchronously.
func (i *issuer) GetOrderStatus(_ context.Context, req plugin.OrderStatusRequest) (plugin.IssueResult, error) {
	orderID := req.OrderID
	return plugin.IssueResult{}, plugin.Errorf(plugin.CodeNotFound,
		"no order %q: Vault signs synchronously and the Vault issuer keeps no orders", orderID)
}

// SignCRL is not offered: Vault publishes its own CRL (<mount>/crl).
func (i *issuer) SignCRL(context.Context, plugin.CRLRequest) (plugin.CRLResult, error) {
	return plugin.CRLResult{}, plugin.Errorf(plugin.CodeUnimplemented,
		"Vault signs its own CRLs: clients fetch them from Vault (<address>/v1/<mount>/crl)")
}

// settings is a configuration read into typed values, defaults applied.
type settings struct {
	address, mount, role, issuerRef string
	token, roleID, secretID         string
	approleMount, namespace         string
	caCertPEM, tlsServerName        string
	ttl                             time.Duration
}

// approle reports whether the settings log in with AppRole.
func (s settings) approle() bool { return s.roleID != "" }

// authField is the field to blame when Vault refuses the credentials.
func (s settings) authField() string {
	if s.approle() {
		return fieldSecretID
	}
	return fieldToken
}

var (
	// mountPath is a Vault mount path: segments of letters, digits, _ . -.
	mountPath = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$`)
	// pathName is one path segment (a role or issuer name).
	pathName = regexp.MustCompile(`^[A-Za-z0-9_.@-]+$`)
)

// readSettings normalizes cfg with the schema (the host has normally done
// so already, but a plugin trusts no input) and checks every value.
// Messages never quote a sensitive value.
func readSettings(cfg plugin.Config) (settings, error) {
	n, err := schema.Normalize(cfg)
	if err != nil {
		return settings{}, err
	}
	trim := func(f string) string { return strings.TrimSpace(n.String(f)) }
	s := settings{
		address: strings.TrimRight(trim(fieldAddress), "/"), mount: strings.Trim(trim(fieldMount), "/"),
		role: trim(fieldRole), issuerRef: trim(fieldIssuerRef),
		token: trim(fieldToken), roleID: trim(fieldRoleID), secretID: trim(fieldSecretID),
		approleMount: strings.Trim(trim(fieldApproleMount), "/"), namespace: strings.Trim(trim(fieldNamespace), "/"),
		caCertPEM: trim(fieldCACert), tlsServerName: trim(fieldTLSName), ttl: n.Duration(fieldTTL),
	}
	u, err := url.Parse(s.address)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return settings{}, plugin.InvalidConfig(fieldAddress, "must be an http or https URL such as https://vault.example.com:8200")
	case u.User != nil:
		return settings{}, plugin.InvalidConfig(fieldAddress, "must not hold credentials: give token, or role_id and secret_id")
	case u.RawQuery != "" || u.Fragment != "":
		return settings{}, plugin.InvalidConfig(fieldAddress, "must not have a query or fragment")
	}
	for _, f := range []struct{ name, value string }{{fieldMount, s.mount}, {fieldApproleMount, s.approleMount}} {
		if !mountPath.MatchString(f.value) {
			return settings{}, plugin.InvalidConfig(f.name, "%q is not a mount path (letters, digits, _ . - and /)", f.value)
		}
	}
	if s.namespace != "" && !mountPath.MatchString(s.namespace) {
		return settings{}, plugin.InvalidConfig(fieldNamespace, "%q is not a namespace path", s.namespace)
	}
	if !pathName.MatchString(s.role) {
		return settings{}, plugin.InvalidConfig(fieldRole, "%q is not a role name (letters, digits, _ . @ -)", s.role)
	}
	if s.issuerRef != "" && !pathName.MatchString(s.issuerRef) {
		return settings{}, plugin.InvalidConfig(fieldIssuerRef, "%q is not an issuer name or id", s.issuerRef)
	}
	switch {
	case s.token != "" && (s.roleID != "" || s.secretID != ""):
		return settings{}, plugin.InvalidConfig(fieldToken, "give a token or AppRole's role_id and secret_id, not both")
	case s.roleID != "" && s.secretID == "":
		return settings{}, plugin.InvalidConfig(fieldSecretID, "is required with role_id")
	case s.secretID != "" && s.roleID == "":
		return settings{}, plugin.InvalidConfig(fieldRoleID, "is required with secret_id")
	case s.token == "" && s.roleID == "":
		return settings{}, plugin.InvalidConfig(fieldToken, "give a token, or AppRole's role_id and secret_id")
	}
	if strings.ContainsFunc(s.token+s.secretID+s.roleID, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
		return settings{}, plugin.InvalidConfig(s.authField(), "holds a space or control character")
	}
	if s.caCertPEM != "" {
		if _, err := keys.ParseCertificates(s.caCertPEM); err != nil {
			return settings{}, plugin.InvalidConfig(fieldCACert, "%v", err)
		}
	}
	return s, nil
}

// parseSerial reads a hexadecimal serial number, as certctl sends it.
func parseSerial(s string) (*big.Int, error) {
	n, ok := new(big.Int).SetString(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "0x"), 16)
	if !ok || n.Sign() < 0 {
		return nil, plugin.Errorf(plugin.CodeInvalidInput, "serial %q is not a hexadecimal number", s)
	}
	return n, nil
}

// vaultSerial writes a serial number as Vault does: lower-case hex byte
// pairs separated by colons ("1f:0b:...").
func vaultSerial(n *big.Int) string {
	b := n.Bytes()
	if len(b) == 0 {
		b = []byte{0}
	}
	parts := make([]string, len(b))
	for k, x := range b {
		parts[k] = hexByte(x)
	}
	return strings.Join(parts, ":")
}

func hexByte(x byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[x>>4], digits[x&0xf]})
}
