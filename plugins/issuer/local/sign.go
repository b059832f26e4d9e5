// This file issues certificates: it checks a CSR, reads the requested
// names, applies the name policy and profile, works out the validity and
// signs the leaf with the CA. It is the whole signing path, kept in one
// place so that it can be read and audited at once.

package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

// maxCommonNameLen is the upper bound RFC 5280 sets on a common name.
const maxCommonNameLen = 64

// sign issues a certificate for req and returns it as PEM.
func (i *issuer) sign(ctx context.Context, ca *ca, s settings, req plugin.IssueRequest, now time.Time) (string, error) {
	extKeyUsage, err := profileExtKeyUsage(req.Profile)
	if err != nil {
		return "", err
	}
	csr, err := x509.ParseCertificateRequest(req.CSR)
	if err != nil {
		return "", plugin.Errorf(plugin.CodeInvalidInput, "CSR does not parse: %v", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return "", plugin.Errorf(plugin.CodeInvalidInput, "CSR signature does not verify: %v", err)
	}
	if _, err := leafKeyType(csr.PublicKey); err != nil {
		return "", plugin.Errorf(plugin.CodeInvalidInput, "CSR key: %v", err)
	}
	n, err := parseNames(req.CommonName, req.SANs, req.Profile != "client")
	if err != nil {
		return "", plugin.Errorf(plugin.CodeInvalidInput, "%v", err)
	}
	if err := n.checkPolicy(req.CommonName, s.allowedDomains); err != nil {
		return "", plugin.Errorf(plugin.CodeInvalidInput, "%v", err)
	}
	notBefore, notAfter := validityPeriod(now, s, ca)
	if notAfter.Equal(ca.notAfter()) {
		i.log.Warn("certificate lifetime shortened to the CA's", "common_name", req.CommonName,
			"not_after", notAfter.UTC().Format(time.RFC3339))
	}

	serial, err := randomSerial()
	if err != nil {
		return "", err
	}
	ski, err := subjectKeyID(csr.PublicKey)
	if err != nil {
		return "", plugin.Errorf(plugin.CodeInvalidInput, "CSR key: %v", err)
	}
	keyUsage := x509.KeyUsageDigitalSignature
	if _, ok := csr.PublicKey.(*rsa.PublicKey); ok {
		keyUsage |= x509.KeyUsageKeyEncipherment
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: req.CommonName},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              keyUsage,
		ExtKeyUsage:           extKeyUsage,
		BasicConstraintsValid: true,
		IsCA:                  false,
		SubjectKeyId:          ski,
		DNSNames:              n.dns,
		IPAddresses:           n.ips,
		EmailAddresses:        n.emails,
		URIs:                  n.uris,
	}
	if s.crlURL != "" {
		tmpl.CRLDistributionPoints = []string{s.crlURL}
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	// The authority key identifier comes from the CA certificate's subject
	// key identifier, which loadCA made sure exists.
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, csr.PublicKey, ca.key)
	if err != nil {
		return "", plugin.Errorf(plugin.CodePermanent, "sign certificate: %v", err)
	}
	if _, err := x509.ParseCertificate(der); err != nil {
		return "", plugin.Errorf(plugin.CodePermanent, "the signed certificate does not parse: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}

// profileExtKeyUsage maps a certificate profile to its extended key
// usages: "" and "server" are for TLS servers, which often act as clients
// too (mTLS between services); "client" is for TLS clients only.
func profileExtKeyUsage(profile string) ([]x509.ExtKeyUsage, error) {
	switch profile {
	case "", "server":
		return []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, nil
	case "client":
		return []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil
	}
	return nil, plugin.Errorf(plugin.CodeInvalidInput, "unknown profile %q (the local CA knows server and client)", profile)
}

// validityPeriod dates a certificate: from a minute ago (but not before the
// CA) for the configured lifetime, at most
// max_validity and never past the expiry of the CA or of a certificate
// above it.
func validityPeriod(now time.Time, s settings, c *ca) (notBefore, notAfter time.Time) {
	lifetime := min(s.validity, s.maxValidity)
	notBefore = now.Add(-clockSkew)
	if notBefore.Before(c.cert.NotBefore) {
		notBefore = c.cert.NotBefore
	}
	notAfter = now.Add(lifetime)
	if end := c.notAfter(); notAfter.After(end) {
		notAfter = end
	}
	return notBefore, notAfter
}

// names are the subject alternative names of a certificate.
type names struct {
	dns    []string
	ips    []net.IP
	emails []string
	uris   []*url.URL
}

// parseNames sorts the requested SANs by kind: an IP address, a URI (it
// contains "://"), an e-mail address (it contains "@"), else a DNS name.
// The common name is added first to the names of its kind when missing,
// so that clients, which look only at SANs, accept it. A common name that is no
// name at all (a person's or service's name) is allowed only when
// cnMustBeName is false, for client certificates.
func parseNames(cn string, sans []string, cnMustBeName bool) (names, error) {
	if len(cn) > maxCommonNameLen {
		return names{}, fmt.Errorf("common name is %d characters long, over the %d RFC 5280 allows: put long names in SANs only",
			len(cn), maxCommonNameLen)
	}
	var n names
	seen := map[string]bool{}
	// add records a name; the common name goes first among its kind.
	add := func(name string, first bool) error {
		kind, v, err := classifyName(name)
		if err != nil {
			return err
		}
		key := kind + " " + strings.ToLower(name)
		if ip, ok := v.(net.IP); ok {
			key = kind + " " + ip.String()
		}
		if seen[key] {
			return nil
		}
		seen[key] = true
		switch kind {
		case "ip":
			n.ips = put(n.ips, v.(net.IP), first)
		case "uri":
			n.uris = put(n.uris, v.(*url.URL), first)
		case "email":
			n.emails = put(n.emails, name, first)
		default:
			n.dns = put(n.dns, name, first)
		}
		return nil
	}
	for _, san := range sans {
		if err := add(san, false); err != nil {
			return names{}, fmt.Errorf("SAN: %v", err)
		}
	}
	if cn != "" {
		if err := add(cn, true); err != nil {
			if cnMustBeName {
				return names{}, fmt.Errorf("common name: %v", err)
			}
			if !isPrintable(cn) {
				return names{}, fmt.Errorf("common name %q has control characters", cn)
			}
		}
	}
	if cn == "" && len(seen) == 0 {
		return names{}, fmt.Errorf("the request has no common name and no SANs")
	}
	return n, nil
}

// put appends v to l, or puts it first.
func put[T any](l []T, v T, first bool) []T {
	if first {
		return append([]T{v}, l...)
	}
	return append(l, v)
}

// classifyName reads one SAN: its kind ("ip", "uri", "email" or "dns")
// and, for IP addresses and URIs, its parsed value.
func classifyName(s string) (kind string, value any, err error) {
	if addr, err := netip.ParseAddr(s); err == nil {
		if addr.Zone() != "" {
			return "", nil, fmt.Errorf("IP address %q has a zone", s)
		}
		return "ip", net.IP(addr.Unmap().AsSlice()), nil
	}
	switch {
	case strings.Contains(s, "://"):
		u, err := url.Parse(s)
		if err != nil || !u.IsAbs() || !isASCIIPrintable(s) {
			return "", nil, fmt.Errorf("%q is not an absolute URI", s)
		}
		return "uri", u, nil
	case strings.Contains(s, "@"):
		local, domain, _ := strings.Cut(s, "@")
		if local == "" || !isASCIIPrintable(local) || strings.Contains(local, "@") || !validDNSName(domain, false) {
			return "", nil, fmt.Errorf("%q is not an e-mail address", s)
		}
		return "email", nil, nil
	case validDNSName(s, true):
		return "dns", nil, nil
	}
	return "", nil, fmt.Errorf("%q is not a DNS name, IP address, e-mail address or URI", s)
}

// checkPolicy applies allowed_domains: when set, only DNS names within
// those domains may be certified, the common name included.
func (n names) checkPolicy(cn string, allowed []string) error {
	if len(allowed) == 0 {
		return nil
	}
	switch {
	case len(n.ips) > 0:
		return fmt.Errorf("IP address %s refused: allowed_domains permits DNS names only", n.ips[0])
	case len(n.emails) > 0:
		return fmt.Errorf("e-mail address %s refused: allowed_domains permits DNS names only", n.emails[0])
	case len(n.uris) > 0:
		return fmt.Errorf("URI %s refused: allowed_domains permits DNS names only", n.uris[0])
	}
	if cn != "" && !inDomains(cn, allowed) {
		return fmt.Errorf("common name %q is outside allowed_domains", cn)
	}
	for _, d := range n.dns {
		if !inDomains(d, allowed) {
			return fmt.Errorf("DNS name %q is outside allowed_domains", d)
		}
	}
	return nil
}

// inDomains reports whether name (a DNS name, possibly a wildcard) is one
// of domains or a subdomain of one. "*.example.com" covers only
// subdomains of example.com, so it is within example.com.
func inDomains(name string, domains []string) bool {
	if !validDNSName(name, true) {
		return false
	}
	name = strings.TrimPrefix(strings.ToLower(name), "*.")
	for _, d := range domains {
		if name == d || strings.HasSuffix(name, "."+d) {
			return true
		}
	}
	return false
}

// validDNSName reports whether s is a DNS host name: dot-separated labels
// of letters, digits, hyphens (not at either end) and underscores, at most
// 63 characters each and 253 in all, no trailing dot. With wildcard, the
// first label may be "*" when at least two labels follow it.
func validDNSName(s string, wildcard bool) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	if wildcard && labels[0] == "*" {
		if len(labels) < 3 {
			return false
		}
		labels = labels[1:]
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// isASCIIPrintable reports whether s is visible ASCII without spaces, what
// an IA5String SAN may safely hold.
func isASCIIPrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// isPrintable reports whether s has no control characters.
func isPrintable(s string) bool {
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return false
		}
	}
	return true
}
