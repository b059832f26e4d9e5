// This file turns certctl's requests into what a command gets: the CSR as
// PEM for its stdin, and CERTCTL_* environment variables describing the
// request. docs/issuers.md lists the variables; keep the two in step.

package main

import (
	"cmp"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

// parseCSR parses and checks the request's CSR.
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

func csrPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

// names sorts the common name and SANs by kind, the common name first,
// repeats dropped; names are kept as written.
type names struct{ dns, ips, emails, uris []string }

func sortNames(cn string, sans []string) names {
	var n names
	for _, name := range append([]string{cn}, sans...) {
		var list *[]string
		switch {
		case name == "":
			continue
		case isIP(name):
			list = &n.ips
		case strings.Contains(name, "://"):
			list = &n.uris
		case strings.Contains(name, "@"):
			list = &n.emails
		default:
			list = &n.dns
		}
		if !slices.Contains(*list, name) {
			*list = append(*list, name)
		}
	}
	return n
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// issueEnv describes an issuance (op "issue") or renewal ("renew") in
// CERTCTL_* variables.
func issueEnv(req plugin.IssueRequest, s settings, op, previousSerial string) ([]string, error) {
	// Lists are comma separated, so no name may hold a comma; none can
	// hold a control character either.
	for _, name := range append([]string{req.CommonName}, req.SANs...) {
		if strings.ContainsAny(name, ",") || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return nil, plugin.Errorf(plugin.CodeInvalidInput,
				"name %q holds a comma or a control character, which the script issuer cannot pass on", name)
		}
	}
	if strings.ContainsFunc(req.IdempotencyKey+req.Profile, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return nil, plugin.Errorf(plugin.CodeInvalidInput, "the idempotency key or profile holds a control character")
	}
	n := sortNames(req.CommonName, req.SANs)
	validity := s.validity
	vars := []string{
		"CERTCTL_OPERATION=" + op,
		"CERTCTL_COMMON_NAME=" + req.CommonName,
		"CERTCTL_SANS=" + strings.Join(req.SANs, ","),
		"CERTCTL_DNS_NAMES=" + strings.Join(n.dns, ","),
		"CERTCTL_IP_ADDRESSES=" + strings.Join(n.ips, ","),
		"CERTCTL_EMAIL_ADDRESSES=" + strings.Join(n.emails, ","),
		"CERTCTL_URIS=" + strings.Join(n.uris, ","),
		"CERTCTL_IDEMPOTENCY_KEY=" + req.IdempotencyKey,
		"CERTCTL_PROFILE=" + cmp.Or(req.Profile, s.profile),
		"CERTCTL_VALIDITY_SECONDS=" + strconv.FormatInt(int64(validity/time.Second), 10),
	}
	if !req.Now.IsZero() {
		vars = append(vars, "CERTCTL_NOW="+req.Now.UTC().Format(time.RFC3339))
	}
	if op == "renew" {
		serial := ""
		if previousSerial != "" {
			p, err := parseSerial(previousSerial)
			if err != nil {
				return nil, err
			}
			serial = p.Text(16)
		}
		vars = append(vars, "CERTCTL_RENEW_PREVIOUS_SERIAL="+serial)
	}
	return vars, nil
}

// reasonNames are the RFC 5280 names of CRLReason codes, as OpenSSL's
// `ca -crl_reason` spells those it knows.
var reasonNames = map[int]string{
	plugin.ReasonUnspecified:          "unspecified",
	plugin.ReasonKeyCompromise:        "keyCompromise",
	plugin.ReasonCACompromise:         "CACompromise",
	plugin.ReasonAffiliationChanged:   "affiliationChanged",
	plugin.ReasonSuperseded:           "superseded",
	plugin.ReasonCessationOfOperation: "cessationOfOperation",
	plugin.ReasonCertificateHold:      "certificateHold",
	plugin.ReasonRemoveFromCRL:        "removeFromCRL",
	plugin.ReasonPrivilegeWithdrawn:   "privilegeWithdrawn",
	plugin.ReasonAACompromise:         "aACompromise",
}

// revokeEnv describes a revocation in CERTCTL_* variables.
func revokeEnv(serial *big.Int, reason int) []string {
	hex := serial.Text(16)
	if len(hex)%2 == 1 {
		hex = "0" + hex
	}
	return []string{
		"CERTCTL_OPERATION=revoke",
		"CERTCTL_SERIAL=" + hex,
		"CERTCTL_REVOCATION_REASON=" + strconv.Itoa(reason),
		"CERTCTL_REVOCATION_REASON_NAME=" + reasonNames[reason],
	}
}

// passedOn are the variables of the plugin's own environment that
// commands get; nothing else of the server's environment (which may hold
// its database URL) reaches them.
var passedOn = []string{"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TZ"}

// defaultPath is PATH for commands when the plugin has none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// commandEnv is the whole environment of a command: a few variables of
// the plugin's own, the configured ones, then the request's.
func commandEnv(own []string, s settings, request []string) []string {
	var env []string
	hasPath := false
	for _, kv := range own {
		name, _, _ := strings.Cut(kv, "=")
		if slices.Contains(passedOn, name) {
			env = append(env, kv)
			hasPath = hasPath || name == "PATH"
		}
	}
	if !hasPath {
		env = append(env, "PATH="+defaultPath)
	}
	env = append(env, s.env...) // later entries win, so the configuration may set PATH
	return append(env, request...)
}
