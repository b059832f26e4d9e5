// This file is a fake of HashiCorp Vault's HTTP API, as much of it as the
// Vault issuer uses, written from Vault's API documentation: the PKI
// engine's sign (also through an issuer), revoke and roles read; AppRole
// login; token lookup-self and renew-self. It keeps Vault's shapes: the
// /v1/ prefix, X-Vault-Token and X-Vault-Namespace headers, the response
// envelope, {"errors": [...]} with Vault's status codes and messages, and
// colon-separated serials. It signs with a real two-level CA, applies
// the role's rules (allowed domains, subdomains, IP SANs, TTL and max
// TTL) and keeps what it issued and revoked.
//
// A real Vault server cannot be had here: `go install
// github.com/hashicorp/vault@latest` is refused because Vault's go.mod has
// replace directives, and docs/issuers.md says so.

package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

// fakeRole is a PKI role.
type fakeRole struct {
	AllowedDomains  []string
	AllowSubdomains bool
	AllowBare       bool
	AllowIPSANs     bool
	AllowAnyName    bool
	TTL, MaxTTL     time.Duration
}

// fakeToken is a token Vault issued.
type fakeToken struct {
	expires   time.Time // zero: never
	maxExpiry time.Time // zero: none
	ttl       time.Duration
	renewable bool
	deny      []string // path prefixes its policies do not allow
}

// fakeRequest is a request the fake received.
type fakeRequest struct {
	Method, Path      string
	Token, Namespace  string
	VaultRequestValue string
	Body              map[string]any
}

// fakeFailure is a scripted answer to the next request.
type fakeFailure struct {
	status     int
	retryAfter string // the Retry-After header, if any
	errors     []string
}

type fakeIssued struct {
	cert      *x509.Certificate
	revokedAt time.Time
}

type fakeVault struct {
	URL       string
	CACertPEM string // for ca_cert, when the fake serves TLS
	root      *x509.Certificate
	inter     *x509.Certificate
	interKey  *ecdsa.PrivateKey

	// set before the first request
	mount, approleMount, namespace string
	roleID, secretID               string
	loginTTL, loginMaxTTL          time.Duration

	mu       sync.Mutex
	now      func() time.Time
	roles    map[string]fakeRole
	tokens   map[string]*fakeToken
	issued   map[string]*fakeIssued // by colon-separated serial
	requests []fakeRequest
	failures []fakeFailure
	logins   int
	renewals int
	seq      int
}

// newFakeVault starts a fake Vault, over TLS when tls is set, with a PKI
// mount "pki", a role "web" for example.com and its subdomains and IP
// SANs, and the root token "root-token".
func newFakeVault(t *testing.T, tls bool) *fakeVault {
	t.Helper()
	f := &fakeVault{
		mount: "pki", approleMount: "approle", roleID: "certctl-role-id", secretID: "s3cr3t-id-f0r-t3sts",
		loginTTL: time.Hour, loginMaxTTL: 4 * time.Hour, now: time.Now,
		roles: map[string]fakeRole{"web": {AllowedDomains: []string{"example.com"}, AllowSubdomains: true,
			AllowBare: true, AllowIPSANs: true, TTL: 72 * time.Hour, MaxTTL: 30 * 24 * time.Hour}},
		tokens: map[string]*fakeToken{"root-token": {}},
		issued: map[string]*fakeIssued{},
	}
	f.makeCA(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are part of the tests
	if tls {
		srv.StartTLS()
		f.CACertPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *fakeVault) makeCA(t *testing.T) {
	t.Helper()
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.interKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	rootTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Fake Vault Root CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	f.root, _ = x509.ParseCertificate(der)
	interTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Fake Vault Intermediate CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(5, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err = x509.CreateCertificate(rand.Reader, interTmpl, f.root, f.interKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	f.inter, _ = x509.ParseCertificate(der)
}

// fail has the next requests answered with status and Vault's errors.
func (f *fakeVault) fail(status int, errs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, fakeFailure{status: status, errors: errs})
}

// failAfter is fail with a Retry-After header, as Vault's rate limit
// quotas send it.
func (f *fakeVault) failAfter(status int, retryAfter string, errs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, fakeFailure{status: status, retryAfter: retryAfter, errors: errs})
}

// addToken adds a token whose policies deny the given path prefixes.
func (f *fakeVault) addToken(token string, deny ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[token] = &fakeToken{deny: deny}
}

// revokeTokens revokes every token but the root token, as Vault does
// when they expire or an operator revokes them.
func (f *fakeVault) revokeTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.tokens {
		if k != "root-token" {
			delete(f.tokens, k)
		}
	}
}

func (f *fakeVault) counts() (logins, renewals int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logins, f.renewals
}

func (f *fakeVault) recorded() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// lastTo returns the last request to path.
func (f *fakeVault) lastTo(t *testing.T, path string) fakeRequest {
	t.Helper()
	reqs := f.recorded()
	for k := len(reqs) - 1; k >= 0; k-- {
		if reqs[k].Path == path {
			return reqs[k]
		}
	}
	t.Fatalf("no request to %s", path)
	return fakeRequest{}
}

func (f *fakeVault) revokedAt(serial string) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.issued[serial]; c != nil {
		return c.revokedAt
	}
	return time.Time{}
}

// forgetIssued drops a certificate from storage, as a role with no_store
// never stores it.
func (f *fakeVault) forgetIssued(serial string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.issued, serial)
}

// reply writes Vault's response envelope.
func reply(w http.ResponseWriter, status int, data map[string]any, auth map[string]any, warnings []string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"request_id": "00000000-0000-0000-0000-000000000000", "lease_id": "",
		"renewable": false, "lease_duration": 0, "data": data, "wrap_info": nil, "warnings": warnings, "auth": auth})
}

// replyErrors writes Vault's error shape.
func replyErrors(w http.ResponseWriter, status int, errs ...string) {
	if errs == nil {
		errs = []string{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": errs})
}

func (f *fakeVault) serve(w http.ResponseWriter, r *http.Request) {
	body := map[string]any{}
	if r.Body != nil && (r.Method == http.MethodPut || r.Method == http.MethodPost) {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil && err.Error() != "EOF" {
			replyErrors(w, http.StatusBadRequest, "failed to parse JSON input: "+err.Error())
			return
		}
	}
	path := strings.TrimPrefix(r.URL.Path, "/v1/")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, fakeRequest{Method: r.Method, Path: path, Token: r.Header.Get("X-Vault-Token"),
		Namespace: r.Header.Get("X-Vault-Namespace"), VaultRequestValue: r.Header.Get("X-Vault-Request"), Body: body})
	if len(f.failures) > 0 {
		fl := f.failures[0]
		f.failures = f.failures[1:]
		if fl.retryAfter != "" {
			w.Header().Set("Retry-After", fl.retryAfter)
		}
		replyErrors(w, fl.status, fl.errors...)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/v1/") {
		replyErrors(w, http.StatusNotFound)
		return
	}
	// In a namespace, everything the fake has lives in it: a request
	// without the header (or with another) finds no handler.
	if strings.Trim(r.Header.Get("X-Vault-Namespace"), "/") != f.namespace {
		noHandler(w, path)
		return
	}
	write := r.Method == http.MethodPut || r.Method == http.MethodPost
	if write && path == "auth/"+f.approleMount+"/login" {
		f.login(w, body)
		return
	}
	tok, ok := f.tokens[r.Header.Get("X-Vault-Token")]
	if !ok || (!tok.expires.IsZero() && !f.now().Before(tok.expires)) {
		replyErrors(w, http.StatusForbidden, "permission denied")
		return
	}
	for _, p := range tok.deny {
		if strings.HasPrefix(path, p) {
			replyErrors(w, http.StatusForbidden, "1 error occurred:\n\t* permission denied\n\n")
			return
		}
	}
	parts := strings.Split(path, "/")
	mountParts := strings.Split(f.mount, "/")
	inMount := len(parts) > len(mountParts) && slices.Equal(parts[:len(mountParts)], mountParts)
	rest := []string{}
	if inMount {
		rest = parts[len(mountParts):]
	}
	switch {
	case r.Method == http.MethodGet && path == "auth/token/lookup-self":
		f.lookupSelf(w, r.Header.Get("X-Vault-Token"), tok)
	case write && path == "auth/token/renew-self":
		f.renewSelf(w, r.Header.Get("X-Vault-Token"), tok)
	case write && len(rest) == 2 && rest[0] == "sign":
		f.sign(w, rest[1], body)
	case write && len(rest) == 4 && rest[0] == "issuer" && rest[2] == "sign":
		if rest[1] != "default" && rest[1] != "intermediate" {
			replyErrors(w, http.StatusBadRequest, fmt.Sprintf("unable to find PKI issuer for reference: %v", rest[1]))
			return
		}
		f.sign(w, rest[3], body)
	case write && len(rest) == 1 && rest[0] == "revoke":
		f.revoke(w, body)
	case r.Method == http.MethodGet && len(rest) == 2 && rest[0] == "roles":
		f.readRole(w, rest[1])
	default:
		noHandler(w, path)
	}
}

func noHandler(w http.ResponseWriter, path string) {
	replyErrors(w, http.StatusNotFound, fmt.Sprintf("no handler for route %q. route entry not found.", path))
}

func (f *fakeVault) login(w http.ResponseWriter, body map[string]any) {
	if body["role_id"] != f.roleID || body["secret_id"] != f.secretID {
		replyErrors(w, http.StatusBadRequest, "invalid role or secret ID")
		return
	}
	f.logins++
	f.seq++
	token := fmt.Sprintf("hvs.approle-token-%d", f.seq)
	now := f.now()
	f.tokens[token] = &fakeToken{expires: now.Add(f.loginTTL), maxExpiry: now.Add(f.loginMaxTTL), ttl: f.loginTTL, renewable: true}
	reply(w, http.StatusOK, nil, map[string]any{"client_token": token, "accessor": "accessor-" + token,
		"policies": []string{"default", "certctl"}, "token_policies": []string{"default", "certctl"},
		"metadata": map[string]string{"role_name": "certctl"}, "lease_duration": int(f.loginTTL / time.Second),
		"renewable": true, "entity_id": "", "token_type": "service", "orphan": true}, nil)
}

func (f *fakeVault) lookupSelf(w http.ResponseWriter, token string, tok *fakeToken) {
	ttl := 0
	if !tok.expires.IsZero() {
		ttl = int(tok.expires.Sub(f.now()) / time.Second)
	}
	reply(w, http.StatusOK, map[string]any{"id": token, "ttl": ttl, "renewable": tok.renewable,
		"policies": []string{"default"}, "type": "service"}, nil, nil)
}

func (f *fakeVault) renewSelf(w http.ResponseWriter, token string, tok *fakeToken) {
	if !tok.renewable {
		replyErrors(w, http.StatusBadRequest, "lease is not renewable")
		return
	}
	f.renewals++
	now := f.now()
	expires := now.Add(tok.ttl)
	var warnings []string
	if !tok.maxExpiry.IsZero() && expires.After(tok.maxExpiry) {
		expires = tok.maxExpiry
		warnings = []string{"TTL of \"1h\" exceeded the effective max_ttl; TTL value is capped accordingly"}
	}
	tok.expires = expires
	reply(w, http.StatusOK, nil, map[string]any{"client_token": token, "accessor": "accessor-" + token,
		"lease_duration": int(expires.Sub(now) / time.Second), "renewable": true}, warnings)
}

func (f *fakeVault) readRole(w http.ResponseWriter, name string) {
	role, ok := f.roles[name]
	if !ok {
		replyErrors(w, http.StatusNotFound) // Vault: a nil response, 404 with no message
		return
	}
	reply(w, http.StatusOK, map[string]any{"allowed_domains": role.AllowedDomains, "allow_subdomains": role.AllowSubdomains,
		"allow_bare_domains": role.AllowBare, "allow_ip_sans": role.AllowIPSANs, "allow_any_name": role.AllowAnyName,
		"ttl": int(role.TTL / time.Second), "max_ttl": int(role.MaxTTL / time.Second), "key_type": "any",
		"server_flag": true, "client_flag": true}, nil, nil)
}

// allowed applies a role's domain rules to a DNS name.
func (role fakeRole) allowed(name string) bool {
	if role.AllowAnyName {
		return true
	}
	name = strings.TrimPrefix(strings.ToLower(name), "*.") // wildcards are allowed where their base is
	for _, d := range role.AllowedDomains {
		if (role.AllowBare && name == d) || (role.AllowSubdomains && strings.HasSuffix(name, "."+d)) {
			return true
		}
	}
	return false
}

func splitList(v any) []string {
	s, _ := v.(string)
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (f *fakeVault) sign(w http.ResponseWriter, roleName string, body map[string]any) {
	role, ok := f.roles[roleName]
	if !ok {
		replyErrors(w, http.StatusBadRequest, "unknown role: "+roleName)
		return
	}
	csrText, _ := body["csr"].(string)
	block, _ := pem.Decode([]byte(csrText))
	if block == nil {
		replyErrors(w, http.StatusBadRequest, "csr contains no data")
		return
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		replyErrors(w, http.StatusBadRequest, "certificate request could not be parsed: "+err.Error())
		return
	}
	cn, _ := body["common_name"].(string)
	if cn == "" {
		cn = csr.Subject.CommonName
	}
	if cn == "" {
		replyErrors(w, http.StatusBadRequest, `the common_name field is required, or must be provided in a CSR with "use_csr_common_name" set to true, unless "require_cn" is set to false`)
		return
	}
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: cn}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	if net.ParseIP(cn) == nil {
		if !role.allowed(cn) {
			replyErrors(w, http.StatusBadRequest, fmt.Sprintf("common name %s not allowed by this role", cn))
			return
		}
		tmpl.DNSNames = append(tmpl.DNSNames, cn)
	}
	for _, n := range splitList(body["alt_names"]) {
		if strings.Contains(n, "@") {
			tmpl.EmailAddresses = append(tmpl.EmailAddresses, n)
			continue
		}
		if !role.allowed(n) {
			replyErrors(w, http.StatusBadRequest, fmt.Sprintf("subject alternate name %s not allowed by this role", n))
			return
		}
		if !slices.Contains(tmpl.DNSNames, n) {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	if ips := splitList(body["ip_sans"]); len(ips) > 0 {
		if !role.AllowIPSANs {
			replyErrors(w, http.StatusBadRequest, fmt.Sprintf("IP Subject Alternative Names are not allowed in this role, but was provided %s", ips[0]))
			return
		}
		for _, s := range ips {
			ip := net.ParseIP(s)
			if ip == nil {
				replyErrors(w, http.StatusBadRequest, fmt.Sprintf("the value %q is not a valid IP address", s))
				return
			}
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		}
	}
	for _, s := range splitList(body["uri_sans"]) {
		u, err := url.Parse(s)
		if err != nil {
			replyErrors(w, http.StatusBadRequest, fmt.Sprintf("failed to parse URI SAN %q", s))
			return
		}
		tmpl.URIs = append(tmpl.URIs, u)
	}
	ttl := role.TTL
	var warnings []string
	if s, ok := body["ttl"].(string); ok && s != "" {
		d, ok := plugin.ParseDuration(s)
		if !ok {
			if n, err := strconv.Atoi(s); err == nil {
				d, ok = time.Duration(n)*time.Second, true
			}
		}
		if !ok {
			replyErrors(w, http.StatusBadRequest, fmt.Sprintf("error converting input %s for field %q: time: invalid duration %q", s, "ttl", s))
			return
		}
		ttl = d
	}
	if role.MaxTTL > 0 && ttl > role.MaxTTL {
		warnings = append(warnings, fmt.Sprintf("TTL %q is longer than permitted maxTTL %q, so using the maxTTL", ttl, role.MaxTTL))
		ttl = role.MaxTTL
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 159))
	tmpl.SerialNumber = serial
	now := f.now()
	tmpl.NotBefore = now.Add(-30 * time.Second) // Vault backdates by 30 s
	tmpl.NotAfter = now.Add(ttl)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, f.inter, csr.PublicKey, f.interKey)
	if err != nil {
		replyErrors(w, http.StatusInternalServerError, "error signing certificate: "+err.Error())
		return
	}
	cert, _ := x509.ParseCertificate(der)
	colon := colonSerial(cert.SerialNumber)
	f.issued[colon] = &fakeIssued{cert: cert}
	pemOfDER := func(b []byte) string { return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b})) }
	reply(w, http.StatusOK, map[string]any{
		"certificate":   strings.TrimSpace(pemOfDER(der)),
		"issuing_ca":    strings.TrimSpace(pemOfDER(f.inter.Raw)),
		"ca_chain":      []string{strings.TrimSpace(pemOfDER(f.inter.Raw)), strings.TrimSpace(pemOfDER(f.root.Raw))},
		"serial_number": colon,
		"expiration":    tmpl.NotAfter.Unix(),
	}, nil, warnings)
}

func (f *fakeVault) revoke(w http.ResponseWriter, body map[string]any) {
	serialText, _ := body["serial_number"].(string)
	certText, _ := body["certificate"].(string)
	switch {
	case serialText == "" && certText == "":
		replyErrors(w, http.StatusBadRequest, "The serial number or certificate to revoke must be provided.")
		return
	case serialText != "" && certText != "":
		replyErrors(w, http.StatusBadRequest, "Must provide either the certificate or the serial to revoke; not both.")
		return
	}
	serial := strings.ToLower(strings.ReplaceAll(serialText, "-", ":"))
	if certText != "" {
		block, _ := pem.Decode([]byte(certText))
		if block == nil {
			replyErrors(w, http.StatusBadRequest, "certificate contains no PEM data")
			return
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			replyErrors(w, http.StatusBadRequest, fmt.Sprintf("certificate could not be parsed: %v", err))
			return
		}
		if cert.CheckSignatureFrom(f.inter) != nil {
			replyErrors(w, http.StatusBadRequest, "unable to verify signature on presented cert from any present issuer in this mount; "+
				"certificates from previous CAs will need to have their issuing CA and key re-imported if revocation is necessary")
			return
		}
		serial = colonSerial(cert.SerialNumber)
		if f.issued[serial] == nil {
			f.issued[serial] = &fakeIssued{cert: cert}
		}
	}
	c := f.issued[serial]
	if c == nil {
		replyErrors(w, http.StatusBadRequest, fmt.Sprintf("certificate with serial %s not found.", serial))
		return
	}
	if c.revokedAt.IsZero() {
		c.revokedAt = f.now()
	}
	reply(w, http.StatusOK, map[string]any{"revocation_time": c.revokedAt.Unix(),
		"revocation_time_rfc3339": c.revokedAt.UTC().Format(time.RFC3339Nano), "state": "revoked"}, nil, nil)
}

// colonSerial writes a serial as Vault does (certutil.GetHexFormatted).
func colonSerial(n *big.Int) string {
	b := n.Bytes()
	parts := make([]string, len(b))
	for k, x := range b {
		parts[k] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}
