// This file holds the issuer checks: provisioning, issuing for each key
// type, renewing, refusing bad requests, and signing CRLs.

package plugintest

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/sdk/keys"
	"github.com/certctl/certctl/sdk/plugin"
)

// IssuerCases say what to ask of an issuer plugin.
type IssuerCases struct {
	// Provision runs Provision on ValidConfig first, as a host does when an
	// issuer is created, and uses its result for every operation.
	Provision bool
	// KeyTypes are the key types the issuer must sign CSRs for, each in
	// its own subtest: names from KeyTypes. Empty means ecdsa-p256.
	KeyTypes []string
	// CommonName and SANs (DNS names, IP addresses, e-mail addresses,
	// URIs) are requested; the defaults are plugintest.example.com and
	// www.plugintest.example.com.
	CommonName string
	SANs       []string
	// Profile is passed in every IssueRequest. Leave it empty to test
	// what certctl's server sends for a certificate that names no profile.
	Profile string
	// Roots verify issued chains; nil means the last certificate of the
	// returned chain is trusted (set Roots for a CA whose chain stops
	// below its root).
	Roots *x509.CertPool
	// Verify, if set, checks each issued certificate further.
	Verify func(cert *x509.Certificate, chain []*x509.Certificate) error
}

// KeyTypes are the key types certctl names (a managed certificate's key_type).
var KeyTypes = keys.Types

func (s *Session) issuerCases() IssuerCases {
	c := IssuerCases{}
	if s.Options.Issuer != nil {
		c = *s.Options.Issuer
	}
	if len(c.KeyTypes) == 0 {
		c.KeyTypes = []string{"ecdsa-p256"}
	}
	if c.CommonName == "" && len(c.SANs) == 0 {
		c.CommonName, c.SANs = "plugintest.example.com", []string{"www.plugintest.example.com"}
	}
	return c
}

func (s *Session) issuerChecks() []Check {
	c := s.issuerCases()
	var checks []Check
	if c.Provision {
		checks = append(checks, Check{"provision", func(ctx context.Context) error {
			_, err := s.issuerConfig(ctx)
			return err
		}}, Check{"provision_again", s.checkProvisionAgain})
	}
	for _, kt := range c.KeyTypes {
		checks = append(checks, Check{"issue/" + kt, func(ctx context.Context) error {
			_, err := s.issue(ctx, kt, nil)
			return err
		}})
	}
	return append(checks,
		Check{"renew", s.checkRenew},
		Check{"garbage_csr", s.checkGarbageCSR},
		Check{"unknown_order", s.checkUnknownOrder},
		Check{"sign_crl", s.checkSignCRL},
		Check{"revoke_bad_serial", s.checkRevokeBadSerial},
	)
}

// issuerConfig returns the configuration for issuer operations: ValidConfig
// normalised, or provisioned (once) when the cases ask for it. What
// Provision returns must still fit the schema and pass ValidateConfig.
func (s *Session) issuerConfig(ctx context.Context) (plugin.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.issuerCfgSet {
		s.issuerCfg, s.issuerCfgErr = s.provision(ctx)
		s.issuerCfgSet = true
	}
	if s.issuerCfgErr != nil {
		return nil, s.issuerCfgErr
	}
	return s.issuerCfg.Clone(), nil
}

func (s *Session) provision(ctx context.Context) (plugin.Config, error) {
	cfg, err := s.validConfig()
	if err != nil || !s.issuerCases().Provision {
		return cfg, err
	}
	out, err := s.Process.Issuer().Provision(ctx, plugin.ProvisionRequest{Config: cfg})
	if err != nil {
		return nil, fmt.Errorf("Provision: %w", err)
	}
	norm, err := s.Info.Schema.Normalize(out.Config)
	if err != nil {
		return nil, fmt.Errorf("Provision returned a configuration its schema refuses: %w", err)
	}
	if err := s.Process.Issuer().ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: norm}); err != nil {
		return nil, fmt.Errorf("ValidateConfig refused the configuration Provision returned: %w", err)
	}
	return norm, nil
}

// checkProvisionAgain calls Provision on the configuration it made: a
// host does so on every update of the issuer, and what the first call
// made (a CA, an account) must survive it unchanged.
func (s *Session) checkProvisionAgain(ctx context.Context) error {
	cfg, err := s.issuerConfig(ctx)
	if err != nil {
		return err
	}
	out, err := s.Process.Issuer().Provision(ctx, plugin.ProvisionRequest{Config: cfg})
	if err != nil {
		return fmt.Errorf("Provision of a configuration it provisioned (hosts do so on every update): %w", err)
	}
	norm, err := s.Info.Schema.Normalize(out.Config)
	if err != nil {
		return fmt.Errorf("Provision of a configuration it provisioned returned one its schema refuses: %w", err)
	}
	var changed []string // names only: values may be secrets
	for _, f := range s.Info.Schema.Fields {
		if !reflect.DeepEqual(norm[f.Name], cfg[f.Name]) {
			changed = append(changed, f.Name)
		}
	}
	if len(changed) > 0 {
		return fmt.Errorf("Provision of a configuration it provisioned changed %s: hosts call Provision again on "+
			"every update, which must keep what the first call made", strings.Join(changed, ", "))
	}
	return nil
}

// issued is a certificate an issuer returned.
type issued struct {
	leaf  *x509.Certificate
	pem   string
	chain []*x509.Certificate
}

// issue requests a certificate for a fresh key of keyType and checks it:
// it parses, certifies the CSR's key and exactly the requested names, is
// no CA, and verifies against its chain for server authentication. With
// prev it renews prev instead.
func (s *Session) issue(ctx context.Context, keyType string, prev *issued) (*issued, error) {
	cfg, err := s.issuerConfig(ctx)
	if err != nil {
		return nil, err
	}
	c := s.issuerCases()
	key, err := keys.Generate(keyType)
	if err != nil {
		return nil, err
	}
	csr, err := keys.CSR(c.CommonName, c.SANs, key) // the common name is among the CSR's names, as hosts send it
	if err != nil {
		return nil, fmt.Errorf("create CSR: %w", err)
	}
	req := plugin.IssueRequest{Config: cfg, CSR: csr, CommonName: c.CommonName, SANs: c.SANs, Profile: c.Profile,
		IdempotencyKey: fmt.Sprintf("plugintest-%s-%d", keyType, time.Now().UnixNano())}
	iss := s.Process.Issuer()
	var res plugin.IssueResult
	what := "IssueCertificate"
	if prev != nil {
		what = "RenewCertificate"
		res, err = iss.RenewCertificate(ctx, plugin.RenewRequest{IssueRequest: req,
			PreviousSerial: prev.leaf.SerialNumber.Text(16), PreviousCertificatePEM: prev.pem})
		if plugin.ErrorCode(err) == plugin.CodeUnimplemented {
			// As certctl's server does: a CA without a renewal operation
			// of its own renews by issuing anew.
			what = "IssueCertificate (RenewCertificate is unimplemented)"
			res, err = iss.IssueCertificate(ctx, req)
		}
	} else {
		res, err = iss.IssueCertificate(ctx, req)
	}
	if err != nil {
		return nil, fmt.Errorf("%s (%s key): %w", what, keyType, err)
	}
	if res, err = s.awaitOrder(ctx, cfg, res); err != nil {
		return nil, fmt.Errorf("%s (%s key): %w", what, keyType, err)
	}
	out, err := checkIssued(res, key.Public(), c)
	s.mu.Lock()
	if s.issued == nil && out != nil {
		s.issued = out
	}
	s.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("%s (%s key): %w", what, keyType, err)
	}
	return out, nil
}

// awaitOrder follows a pending order with GetOrderStatus until it is issued.
func (s *Session) awaitOrder(ctx context.Context, cfg plugin.Config, res plugin.IssueResult) (plugin.IssueResult, error) {
	for res.Status == plugin.StatusPending {
		if res.OrderID == "" {
			return res, errors.New("a pending result has no OrderID")
		}
		wait := min(max(res.RetryAfter, 100*time.Millisecond), 10*time.Second)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return res, fmt.Errorf("order %s still pending: %w", res.OrderID, ctx.Err())
		}
		var err error
		if res, err = s.Process.Issuer().GetOrderStatus(ctx, plugin.OrderStatusRequest{Config: cfg, OrderID: res.OrderID}); err != nil {
			return res, fmt.Errorf("GetOrderStatus: %w", err)
		}
	}
	if res.Status != plugin.StatusIssued {
		return res, fmt.Errorf("Status is %q, want %q or %q", res.Status, plugin.StatusIssued, plugin.StatusPending)
	}
	return res, nil
}

// checkIssued checks an issued certificate against the request. It
// returns the certificate whenever it and its chain parse, even if a
// check fails, so that the CRL check can still use its chain.
func checkIssued(res plugin.IssueResult, pub crypto.PublicKey, c IssuerCases) (*issued, error) {
	leaves, err := keys.ParseCertificates(res.CertificatePEM)
	if err != nil {
		return nil, fmt.Errorf("CertificatePEM: %w", err)
	}
	if len(leaves) != 1 {
		return nil, fmt.Errorf("CertificatePEM holds %d certificates, want the leaf alone (the rest goes in ChainPEM)", len(leaves))
	}
	leaf := leaves[0]
	var chain []*x509.Certificate
	if strings.TrimSpace(res.ChainPEM) != "" {
		if chain, err = keys.ParseCertificates(res.ChainPEM); err != nil {
			return nil, fmt.Errorf("ChainPEM: %w", err)
		}
	}
	out := &issued{leaf: leaf, pem: res.CertificatePEM, chain: chain}
	if k, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(pub) {
		return out, errors.New("the certificate's public key is not the CSR's: an issuer must certify the key it was sent")
	}
	if leaf.IsCA {
		return out, errors.New("the certificate is a CA certificate")
	}
	if err := checkNames(leaf, c.CommonName, c.SANs); err != nil {
		return out, err
	}
	roots, intermediates := c.Roots, x509.NewCertPool()
	for i, cert := range chain {
		if roots == nil && i == len(chain)-1 {
			roots = x509.NewCertPool()
			roots.AddCert(cert)
		} else {
			intermediates.AddCert(cert)
		}
	}
	if roots == nil {
		return out, errors.New("ChainPEM is empty: set IssuerCases.Roots to verify certificates of a CA that sends no chain")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return out, fmt.Errorf("the certificate does not verify against its chain for server authentication: %w", err)
	}
	if c.Verify != nil {
		if err := c.Verify(leaf, chain); err != nil {
			return out, fmt.Errorf("Verify: %w", err)
		}
	}
	return out, nil
}

// sanSet sorts names by kind, as "dns:", "ip:", "email:" and "uri:"
// entries; DNS names and e-mail addresses compare case-insensitively.
func sanSet(names []string) []string {
	var out []string
	for _, n := range names {
		switch {
		case n == "":
			continue
		case isIP(n):
			out = append(out, "ip:"+netip.MustParseAddr(n).Unmap().String())
		case strings.Contains(n, "://"):
			out = append(out, "uri:"+n)
		case strings.Contains(n, "@"):
			out = append(out, "email:"+strings.ToLower(n))
		default:
			out = append(out, "dns:"+strings.ToLower(n))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// checkNames checks that the certificate's SANs are exactly the requested
// ones, the common name included.
func checkNames(leaf *x509.Certificate, cn string, sans []string) error {
	want := sanSet(append([]string{cn}, sans...))
	var gotNames []string
	gotNames = append(gotNames, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		gotNames = append(gotNames, ip.String())
	}
	gotNames = append(gotNames, leaf.EmailAddresses...)
	for _, u := range leaf.URIs {
		gotNames = append(gotNames, u.String())
	}
	if got := sanSet(gotNames); !slices.Equal(got, want) {
		return fmt.Errorf("the certificate's SANs are %v, want %v (the common name and the requested SANs)", got, want)
	}
	return nil
}

// checkRenew renews the first certificate issued with a fresh key.
func (s *Session) checkRenew(ctx context.Context) error {
	prev, err := s.firstIssued(ctx)
	if err != nil {
		return err
	}
	_, err = s.issue(ctx, s.issuerCases().KeyTypes[0], prev)
	return err
}

// firstIssued returns the first certificate the checks got from the
// issuer (even one that failed its checks), issuing one if there is none.
func (s *Session) firstIssued(ctx context.Context) (*issued, error) {
	s.mu.Lock()
	out := s.issued
	s.mu.Unlock()
	if out != nil {
		return out, nil
	}
	_, err := s.issue(ctx, s.issuerCases().KeyTypes[0], nil)
	s.mu.Lock()
	out = s.issued
	s.mu.Unlock()
	if out == nil {
		return nil, err
	}
	return out, nil
}

// checkGarbageCSR sends bytes that are no CSR: CodeInvalidInput, no crash.
func (s *Session) checkGarbageCSR(ctx context.Context) error {
	cfg, err := s.issuerConfig(ctx)
	if err != nil {
		return err
	}
	c := s.issuerCases()
	_, err = s.Process.Issuer().IssueCertificate(ctx, plugin.IssueRequest{Config: cfg, CSR: []byte("this is not a CSR \x00\xff"),
		CommonName: c.CommonName, SANs: c.SANs, Profile: c.Profile})
	return s.callFailed("IssueCertificate with garbage for a CSR", err, plugin.CodeInvalidInput)
}

// checkUnknownOrder asks for an order that was never placed: an error of
// any code, no crash.
func (s *Session) checkUnknownOrder(ctx context.Context) error {
	cfg, err := s.issuerConfig(ctx)
	if err != nil {
		return err
	}
	_, err = s.Process.Issuer().GetOrderStatus(ctx, plugin.OrderStatusRequest{Config: cfg, OrderID: "plugintest-no-such-order"})
	return s.callFailed("GetOrderStatus of an unknown order", err, "")
}

// checkRevokeBadSerial revokes a serial that is not hexadecimal: an error
// of any code, no crash.
func (s *Session) checkRevokeBadSerial(ctx context.Context) error {
	cfg, err := s.issuerConfig(ctx)
	if err != nil {
		return err
	}
	err = s.Process.Issuer().RevokeCertificate(ctx, plugin.RevokeRequest{Config: cfg, SerialNumber: "not-hex!",
		Reason: plugin.ReasonKeyCompromise})
	return s.callFailed("RevokeCertificate of serial \"not-hex!\"", err, "")
}

// checkSignCRL asks for a CRL revoking the first certificate issued: it
// must parse, carry the number and the entry asked for, and be signed by
// the certificate's issuer from the chain. CodeUnimplemented passes.
func (s *Session) checkSignCRL(ctx context.Context) error {
	cfg, err := s.issuerConfig(ctx)
	if err != nil {
		return err
	}
	cert, err := s.firstIssued(ctx)
	if err != nil {
		return err
	}
	now := time.Now().Truncate(time.Second)
	signed, err := s.Process.Issuer().SignCRL(ctx, plugin.CRLRequest{Config: cfg, Number: 1, ThisUpdate: now.Add(-time.Minute),
		NextUpdate: now.Add(24 * time.Hour), Revoked: []plugin.RevokedCertificate{{
			SerialNumber: cert.leaf.SerialNumber.Text(16), RevokedAt: now.Add(-time.Minute), Reason: plugin.ReasonKeyCompromise}}})
	der := signed.DER
	if plugin.ErrorCode(err) == plugin.CodeUnimplemented {
		return nil
	}
	if err != nil {
		return fmt.Errorf("SignCRL: %w (return code %s if the issuer does not sign CRLs)", err, plugin.CodeUnimplemented)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return fmt.Errorf("SignCRL returned no DER CRL: %w", err)
	}
	var ca *x509.Certificate
	for _, c := range cert.chain {
		if cert.leaf.CheckSignatureFrom(c) == nil {
			ca = c
			break
		}
	}
	if ca == nil {
		return errors.New("no certificate of the chain signed the issued certificate, so none can have signed the CRL")
	}
	if err := crl.CheckSignatureFrom(ca); err != nil {
		return fmt.Errorf("the CRL is not signed by the CA (%s): %w", ca.Subject, err)
	}
	if crl.Number == nil || crl.Number.Cmp(big.NewInt(1)) != 0 {
		return fmt.Errorf("the CRL number is %v, want 1", crl.Number)
	}
	if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(cert.leaf.SerialNumber) != 0 {
		return fmt.Errorf("the CRL has %d entries, want one for serial %s", len(crl.RevokedCertificateEntries),
			cert.leaf.SerialNumber.Text(16))
	}
	return nil
}
