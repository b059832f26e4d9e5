// Tests through the real plugin process: the binary is built, started by
// the SDK's host side and called over gRPC, and talks to the fake Vault
// over loopback HTTP(S).

package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/plugins/internal/plugintesting"
	"github.com/certctl/certctl/sdk/keys"
	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

const rootToken = "root-token"

func rootsOf(f *fakeVault) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(f.root)
	return p
}

func openPlugin(t *testing.T) plugin.Issuer {
	t.Helper()
	return plugintesting.Open(t, plugintest.Build(t, "."), plugin.KindIssuer).Issuer()
}

func callCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func request(t *testing.T, cfg plugin.Config, cn string, sans ...string) (plugin.IssueRequest, crypto.Signer) {
	t.Helper()
	key, err := keys.Generate("ecdsa-p256")
	if err != nil {
		t.Fatal(err)
	}
	csr, err := keys.CSR(cn, sans, key)
	if err != nil {
		t.Fatal(err)
	}
	return plugin.IssueRequest{Config: cfg, CSR: csr, CommonName: cn, SANs: sans, IdempotencyKey: "job-1", Now: time.Now()}, key
}

func parseCert(t *testing.T, text string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		t.Fatalf("no PEM in %q", text)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantCode fails unless err has code and, for invalid_config, names field.
func wantCode(t *testing.T, err error, code, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", code)
	}
	if got := plugin.ErrorCode(err); got != code {
		t.Fatalf("error %q has code %s, want %s", err, got, code)
	}
	var pe *plugin.Error
	if field != "" && (!errors.As(err, &pe) || pe.Field != field) {
		t.Fatalf("error %q does not name field %s", err, field)
	}
}

// TestTokenIssueRenewRevoke issues, renews and revokes with token auth
// over plain HTTP, and checks what reached Vault.
func TestTokenIssueRenewRevoke(t *testing.T) {
	f := newFakeVault(t, false)
	iss := openPlugin(t)
	ctx := callCtx(t)
	cfg := plugin.Config{fieldAddress: f.URL, fieldRole: "web", fieldToken: rootToken}
	if err := iss.ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: cfg}); err != nil {
		t.Fatalf("ValidateConfig: %v", err)
	}

	// The role's TTL applies when neither request nor configuration names one.
	req, key := request(t, cfg, "app.example.com", "www.example.com", "192.0.2.7")
	res, err := iss.IssueCertificate(ctx, req)
	if err != nil {
		t.Fatalf("IssueCertificate: %v", err)
	}
	leaf := parseCert(t, res.CertificatePEM)
	if !leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()) {
		t.Error("the certificate is not for the CSR's key")
	}
	inter := x509.NewCertPool()
	inter.AppendCertsFromPEM([]byte(res.ChainPEM))
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: rootsOf(f), Intermediates: inter, DNSName: "www.example.com"}); err != nil {
		t.Errorf("the certificate does not verify through the chain: %v", err)
	}
	if got := leaf.NotAfter.Sub(leaf.NotBefore); got != 72*time.Hour+30*time.Second {
		t.Errorf("lifetime %s, want the role's 72h (and Vault's 30 s backdating)", got)
	}
	sent := f.lastTo(t, "pki/sign/web")
	if sent.Token != rootToken || sent.VaultRequestValue != "true" || sent.Namespace != "" {
		t.Errorf("sign request headers: token %q, X-Vault-Request %q, namespace %q", sent.Token, sent.VaultRequestValue, sent.Namespace)
	}
	if sent.Body["common_name"] != "app.example.com" || sent.Body["alt_names"] != "www.example.com" ||
		sent.Body["ip_sans"] != "192.0.2.7" || sent.Body["ttl"] != nil || sent.Body["format"] != "pem" {
		t.Errorf("sign request body: %v", sent.Body)
	}

	// The configured ttl is asked for; the request's wins over it.
	cfg[fieldTTL] = "48h"
	req, _ = request(t, cfg, "app.example.com")
	res2, err := iss.RenewCertificate(ctx, plugin.RenewRequest{IssueRequest: req, PreviousSerial: leaf.SerialNumber.Text(16)})
	if err != nil {
		t.Fatalf("RenewCertificate: %v", err)
	}
	if got := parseCert(t, res2.CertificatePEM); got.NotAfter.Sub(got.NotBefore) != 48*time.Hour+30*time.Second {
		t.Errorf("renewed lifetime %s, want 48h", got.NotAfter.Sub(got.NotBefore))
	}
	if ttl := f.lastTo(t, "pki/sign/web").Body["ttl"]; ttl != "172800s" {
		t.Errorf("ttl sent %v, want 172800s", ttl)
	}

	// Revocation by Vault's colon-separated serial; again is fine.
	colon := colonSerial(leaf.SerialNumber)
	for range 2 {
		if err := iss.RevokeCertificate(ctx, plugin.RevokeRequest{Config: cfg, SerialNumber: leaf.SerialNumber.Text(16),
			Reason: plugin.ReasonKeyCompromise, CertificatePEM: res.CertificatePEM}); err != nil {
			t.Fatalf("RevokeCertificate: %v", err)
		}
	}
	if f.revokedAt(colon).IsZero() {
		t.Errorf("Vault has not revoked %s", colon)
	}
	if got := f.lastTo(t, "pki/revoke").Body["serial_number"]; got != colon {
		t.Errorf("serial sent %v, want %s", got, colon)
	}

	// A certificate Vault did not store (no_store) is revoked by its PEM.
	other := parseCert(t, res2.CertificatePEM)
	f.forgetIssued(colonSerial(other.SerialNumber))
	if err := iss.RevokeCertificate(ctx, plugin.RevokeRequest{Config: cfg, SerialNumber: other.SerialNumber.Text(16),
		CertificatePEM: res2.CertificatePEM}); err != nil {
		t.Fatalf("RevokeCertificate of a certificate Vault did not store: %v", err)
	}
	if f.revokedAt(colonSerial(other.SerialNumber)).IsZero() {
		t.Error("the unstored certificate was not revoked")
	}
	// Without the certificate, an unknown serial stays Vault's refusal.
	err = iss.RevokeCertificate(ctx, plugin.RevokeRequest{Config: cfg, SerialNumber: "0a0b0c"})
	wantCode(t, err, plugin.CodePermanent, "")
	if !strings.Contains(err.Error(), "certificate with serial 0a:0b:0c not found") {
		t.Errorf("error %q does not carry Vault's message", err)
	}

	// A name the role does not allow: Vault's message, permanent.
	req, _ = request(t, cfg, "evil.org")
	_, err = iss.IssueCertificate(ctx, req)
	wantCode(t, err, plugin.CodePermanent, "")
	if !strings.Contains(err.Error(), "common name evil.org not allowed by this role") {
		t.Errorf("error %q does not carry Vault's message", err)
	}

	// Signing through a named issuer of the mount.
	cfg[fieldIssuerRef] = "intermediate"
	req, _ = request(t, cfg, "app.example.com")
	if _, err := iss.IssueCertificate(ctx, req); err != nil {
		t.Fatalf("IssueCertificate with issuer_ref: %v", err)
	}
	f.lastTo(t, "pki/issuer/intermediate/sign/web")
}

// TestVaultErrors checks the code and message of each way Vault fails.
func TestVaultErrors(t *testing.T) {
	f := newFakeVault(t, true)
	iss := openPlugin(t)
	ctx := callCtx(t)
	cfg := plugin.Config{fieldAddress: f.URL, fieldRole: "web", fieldToken: rootToken, fieldCACert: f.CACertPEM}

	t.Run("rate limited", func(t *testing.T) {
		f.failAfter(http.StatusTooManyRequests, "30", `request path "pki/sign/web": rate limit quota exceeded`)
		req, _ := request(t, cfg, "app.example.com")
		_, err := iss.IssueCertificate(ctx, req)
		wantCode(t, err, plugin.CodeTransient, "")
		if !strings.Contains(err.Error(), "rate limit quota exceeded") {
			t.Errorf("error %q does not carry Vault's message", err)
		}
		if got := plugin.RetryAfter(err); got != 30*time.Second {
			t.Errorf("RetryAfter %s, want Vault's 30s", got)
		}
	})
	for _, tc := range []struct {
		name   string
		status int
		errs   []string
		code   string
		field  string
		want   string
	}{
		{"sealed", http.StatusServiceUnavailable, []string{"Vault is sealed"}, plugin.CodeTransient, "", "Vault is sealed"},
		{"internal error", http.StatusInternalServerError, []string{"internal error"}, plugin.CodeTransient, "", "internal error"},
		{"standby not ready", http.StatusPreconditionFailed, []string{"required index state not present"}, plugin.CodeTransient, "", "index state"},
		{"permission denied", http.StatusForbidden, []string{"permission denied"}, plugin.CodeInvalidConfig, fieldToken, "permission denied"},
		{"bad request", http.StatusBadRequest, []string{"unknown role: web"}, plugin.CodePermanent, "", "unknown role: web"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.fail(tc.status, tc.errs...)
			req, _ := request(t, cfg, "app.example.com")
			_, err := iss.IssueCertificate(ctx, req)
			wantCode(t, err, tc.code, tc.field)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not carry Vault's message %q", err, tc.want)
			}
			if strings.Contains(err.Error(), rootToken) {
				t.Errorf("error %q holds the token", err)
			}
		})
	}

	t.Run("unreachable", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close() // nothing listens there now: connection refused
		c := cfg.Clone()
		c[fieldAddress] = "https://" + addr
		req, _ := request(t, c, "app.example.com")
		_, err = iss.IssueCertificate(ctx, req)
		wantCode(t, err, plugin.CodeTransient, "")
		if !strings.Contains(err.Error(), "cannot reach Vault") {
			t.Errorf("error %q", err)
		}
		// ValidateConfig says so too, rather than blaming the configuration.
		wantCode(t, iss.ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: c}), plugin.CodeTransient, "")
	})
	t.Run("untrusted TLS", func(t *testing.T) {
		c := cfg.Clone()
		delete(c, fieldCACert)
		req, _ := request(t, c, "app.example.com")
		_, err := iss.IssueCertificate(ctx, req)
		wantCode(t, err, plugin.CodeInvalidConfig, fieldCACert)
	})
	t.Run("invalid token", func(t *testing.T) {
		c := cfg.Clone()
		c[fieldToken] = "hvs.not-a-token-of-this-vault"
		err := iss.ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: c})
		wantCode(t, err, plugin.CodeInvalidConfig, fieldToken)
		if strings.Contains(err.Error(), "hvs.not-a-token") {
			t.Errorf("error %q holds the token", err)
		}
	})
	t.Run("token that may not read roles", func(t *testing.T) {
		// A sign-only policy is enough: the role check is skipped.
		f.addToken("hvs.sign-only", "pki/roles/")
		c := cfg.Clone()
		c[fieldToken] = "hvs.sign-only"
		if err := iss.ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: c}); err != nil {
			t.Fatalf("ValidateConfig: %v", err)
		}
		req, _ := request(t, c, "app.example.com")
		if _, err := iss.IssueCertificate(ctx, req); err != nil {
			t.Fatalf("IssueCertificate: %v", err)
		}
	})
	t.Run("host deadline", func(t *testing.T) {
		// A Vault that hangs: the host's deadline ends the call.
		hang := plugintesting.NewHTTPServer(t, plugintesting.Reply{Hang: time.Minute})
		c := cfg.Clone()
		c[fieldAddress] = hang.URL
		delete(c, fieldCACert)
		short, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		req, _ := request(t, c, "app.example.com")
		_, err := iss.IssueCertificate(short, req)
		wantCode(t, err, plugin.CodeDeadline, "")
	})
}

// TestAppRoleLogin checks that one login serves many calls, in the
// namespace, and that a token Vault no longer accepts is replaced.
func TestAppRoleLogin(t *testing.T) {
	// The server's environment must not steer the client.
	t.Setenv("VAULT_TOKEN", "hvs.from-the-environment")
	t.Setenv("VAULT_NAMESPACE", "elsewhere")
	t.Setenv("VAULT_ADDR", "http://127.0.0.1:1")
	f := newFakeVault(t, false)
	f.namespace = "team-a/pki"
	iss := openPlugin(t)
	ctx := callCtx(t)
	cfg := plugin.Config{fieldAddress: f.URL, fieldRole: "web", fieldRoleID: f.roleID, fieldSecretID: f.secretID,
		fieldNamespace: "team-a/pki"}
	if err := iss.ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: cfg}); err != nil {
		t.Fatalf("ValidateConfig: %v", err)
	}
	for range 3 {
		req, _ := request(t, cfg, "app.example.com")
		if _, err := iss.IssueCertificate(ctx, req); err != nil {
			t.Fatalf("IssueCertificate: %v", err)
		}
	}
	if logins, _ := f.counts(); logins != 1 {
		t.Errorf("%d logins for four calls, want 1", logins)
	}
	for _, r := range f.recorded() {
		if r.Namespace != "team-a/pki" {
			t.Errorf("%s %s went to namespace %q", r.Method, r.Path, r.Namespace)
		}
		if r.Token == "hvs.from-the-environment" {
			t.Errorf("%s %s carried VAULT_TOKEN from the environment", r.Method, r.Path)
		}
	}
	login := f.lastTo(t, "auth/approle/login")
	if login.Token != "" || login.Body["role_id"] != f.roleID {
		t.Errorf("login: token %q, body role_id %v", login.Token, login.Body["role_id"])
	}

	// Vault drops the token (revoked, or its lease ended early): the
	// calls that find it refused log in again, once between them, and
	// succeed.
	f.revokeTokens()
	errs := make(chan error, 5)
	for range cap(errs) {
		req, _ := request(t, cfg, "app.example.com")
		go func() {
			_, err := iss.IssueCertificate(ctx, req)
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Errorf("IssueCertificate after the token was revoked: %v", err)
		}
	}
	if logins, _ := f.counts(); logins != 2 {
		t.Errorf("%d logins, want 2", logins)
	}
}

// TestTokenCacheRenewal drives the token cache with a clock of its own
// against the fake Vault: a token is reused while fresh, renewed near its
// expiry, and replaced by a new login near its max TTL.
func TestTokenCacheRenewal(t *testing.T) {
	f := newFakeVault(t, false)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	f.now = clock
	f.loginTTL, f.loginMaxTTL = time.Hour, 3*time.Hour
	tc := newTokenCache(clock)
	s, err := readSettings(plugin.Config{fieldAddress: f.URL, fieldRole: "web", fieldRoleID: f.roleID, fieldSecretID: f.secretID})
	if err != nil {
		t.Fatal(err)
	}
	ctx := callCtx(t)
	get := func() string {
		t.Helper()
		tok, err := tc.get(ctx, s)
		if err != nil {
			t.Fatalf("token: %v", err)
		}
		return tok
	}
	first := get()
	now = now.Add(30 * time.Minute)
	if tok := get(); tok != first {
		t.Errorf("a fresh token was replaced")
	}
	if logins, renewals := f.counts(); logins != 1 || renewals != 0 {
		t.Errorf("after reuse: %d logins, %d renewals", logins, renewals)
	}
	now = now.Add(29 * time.Minute) // a minute before expiry: inside the margin
	if tok := get(); tok != first {
		t.Errorf("a renewed token changed")
	}
	if logins, renewals := f.counts(); logins != 1 || renewals != 1 {
		t.Errorf("near expiry: %d logins, %d renewals, want 1 and 1", logins, renewals)
	}
	// Renewed for an hour from now; near the 3 h max TTL the lease
	// shrinks, and a new login replaces the token.
	now = now.Add(59 * time.Minute)
	get()
	now = now.Add(59 * time.Minute) // 2 h 57 m: Vault renews for 3 minutes only
	second := get()
	if second == first {
		t.Error("a token at its max TTL was kept")
	}
	if logins, _ := f.counts(); logins != 2 {
		t.Errorf("%d logins, want 2", logins)
	}
}
