// This file holds the plugin.Issuer methods of the local CA, its
// configuration schema, and the reading of a configuration into typed
// settings. The methods are thin: the CA itself is in ca.go, issuing in
// sign.go and revocation lists in crl.go.

package main

import (
	"context"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

// Configuration field names.
const (
	fieldCACert         = "ca_certificate_pem"
	fieldCAKey          = "ca_private_key_pem"
	fieldCAChain        = "ca_chain_pem"
	fieldCommonName     = "common_name"
	fieldOrganization   = "organization"
	fieldCAKeyType      = "ca_key_type"
	fieldCAValidity     = "ca_validity"
	fieldValidity       = "validity"
	fieldMaxValidity    = "max_validity"
	fieldCRLURL         = "crl_url"
	fieldAllowedDomains = "allowed_domains"
)

// schema describes the local CA's configuration.
var schema = plugin.Schema{Fields: []plugin.Field{
	{Name: fieldCACert, Type: plugin.TypeString,
		Description: "The CA certificate (PEM). Left empty, one is generated when the issuer is created; " +
			"given (with its key), the local CA is a subordinate of your own CA."},
	{Name: fieldCAKey, Type: plugin.TypeString, Sensitive: true,
		Description: "The CA private key (PKCS#8 PEM; PKCS#1 and SEC 1 are accepted too, unencrypted). " +
			"Generated with the certificate, or given with it."},
	{Name: fieldCAChain, Type: plugin.TypeString,
		Description: "For a subordinate CA: the certificates above it (PEM), its issuer first, up to the root. " +
			"The CA certificate must verify against them; they are appended to every issued chain."},
	{Name: fieldCommonName, Type: plugin.TypeString, Default: "certctl local CA",
		Description: "Common name of a generated CA certificate."},
	{Name: fieldOrganization, Type: plugin.TypeString, Default: "certctl",
		Description: "Organization of a generated CA certificate."},
	// P-256 by default, as step-ca's default hierarchy: a P-256 CA signs
	// about four times faster than a P-384 one, which bounded issuance
	// (docs/performance.md), and is as widely accepted. Existing issuers
	// keep the key type stored in their configuration and their key.
	{Name: fieldCAKeyType, Type: plugin.TypeString, Default: "ecdsa-p256", Enum: keyTypes,
		Description: "Key type of a generated CA."},
	{Name: fieldCAValidity, Type: plugin.TypeDuration, Default: "3650d",
		Description: "Lifetime of a generated CA certificate."},
	{Name: fieldValidity, Type: plugin.TypeDuration, Default: "90d",
		Description: "Lifetime of an issued certificate when the request does not give one."},
	{Name: fieldMaxValidity, Type: plugin.TypeDuration, Default: "397d",
		Description: "Longest lifetime of an issued certificate; longer requests are shortened to it. " +
			"No certificate outlives the CA certificate or a certificate above it."},
	{Name: fieldCRLURL, Type: plugin.TypeString,
		Description: "URL (http, https or ldap) written into issued certificates as their CRL distribution point."},
	{Name: fieldAllowedDomains, Type: plugin.TypeStringList,
		Description: "When set, the common name and every DNS name of a certificate must be one of these " +
			"domains or a subdomain of one, and certificates with IP address, e-mail or URI names are refused."},
}}

// issuer is the local CA. It keeps no state: the CA comes with every call's
// configuration.
type issuer struct {
	now  func() time.Time // the clock; tests set it
	log  *slog.Logger
	keys *caKeys // nil parses the CA key at every call
}

func newIssuer() *issuer {
	return &issuer{now: time.Now, log: plugin.Logger(), keys: &caKeys{}}
}

var _ plugin.Issuer = (*issuer)(nil)

func (i *issuer) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{
		Name:    "local",
		Kind:    plugin.KindIssuer,
		Version: "1.0.0",
		Description: "A private CA run by certctl: a self-signed root generated when the issuer is created, " +
			"or a subordinate of your own CA. It signs CSRs with ECDSA P-256/P-384, RSA 2048/3072/4096 or " +
			"Ed25519 keys (P-224, P-521 and other RSA sizes are refused), signs CRLs of the revocations " +
			"certctl records, and keeps no state of its own.",
		Schema: schema,
	}, nil
}

// ValidateConfig checks the settings and, when the configuration carries a
// CA, the CA itself (see loadCA).
func (i *issuer) ValidateConfig(ctx context.Context, req plugin.ValidateConfigRequest) error {
	cfg := req.Config
	if err := ctx.Err(); err != nil {
		return err
	}
	s, err := readSettings(cfg)
	if err != nil {
		return err
	}
	if !s.hasCA() {
		return s.checkGeneration()
	}
	_, err = loadCA(s, i.now(), i.keys)
	return err
}

// Provision generates the CA when the configuration has none, and
// otherwise checks the one given and returns the configuration unchanged:
// a configured CA is never replaced.
func (i *issuer) Provision(ctx context.Context, req plugin.ProvisionRequest) (plugin.ProvisionResult, error) {
	cfg := req.Config
	if err := ctx.Err(); err != nil {
		return plugin.ProvisionResult{}, err
	}
	s, err := readSettings(cfg)
	if err != nil {
		return plugin.ProvisionResult{}, err
	}
	if s.hasCA() {
		if _, err := loadCA(s, i.now(), i.keys); err != nil {
			return plugin.ProvisionResult{}, err
		}
		return plugin.ProvisionResult{Config: cfg}, nil
	}
	if err := s.checkGeneration(); err != nil {
		return plugin.ProvisionResult{}, err
	}
	now := i.now()
	certPEM, keyPEM, err := generateCA(ctx, s, now)
	if err != nil {
		return plugin.ProvisionResult{}, err
	}
	out := cfg.Clone()
	out[fieldCACert] = certPEM
	out[fieldCAKey] = keyPEM
	i.log.Info("generated local CA", "common_name", s.commonName, "key_type", s.caKeyType,
		"not_after", now.Add(s.caValidity).UTC().Format(time.RFC3339))
	return plugin.ProvisionResult{Config: out}, nil
}

func (i *issuer) IssueCertificate(ctx context.Context, req plugin.IssueRequest) (plugin.IssueResult, error) {
	if err := ctx.Err(); err != nil {
		return plugin.IssueResult{}, err
	}
	s, err := readSettings(req.Config)
	if err != nil {
		return plugin.IssueResult{}, err
	}
	now := i.now()
	if !req.Now.IsZero() {
		now = req.Now // the host's clock: certctl's schedule and the CA agree on time
	}
	ca, err := loadCA(s, now, i.keys)
	if err != nil {
		return plugin.IssueResult{}, err
	}
	if ca == nil {
		return plugin.IssueResult{}, plugin.InvalidConfig(fieldCACert, "issuer not provisioned: the configuration has no CA")
	}
	leaf, err := i.sign(ctx, ca, s, req, now)
	if err != nil {
		return plugin.IssueResult{}, err
	}
	return plugin.IssueResult{Status: plugin.StatusIssued, CertificatePEM: leaf, ChainPEM: ca.chainPEM()}, nil
}

// RenewCertificate issues anew: the local CA has no renewal of its own.
func (i *issuer) RenewCertificate(ctx context.Context, req plugin.RenewRequest) (plugin.IssueResult, error) {
	return i.IssueCertificate(ctx, req.IssueRequest)
}

// RevokeCertificate only checks the request: the host records revocations
// and has them signed into CRLs with SignCRL.
func (i *issuer) RevokeCertificate(ctx context.Context, req plugin.RevokeRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := parseSerial(req.SerialNumber); err != nil {
		return err
	}
	return checkReason(req.Reason)
}

// GetOrderStatus always fails: the local CA issues synchronously, so there
// are no orders.
func (i *issuer) GetOrderStatus(_ context.Context, req plugin.OrderStatusRequest) (plugin.IssueResult, error) {
	orderID := req.OrderID
	return plugin.IssueResult{}, plugin.Errorf(plugin.CodeNotFound,
		"no order %q: the local CA issues synchronously and keeps no orders", orderID)
}

func (i *issuer) SignCRL(ctx context.Context, req plugin.CRLRequest) (plugin.CRLResult, error) {
	if err := ctx.Err(); err != nil {
		return plugin.CRLResult{}, err
	}
	s, err := readSettings(req.Config)
	if err != nil {
		return plugin.CRLResult{}, err
	}
	now := i.now()
	ca, err := loadCA(s, now, i.keys)
	if err != nil {
		return plugin.CRLResult{}, err
	}
	if ca == nil {
		return plugin.CRLResult{}, plugin.InvalidConfig(fieldCACert, "issuer not provisioned: the configuration has no CA")
	}
	der, err := signCRL(ca, req, now)
	return plugin.CRLResult{DER: der}, err
}

// settings is a configuration read into typed values, defaults applied.
type settings struct {
	caCertPEM, caKeyPEM, caChainPEM string

	commonName, organization, caKeyType string
	caValidity, validity, maxValidity   time.Duration

	crlURL         string
	allowedDomains []string // lower case
}

func (s settings) hasCA() bool { return s.caCertPEM != "" || s.caKeyPEM != "" }

// readSettings normalizes cfg with the schema (the host has normally done
// so already; doing it again fills in defaults for callers that did not)
// and checks the values that do not involve the CA.
func readSettings(cfg plugin.Config) (settings, error) {
	n, err := schema.Normalize(cfg)
	if err != nil {
		return settings{}, err
	}
	s := settings{
		caCertPEM:    strings.TrimSpace(n.String(fieldCACert)),
		caKeyPEM:     strings.TrimSpace(n.String(fieldCAKey)),
		caChainPEM:   strings.TrimSpace(n.String(fieldCAChain)),
		commonName:   strings.TrimSpace(n.String(fieldCommonName)),
		organization: strings.TrimSpace(n.String(fieldOrganization)),
		caKeyType:    n.String(fieldCAKeyType),
		caValidity:   n.Duration(fieldCAValidity),
		validity:     n.Duration(fieldValidity),
		maxValidity:  n.Duration(fieldMaxValidity),
		crlURL:       strings.TrimSpace(n.String(fieldCRLURL)),
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{fieldCAValidity, s.caValidity}, {fieldValidity, s.validity}, {fieldMaxValidity, s.maxValidity}} {
		if f.d <= 0 {
			return settings{}, plugin.InvalidConfig(f.name, "must be longer than zero")
		}
	}
	if s.validity > s.maxValidity {
		return settings{}, plugin.InvalidConfig(fieldValidity, "%s is longer than max_validity (%s)",
			n.String(fieldValidity), n.String(fieldMaxValidity))
	}
	if s.crlURL != "" {
		u, err := url.Parse(s.crlURL)
		if err != nil || !slices.Contains([]string{"http", "https", "ldap"}, u.Scheme) || u.Host == "" ||
			!isASCIIPrintable(s.crlURL) {
			return settings{}, plugin.InvalidConfig(fieldCRLURL, "must be an absolute http, https or ldap URL")
		}
	}
	for _, d := range n.Strings(fieldAllowedDomains) {
		d = strings.ToLower(strings.TrimSpace(d))
		if !validDNSName(d, false) {
			return settings{}, plugin.InvalidConfig(fieldAllowedDomains,
				"%q is not a domain name (write example.com: its subdomains are always allowed)", d)
		}
		s.allowedDomains = append(s.allowedDomains, d)
	}
	if !s.hasCA() && s.caChainPEM != "" {
		return settings{}, plugin.InvalidConfig(fieldCACert, "is required when ca_chain_pem is set")
	}
	return s, nil
}

// checkGeneration checks the settings Provision generates a CA from.
func (s settings) checkGeneration() error {
	if s.commonName == "" {
		return plugin.InvalidConfig(fieldCommonName, "must not be empty: it names the CA to generate")
	}
	return nil
}
