package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
	"golang.org/x/crypto/acme"
)

// issuer is the ACME issuer. It keeps no state between calls: the account
// is in the configuration and an order's state in its OrderID.
type issuer struct {
	log *slog.Logger
	now func() time.Time
}

func newIssuer() *issuer { return &issuer{log: plugin.Logger(), now: time.Now} }

var _ plugin.Issuer = (*issuer)(nil)

func (i *issuer) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{
		Name:    "acme",
		Kind:    plugin.KindIssuer,
		Version: "1.0.0",
		Description: "Certificates from an ACME CA (Let's Encrypt, ZeroSSL, Google Trust Services, step-ca...): " +
			"account with external account binding, HTTP-01 challenges presented by certctl's agent or server, " +
			"DNS-01 through RFC 2136, a hook or a DNS provider, profiles, alternate chains, renewal information (ARI) " +
			"and revocation. Orders survive restarts: their state is in the OrderID.",
		Schema: schema(),
	}, nil
}

func (i *issuer) ValidateConfig(ctx context.Context, req plugin.ValidateConfigRequest) error {
	cfg := req.Config
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := schema().Normalize(cfg); err != nil {
		return err
	}
	_, err := loadSettings(cfg)
	return err
}

// Provision registers the account, or finds it when the key is already
// registered, and returns the configuration with the key and the
// account's URL. A key is generated only when there is none, so calling
// it again changes nothing.
func (i *issuer) Provision(ctx context.Context, req plugin.ProvisionRequest) (plugin.ProvisionResult, error) {
	cfg := req.Config
	s, err := loadSettings(cfg)
	if err != nil {
		return plugin.ProvisionResult{}, err
	}
	out := cfg.Clone()
	if s.accountKey == nil {
		if s.accountKey, s.accountKeyPEM, err = newAccountKey(ctx); err != nil {
			return plugin.ProvisionResult{}, err
		}
		out[fieldAccountKey] = s.accountKeyPEM
		s.accountURL = ""
	}
	c, err := dial(ctx, s)
	if err != nil {
		return plugin.ProvisionResult{}, err
	}
	if c.dir.Meta.TermsOfService != "" && !s.agreeTOS {
		return plugin.ProvisionResult{}, plugin.InvalidConfig(fieldAgreeTOS, "the CA at %s asks to agree to its terms of service (%s): read them and set %s to true",
			s.directoryURL, c.dir.Meta.TermsOfService, fieldAgreeTOS)
	}
	if c.dir.Meta.ExternalAccountRequired && s.eabKeyID == "" {
		return plugin.ProvisionResult{}, plugin.InvalidConfig(fieldEABKeyID, "the CA at %s requires external account binding: set %s and %s from your account at the CA",
			s.directoryURL, fieldEABKeyID, fieldEABHMACKey)
	}
	if s.profile != "" {
		if err := c.checkProfile(s.profile, fieldProfile); err != nil {
			return plugin.ProvisionResult{}, err
		}
	}
	acct := &acme.Account{}
	if s.email != "" {
		acct.Contact = []string{"mailto:" + s.email}
	}
	if s.eabKeyID != "" {
		acct.ExternalAccountBinding = &acme.ExternalAccountBinding{KID: s.eabKeyID, Key: s.eabHMAC}
	}
	c.acme.KID = "" // register with the key itself: the CA answers with the account's URL
	a, err := c.acme.Register(ctx, acct, func(string) bool { return s.agreeTOS })
	switch {
	case errors.Is(err, acme.ErrAccountAlreadyExists):
		// The key is registered: the client learnt the account's URL.
		out[fieldAccountURL] = string(c.acme.KID)
		if s.email != "" {
			if _, err := c.acme.UpdateReg(ctx, acct); err != nil {
				return plugin.ProvisionResult{}, registrationError(err, "update the ACME account's contact")
			}
		}
	case err != nil:
		return plugin.ProvisionResult{}, registrationError(err, "register the ACME account at "+s.directoryURL)
	default:
		out[fieldAccountURL] = a.URI
		i.log.Info("registered ACME account", "directory", s.directoryURL, "account", a.URI)
	}
	return plugin.ProvisionResult{Config: out}, nil
}

// registrationError classifies a refused registration: refusals about the
// binding name its fields.
func registrationError(err error, what string) error {
	var ae *acme.Error
	if errors.As(err, &ae) {
		t := problemType(ae)
		if (t == "unauthorized" || t == "malformed") && strings.Contains(strings.ToLower(ae.Detail), "external account") {
			return plugin.InvalidConfig(fieldEABHMACKey, "%s: the CA refused the external account binding: %s: check %s and %s",
				what, describeProblem(ae), fieldEABKeyID, fieldEABHMACKey)
		}
	}
	return classify(err, what)
}

func (i *issuer) IssueCertificate(ctx context.Context, req plugin.IssueRequest) (plugin.IssueResult, error) {
	return i.issue(ctx, req, "")
}

func (i *issuer) RenewCertificate(ctx context.Context, req plugin.RenewRequest) (plugin.IssueResult, error) {
	return i.issue(ctx, req.IssueRequest, req.PreviousCertificatePEM)
}

// GetOrderStatus reads an order without changing it: issued with the
// certificate when the CA has issued it, else pending.
func (i *issuer) GetOrderStatus(ctx context.Context, req plugin.OrderStatusRequest) (plugin.IssueResult, error) {
	cfg := req.Config
	orderID := req.OrderID
	s, err := accountSettings(cfg)
	if err != nil {
		return plugin.IssueResult{}, err
	}
	st, err := parseOrderID(orderID, s.directoryURL)
	if err != nil {
		return plugin.IssueResult{}, err
	}
	c, err := dial(ctx, s)
	if err != nil {
		return plugin.IssueResult{}, err
	}
	o, retryAfter, err := c.getOrder(ctx, st.url)
	if err != nil {
		return plugin.IssueResult{}, err
	}
	switch o.Status {
	case acme.StatusValid:
		return c.certificate(ctx, i.log, o)
	case acme.StatusInvalid:
		return plugin.IssueResult{}, c.invalidOrder(ctx, o)
	}
	return plugin.IssueResult{Status: plugin.StatusPending, OrderID: orderID, RetryAfter: max(time.Second, retryAfter)}, nil
}

// orderFetchError classifies a failure to read an order: one the CA does
// not know is not_found.
func orderFetchError(err error, url string) error {
	var ae *acme.Error
	if errors.As(err, &ae) && (ae.StatusCode == 404 || problemType(ae) == "malformed" && ae.StatusCode == 400) {
		return plugin.Errorf(plugin.CodeNotFound, "order %s: the CA does not know it: %s", url, describeProblem(ae))
	}
	return classify(err, "read order "+url)
}

// RevokeCertificate revokes through the CA with the account's key. A
// certificate already revoked counts as revoked.
func (i *issuer) RevokeCertificate(ctx context.Context, req plugin.RevokeRequest) error {
	serial, ok := new(big.Int).SetString(strings.TrimPrefix(strings.ToLower(req.SerialNumber), "0x"), 16)
	if !ok {
		return plugin.Errorf(plugin.CodeInvalidInput, "serial number %q is not hexadecimal", req.SerialNumber)
	}
	if !plugin.ValidReason(req.Reason) {
		return plugin.Errorf(plugin.CodeInvalidInput, "revocation reason %d is not an RFC 5280 reason code", req.Reason)
	}
	s, err := accountSettings(req.Config)
	if err != nil {
		return err
	}
	block, _ := pem.Decode([]byte(req.CertificatePEM))
	if block == nil || block.Type != "CERTIFICATE" {
		return plugin.Errorf(plugin.CodeInvalidInput, "an ACME CA revokes a certificate it is sent: the request has no certificate PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return plugin.Errorf(plugin.CodeInvalidInput, "the certificate to revoke does not parse: %v", err)
	}
	if cert.SerialNumber.Cmp(serial) != 0 {
		return plugin.Errorf(plugin.CodeInvalidInput, "the certificate's serial is %s, not %s", cert.SerialNumber.Text(16), req.SerialNumber)
	}
	c, err := dial(ctx, s)
	if err != nil {
		return err
	}
	if err := c.acme.RevokeCert(ctx, nil, block.Bytes, acme.CRLReasonCode(req.Reason)); err != nil {
		var ae *acme.Error
		if errors.As(err, &ae) && problemType(ae) == "alreadyRevoked" {
			return nil
		}
		if errors.As(err, &ae) && problemType(ae) == "badRevocationReason" {
			return plugin.Errorf(plugin.CodeInvalidInput, "revoke certificate %s: the CA refuses reason %d: %s",
				req.SerialNumber, req.Reason, describeProblem(ae))
		}
		return classify(err, "revoke certificate "+req.SerialNumber)
	}
	i.log.Info("revoked certificate", "serial", cert.SerialNumber.Text(16), "reason", req.Reason)
	return nil
}

// SignCRL: an ACME CA publishes its own revocation information.
func (i *issuer) SignCRL(context.Context, plugin.CRLRequest) (plugin.CRLResult, error) {
	return plugin.CRLResult{}, plugin.Errorf(plugin.CodeUnimplemented, "an ACME CA publishes its own CRLs")
}

// accountSettings reads cfg for a call that needs the account.
func accountSettings(cfg plugin.Config) (*settings, error) {
	s, err := loadSettings(cfg)
	if err != nil {
		return nil, err
	}
	if s.accountKey == nil {
		return nil, plugin.InvalidConfig(fieldAccountKey, "the issuer has no ACME account yet: create or update it so that one is registered")
	}
	return s, nil
}

// identifiers returns the ACME identifiers for the declared names: DNS
// names (wildcards included) and IP addresses, lower-cased, each once.
func identifiers(cn string, sans []string, challenge string) ([]acme.AuthzID, error) {
	var out []acme.AuthzID
	for _, n := range append([]string{cn}, sans...) {
		n = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(n)), ".")
		if n == "" {
			continue
		}
		id := acme.AuthzID{Type: "dns", Value: n}
		if ip, err := netip.ParseAddr(n); err == nil {
			if challenge == challengeDNS01 {
				return nil, plugin.Errorf(plugin.CodeInvalidInput, "%s is an IP address: DNS-01 cannot prove control of it, use %s http-01", n, fieldChallenge)
			}
			id = acme.AuthzID{Type: "ip", Value: ip.Unmap().String()}
		} else if strings.ContainsAny(n, "@/:") {
			return nil, plugin.Errorf(plugin.CodeInvalidInput, "%q: an ACME CA certifies DNS names and IP addresses only", n)
		} else if strings.HasPrefix(n, "*.") && challenge != challengeDNS01 {
			return nil, plugin.Errorf(plugin.CodeInvalidInput, "%s: a wildcard name is validated by DNS-01 only: set %s to dns-01", n, fieldChallenge)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return nil, plugin.Errorf(plugin.CodeInvalidInput, "no name to certify: the request has no common name and no SAN")
	}
	return out, nil
}

// parseCSR checks that req carries a CSR.
func parseCSR(der []byte) (*x509.CertificateRequest, error) {
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, plugin.Errorf(plugin.CodeInvalidInput, "the CSR does not parse: %v", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, plugin.Errorf(plugin.CodeInvalidInput, "the CSR's signature does not verify: %v", err)
	}
	return csr, nil
}

// orderState is what an OrderID carries: the order's URL, and when the
// DNS-01 records were presented (zero: not presented, or removed).
type orderState struct {
	url       string
	presented time.Time
}

// The OrderID is the order's URL, with the time the DNS-01 records were
// published as a fragment ("#dns01-presented=<unix seconds>") while they
// are: readable, and all a new plugin process needs to resume the order.
const presentedParam = "dns01-presented="

func (st orderState) id() string {
	if st.presented.IsZero() {
		return st.url
	}
	return fmt.Sprintf("%s#%s%d", st.url, presentedParam, st.presented.Unix())
}

// parseOrderID reads an OrderID; one that is not an order of this
// directory's CA is not_found.
func parseOrderID(id, directoryURL string) (orderState, error) {
	u, frag, _ := strings.Cut(id, "#")
	st := orderState{url: u}
	if !sameOrigin(u, directoryURL) {
		return st, plugin.Errorf(plugin.CodeNotFound, "order %q is not an order of the CA at %s", id, directoryURL)
	}
	if v, ok := strings.CutPrefix(frag, presentedParam); ok {
		var secs int64
		if _, err := fmt.Sscanf(v, "%d", &secs); err != nil || secs <= 0 {
			return st, plugin.Errorf(plugin.CodeNotFound, "order %q: bad state %q", id, frag)
		}
		st.presented = time.Unix(secs, 0)
	} else if frag != "" {
		return st, plugin.Errorf(plugin.CodeNotFound, "order %q: bad state %q", id, frag)
	}
	return st, nil
}
