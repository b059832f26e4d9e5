package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certctl/certctl/plugins/target/internal/tlsprobe"
	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// Accounts of the fake host.
const (
	adminPassword    = "Adm1n-Secret-Passw0rd-4711"
	operatorPassword = "0perator-Secret-Passw0rd-0815"
	guestPassword    = "Gue5t-Secret-Passw0rd-1234"
	wrongPassword    = "Wr0ng-Secret-Passw0rd-9999"
	siteName         = "Default Web Site"
)

// The tests below deploy through the plugin's real process (built as it
// ships) to a fake Windows host of their own (newEnv). When a test ends,
// its plugin's log must hold none of the secrets the test used.
func TestIISDeployValidateRedeploy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	old := e.bootstrap(t)
	l1 := e.pki.issue(t, ecdsaKey, "www.example.com")
	res, err := deploy(t, e.tg, e.cfg, l1, false)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if !res.Changed || res.Metadata["previous_thumbprint"] != old.thumb || res.Metadata["thumbprint"] != l1.thumb {
		t.Errorf("deploy = %+v, want Changed, thumbprint %s replacing %s", res, l1.thumb, old.thumb)
	}
	e.wantBinding(t, "*:443:", l1.thumb, "My")
	if found, withKey := e.host.inStore("My", l1.thumb); !found || !withKey {
		t.Errorf("the store has the certificate: %t, with its key: %t", found, withKey)
	}
	// The intermediate went to CA; the root was trusted nowhere.
	if found, _ := e.host.inStore("CA", e.pki.interThumb); !found {
		t.Error("the intermediate is not in LocalMachine\\CA")
	}
	for _, s := range []string{"My", "CA", "Root"} {
		if found, _ := e.host.inStore(s, e.pki.rootThumb); found {
			t.Errorf("the root CA certificate was put into LocalMachine\\%s", s)
		}
	}
	if found, _ := e.host.inStore("My", e.pki.interThumb); found {
		t.Error("the intermediate was left in LocalMachine\\My")
	}
	e.wantClean(t)

	v := validate(t, e.tg, e.cfg, l1.serial)
	if !v.Valid || v.ServedSerial != l1.serial {
		t.Errorf("ValidateDeployment = %+v, want Valid with serial %s", v, l1.serial)
	}
	withProbe := e.cfg.Clone()
	withProbe[fieldVerifyAddress] = e.tlsAddr
	if v := validate(t, e.tg, withProbe, l1.serial); !v.Valid || v.ServedSerial != l1.serial || !strings.Contains(v.Message, "serves it") {
		t.Errorf("ValidateDeployment with verify_address = %+v, want Valid, served serial %s", v, l1.serial)
	}
	if v := validate(t, e.tg, e.cfg, old.serial); v.Valid || v.ServedSerial != l1.serial {
		t.Errorf("ValidateDeployment of the old serial = %+v, want not Valid, served %s", v, l1.serial)
	}

	n, imports := e.host.opCount(), e.host.imports
	res, err = deploy(t, e.tg, e.cfg, l1, false)
	if err != nil || res.Changed {
		t.Fatalf("deploying again = %+v, %v; want Changed false", res, err)
	}
	if ops := e.host.opsSince(n); !slices.Equal(ops, []string{"probe"}) || e.host.imports != imports {
		t.Errorf("deploying again ran %v and %d imports, want only the probe", ops, e.host.imports-imports)
	}
	e.wantClean(t)
	if log := e.logs.String(); !strings.Contains(log, "bound the certificate") || !strings.Contains(log, "uploading the PFX") {
		t.Errorf("the plugin's log lacks the deployment's steps:\n%s", log)
	}
}

func TestIISNewCertificateSwitchesBinding(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bootstrap(t)
	l1, l2 := e.pki.issue(t, ecdsaKey, "www.example.com"), e.pki.issue(t, ecdsaKey, "www.example.com")
	mustDeploy(t, e.tg, e.cfg, l1)
	res := mustDeploy(t, e.tg, e.cfg, l2)
	if !res.Changed || res.Metadata["previous_thumbprint"] != l1.thumb {
		t.Errorf("deploy = %+v, want Changed replacing %s", res, l1.thumb)
	}
	e.wantBinding(t, "*:443:", l2.thumb, "My")
	e.wantServed(t, "", l2)
	e.wantClean(t)

	// A certificate already in the store (with its key) is bound
	// without being sent again.
	l3 := e.pki.issue(t, ecdsaKey, "www.example.com")
	e.host.addCert("My", l3.cert, l3.key)
	n := e.host.opCount()
	mustDeploy(t, e.tg, e.cfg, l3)
	if ops := e.host.opsSince(n); !slices.Equal(ops, []string{"probe", "bind"}) {
		t.Errorf("deploying a certificate in the store ran %v, want probe and bind", ops)
	}
	e.wantBinding(t, "*:443:", l3.thumb, "My")
}

func TestIISBindingFailureRestoresPrevious(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bootstrap(t)
	l1, l2 := e.pki.issue(t, ecdsaKey, "www.example.com"), e.pki.issue(t, ecdsaKey, "www.example.com")
	mustDeploy(t, e.tg, e.cfg, l1)
	e.host.set(func(h *fakeHost) {
		h.failAddSSL[l2.thumb] = "A specified logon session does not exist. It may already have been terminated. (Exception from HRESULT: 0x80070520)"
	})
	n := e.host.opCount()
	_, err := deploy(t, e.tg, e.cfg, l2, false)
	wantCode(t, err, plugin.CodePermanent, "")
	for _, want := range []string{"logon session does not exist", "certificate " + l1.thumb + " is back on the binding", "imported certificate was deleted"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if ops := e.host.opsSince(n); ops[len(ops)-2] != "bind" || ops[len(ops)-1] != "restore" {
		t.Errorf("ran %v, want bind then restore", ops)
	}
	e.wantBinding(t, "*:443:", l1.thumb, "My")
	if found, _ := e.host.inStore("My", l2.thumb); found {
		t.Error("the certificate imported for the failed binding was left in the store")
	}
	e.wantServed(t, "", l1)
	e.wantClean(t)

	// A binding the deployment created is removed again.
	withHost := e.cfg.Clone()
	withHost[fieldBindingHost] = "new.example.com"
	_, err = deploy(t, e.tg, withHost, l2, false)
	wantCode(t, err, plugin.CodePermanent, "")
	if !strings.Contains(err.Error(), "the binding it created was removed") {
		t.Errorf("error %q does not say the new binding was removed", err)
	}
	if b := e.host.binding(siteName, "*:443:new.example.com"); b != nil {
		t.Errorf("the binding created for the failed deployment is left: %+v", b)
	}
}

func TestIISDeadlineDuringBindRestoresPrevious(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bootstrap(t)
	l1, l2 := e.pki.issue(t, ecdsaKey, "www.example.com"), e.pki.issue(t, ecdsaKey, "www.example.com")
	mustDeploy(t, e.tg, e.cfg, l1)
	e.host.set(func(h *fakeHost) { h.slow["bind"] = 30 * time.Second })
	cfg := e.cfg.Clone()
	cfg[fieldTimeout] = "5s"
	start := time.Now()
	_, err := deploy(t, e.tg, cfg, l2, false)
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the deployment took %s with a bind that hangs and timeout 5s", took)
	}
	if plugin.ErrorCode(err) != plugin.CodeDeadline || !strings.Contains(err.Error(), "is back on the binding") {
		t.Errorf("error = %v (code %s), want a deadline that restored the previous certificate", err, plugin.ErrorCode(err))
	}
	e.winrm.mu.Lock()
	signals := e.winrm.signals
	e.winrm.mu.Unlock()
	if signals == 0 {
		t.Error("the hanging command was never signalled to terminate")
	}
	e.wantBinding(t, "*:443:", l1.thumb, "My")
	e.wantClean(t)
}

func TestIISImportFailureChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	old := e.bootstrap(t)
	e.host.set(func(h *fakeHost) { h.failImport = "The data is invalid. (Exception from HRESULT: 0x8007000D)" })
	l1 := e.pki.issue(t, ecdsaKey, "www.example.com")
	_, err := deploy(t, e.tg, e.cfg, l1, false)
	wantCode(t, err, plugin.CodePermanent, "")
	if !strings.Contains(err.Error(), "The data is invalid") {
		t.Errorf("error %q lacks Import-PfxCertificate's message", err)
	}
	e.wantBinding(t, "*:443:", old.thumb, "My")
	e.wantClean(t)
}

func TestIISCredentialsAndAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bootstrap(t)
	l1 := e.pki.issue(t, ecdsaKey, "www.example.com")
	with := func(kv ...any) plugin.Config {
		c := e.cfg.Clone()
		for i := 0; i < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		return c
	}
	before := e.host.snapshot()
	for _, tc := range []struct {
		name  string
		cfg   plugin.Config
		field string
	}{
		{"ntlm_wrong_password", with(fieldPassword, wrongPassword), fieldPassword},
		{"ntlm_unknown_user", with(fieldUsername, "nobody"), fieldPassword},
		{"basic_not_enabled", with(fieldAuth, authBasic), fieldAuth},
		{"not_allowed_to_use_winrm", with(fieldUsername, "guest", fieldPassword, guestPassword), fieldUsername},
		{"not_an_administrator", with(fieldUsername, "operator", fieldPassword, operatorPassword), fieldUsername},
	} {
		for _, dry := range []bool{true, false} {
			_, err := deploy(t, e.tg, tc.cfg, l1, dry)
			wantCode(t, err, plugin.CodeInvalidConfig, tc.field)
			if err != nil && strings.Contains(err.Error(), tc.cfg.String(fieldPassword)) {
				t.Errorf("%s: the error quotes the password: %v", tc.name, err)
			}
		}
	}
	if after := e.host.snapshot(); after != before {
		t.Errorf("refused deployments changed the host:\nbefore %s\nafter %s", before, after)
	}
	// Basic once enabled, and NTLM with a domain-qualified name.
	e.winrm.mu.Lock()
	e.winrm.basic = true
	e.winrm.mu.Unlock()
	_, err := deploy(t, e.tg, with(fieldAuth, authBasic, fieldPassword, wrongPassword), l1, true)
	wantCode(t, err, plugin.CodeInvalidConfig, fieldPassword)
	if _, err := deploy(t, e.tg, with(fieldAuth, authBasic), l1, true); err != nil {
		t.Errorf("dry run with Basic: %v", err)
	}
	if _, err := deploy(t, e.tg, with(fieldUsername, ntlmDomain+`\Administrator`), l1, true); err != nil {
		t.Errorf("dry run as %s\\Administrator: %v", ntlmDomain, err)
	}
	// With auth ntlm, a host that offers only Basic never gets the
	// password in Basic.
	e.winrm.mu.Lock()
	e.winrm.noNegotiate, e.winrm.basicSeen = true, 0
	e.winrm.mu.Unlock()
	_, err = deploy(t, e.tg, e.cfg, l1, true)
	wantCode(t, err, plugin.CodeInvalidConfig, fieldAuth)
	e.winrm.mu.Lock()
	basicSeen := e.winrm.basicSeen
	e.winrm.mu.Unlock()
	if basicSeen != 0 {
		t.Errorf("with auth ntlm, %d requests carried Basic credentials", basicSeen)
	}
	e.wantClean(t)
}

func TestIISDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	old := e.bootstrap(t)
	l1 := e.pki.issue(t, ecdsaKey, "www.example.com")
	before := e.host.snapshot()
	res, err := deploy(t, e.tg, e.cfg, l1, true)
	if err != nil || res.Changed {
		t.Fatalf("dry run = %+v, %v; want success, Changed false", res, err)
	}
	for _, want := range []string{"has certificate " + old.thumb, "would be imported and bound", "is writable"} {
		if !strings.Contains(res.Message, want) {
			t.Errorf("dry run message %q lacks %q", res.Message, want)
		}
	}
	if after := e.host.snapshot(); after != before {
		t.Errorf("the dry run changed the host:\nbefore %s\nafter %s", before, after)
	}
	if ops := e.host.opsSince(0); !slices.Equal(ops, []string{"probe"}) {
		t.Errorf("the dry run ran %v, want only the probe", ops)
	}
	with := func(k string, v any) plugin.Config { c := e.cfg.Clone(); c[k] = v; return c }
	_, err = deploy(t, e.tg, with(fieldSite, "Shop"), l1, true)
	wantCode(t, err, plugin.CodeInvalidConfig, fieldSite)
	_, err = deploy(t, e.tg, with(fieldStore, "Missing"), l1, true)
	wantCode(t, err, plugin.CodeInvalidConfig, fieldStore)
	e.host.set(func(h *fakeHost) { h.webAdministration = false })
	_, err = deploy(t, e.tg, e.cfg, l1, true)
	wantCode(t, err, plugin.CodePermanent, "")
	if err != nil && !strings.Contains(err.Error(), "WebAdministration") {
		t.Errorf("error %q does not name the missing module", err)
	}
	if after := e.host.snapshot(); after != before {
		t.Errorf("failed dry runs changed the host:\nbefore %s\nafter %s", before, after)
	}
	e.wantClean(t)
}

func TestIISSecretsWithheldWhenPowershellFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bootstrap(t)
	l1 := e.pki.issue(t, ecdsaKey, "www.example.com")
	e.host.set(func(h *fakeHost) { h.crash["import"] = true })
	_, err := deploy(t, e.tg, e.cfg, l1, false)
	wantCode(t, err, plugin.CodePermanent, "")
	if err != nil && !strings.Contains(err.Error(), "withheld") {
		t.Errorf("error %q does not say the output was withheld", err)
	}
	e.host.mu.Lock()
	seen := append(append([]string{}, e.host.pfxPasswords...), e.host.chunks...)
	e.host.mu.Unlock()
	for _, s := range seen {
		for _, part := range []string{s, s[:min(len(s), 16)]} {
			if err != nil && strings.Contains(err.Error(), part) {
				t.Errorf("the error holds PFX material: %v", err)
			}
		}
	}
	e.wantClean(t)
	// A script without secrets has its error shown, decoded.
	e.host.set(func(h *fakeHost) { h.crash["probe"] = true })
	_, err = deploy(t, e.tg, e.cfg, l1, true)
	if err == nil || !strings.Contains(err.Error(), "Unexpected token in expression or statement.") {
		t.Errorf("error %v lacks PowerShell's message", err)
	}
}

func TestIISLargePfxInChunks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bootstrap(t)
	l1 := e.pki.issue(t, rsa4096Key, "www.example.com")
	mustDeploy(t, e.tg, e.cfg, l1)
	uploads := 0
	for _, op := range e.host.opsSince(0) {
		if op == "upload" {
			uploads++
		}
	}
	if uploads < 3 {
		t.Errorf("an RSA-4096 PFX with its chain went in %d upload commands, want several", uploads)
	}
	e.winrm.mu.Lock()
	longest := e.winrm.maxCommand
	e.winrm.mu.Unlock()
	if longest > maxCommandLine || longest < maxCommandLine-200 {
		t.Errorf("the longest command line is %d characters, want just under %d", longest, maxCommandLine)
	}
	e.wantBinding(t, "*:443:", l1.thumb, "My")
	e.wantServed(t, "", l1)
	e.wantClean(t)
}

func TestIISLegacy3desPfx(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bootstrap(t)
	l1 := e.pki.issue(t, rsa2048Key, "www.example.com")
	cfg := e.cfg.Clone()
	cfg[fieldPFXEncryption] = pfx3DES
	mustDeploy(t, e.tg, cfg, l1)
	e.wantBinding(t, "*:443:", l1.thumb, "My")
}

func TestIISSniBindingCreated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bootstrap(t)
	l1 := e.pki.issue(t, ecdsaKey, "shop.example.com")
	cfg := e.cfg.Clone()
	cfg[fieldBindingHost] = "shop.example.com"
	cfg[fieldStore] = "WebHosting"
	cfg[fieldVerifyAddress] = e.tlsAddr
	res := mustDeploy(t, e.tg, cfg, l1)
	if res.Metadata["previous_thumbprint"] != "" {
		t.Errorf("previous_thumbprint = %q for a new binding", res.Metadata["previous_thumbprint"])
	}
	b := e.wantBinding(t, "*:443:shop.example.com", l1.thumb, "WebHosting")
	if b != nil && b.sslFlags != 1 {
		t.Errorf("the new binding has SslFlags %d, want 1 (SNI)", b.sslFlags)
	}
	e.wantServed(t, "shop.example.com", l1)
	if v := validate(t, e.tg, cfg, l1.serial); !v.Valid {
		t.Errorf("ValidateDeployment = %+v", v)
	}
	e.wantClean(t)
}

func TestIISValidateReportsWhatIsBound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	l1 := e.pki.issue(t, ecdsaKey, "www.example.com")
	if v := validate(t, e.tg, e.cfg, l1.serial); v.Valid || !strings.Contains(v.Message, "does not exist") {
		t.Errorf("ValidateDeployment without a binding = %+v", v)
	}
	e.host.addBinding(siteName, "*:443:", "", "", 0)
	if v := validate(t, e.tg, e.cfg, l1.serial); v.Valid || !strings.Contains(v.Message, "has no certificate") {
		t.Errorf("ValidateDeployment of a binding without a certificate = %+v", v)
	}
	cfg := e.cfg.Clone()
	cfg[fieldSite] = "Shop"
	_, err := e.tg.ValidateDeployment(ctxFor(t), plugin.ValidateDeploymentRequest{Config: cfg, SerialNumber: l1.serial})
	wantCode(t, err, plugin.CodeInvalidConfig, fieldSite)
	_, err = e.tg.ValidateDeployment(ctxFor(t), plugin.ValidateDeploymentRequest{Config: e.cfg, SerialNumber: "not hex"})
	wantCode(t, err, plugin.CodeInvalidInput, "")
	e.wantClean(t)
}

func TestIISBadCertificatesRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	l1, l2 := e.pki.issue(t, ecdsaKey, "www.example.com"), e.pki.issue(t, ecdsaKey, "www.example.com")
	mismatched := l1
	mismatched.keyPEM = l2.keyPEM
	_, err := deploy(t, e.tg, e.cfg, mismatched, false)
	wantCode(t, err, plugin.CodeInvalidInput, "")
	_, err = deploy(t, e.tg, e.cfg, e.pki.issue(t, ed25519Key, "www.example.com"), false)
	wantCode(t, err, plugin.CodeInvalidInput, "")
	if err != nil && !strings.Contains(err.Error(), "Ed25519") {
		t.Errorf("error %q does not name Ed25519", err)
	}
	if n := e.host.opCount(); n != 0 {
		t.Errorf("bad certificates reached the host: %d scripts ran", n)
	}
}

func TestIISUntrustedWinrmCertificate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	l1 := e.pki.issue(t, ecdsaKey, "www.example.com")
	cfg := e.cfg.Clone()
	delete(cfg, fieldCACertPEM)
	_, err := deploy(t, e.tg, cfg, l1, true)
	wantCode(t, err, plugin.CodeInvalidConfig, fieldCACertPEM)
	cfg[fieldInsecureSkipVerify] = true
	if _, err := deploy(t, e.tg, cfg, l1, true); err != nil {
		t.Errorf("dry run with insecure_skip_verify: %v", err)
	}
}

func TestIISUnreachableHostIsTransient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	l1 := e.pki.issue(t, ecdsaKey, "www.example.com")
	cfg := e.cfg.Clone()
	cfg[fieldPort] = closedPort(t)
	_, err := deploy(t, e.tg, cfg, l1, true)
	wantCode(t, err, plugin.CodeTransient, "")
}

// env is a fake Windows host with IIS behind a fake WinRM endpoint, and
// a configuration that reaches it.
type env struct {
	tg      plugin.Target // the plugin's process, the test's own
	logs    *syncBuffer   // the plugin's log
	host    *fakeHost
	winrm   *fakeWinRM
	tlsAddr string // http.sys: serves what the bindings have
	pki     *pki
	cfg     plugin.Config
	secrets *secretList
}

// newEnv starts the test's plugin process and fake host. When the test
// ends, the plugin's log must hold none of the secrets it used: that check
// is registered first so that it runs last, after the host has listed the
// passwords and chunks it saw.
func newEnv(t *testing.T) *env {
	t.Helper()
	secrets := &secretList{}
	secrets.add(adminPassword, operatorPassword, guestPassword, wrongPassword)
	logs := &syncBuffer{}
	t.Cleanup(func() { wantNoSecrets(t, logs.String(), secrets) })
	tg := openTarget(t, plugintest.Build(t, "."), logs)
	host := newFakeHost(t)
	w := newFakeWinRM(t, host, map[string]string{"Administrator": adminPassword, "operator": operatorPassword, "guest": guestPassword})
	w.mu.Lock()
	delete(w.remoteUsers, "guest") // neither Administrators nor Remote Management Users
	w.mu.Unlock()
	ip, port := w.addr()
	e := &env{tg: tg, logs: logs, host: host, winrm: w, tlsAddr: host.serveTLS(t), pki: newPKI(t, secrets), secrets: secrets,
		cfg: plugin.Config{fieldAddress: ip, fieldPort: port, fieldCACertPEM: w.caPEM(), fieldUsername: "Administrator",
			fieldPassword: adminPassword, fieldSite: siteName}}
	t.Cleanup(func() {
		host.mu.Lock()
		defer host.mu.Unlock()
		secrets.add(host.pfxPasswords...)
		secrets.add(host.chunks...)
	})
	return e
}

// wantNoSecrets fails t if the plugin's log holds a secret, a private key
// or the scripts' secret parameters.
func wantNoSecrets(t *testing.T, log string, secrets *secretList) {
	t.Helper()
	for _, s := range secrets.all() {
		if strings.Contains(log, s) {
			t.Errorf("the plugin's log holds a secret (%d characters, starting %q)", len(s), s[:4])
		}
	}
	for _, s := range []string{"PRIVATE KEY", "PfxPassword", "EncodedCommand"} {
		if strings.Contains(log, s) {
			t.Errorf("the plugin's log mentions %q", s)
		}
	}
}

// bootstrap binds a certificate to *:443: as a site in service has.
func (e *env) bootstrap(t *testing.T) leaf {
	t.Helper()
	l := e.pki.issue(t, ecdsaKey, "www.example.com")
	e.host.addCert("My", l.cert, l.key)
	e.host.addBinding(siteName, "*:443:", l.thumb, "My", 0)
	return l
}

// wantBinding checks the certificate of an https binding of the site.
func (e *env) wantBinding(t *testing.T, info, thumb, store string) *fakeBinding {
	t.Helper()
	b := e.host.binding(siteName, info)
	if b == nil {
		t.Errorf("site %q has no https binding %s", siteName, info)
		return nil
	}
	if b.hash != thumb || b.store != store {
		t.Errorf("binding %s has certificate %q in %q, want %q in %q", info, b.hash, b.store, thumb, store)
	}
	return b
}

// wantServed checks what http.sys serves for sni with a TLS handshake.
func (e *env) wantServed(t *testing.T, sni string, l leaf) {
	t.Helper()
	got, err := tlsprobe.Leaf(ctxFor(t), e.tlsAddr, sni)
	if err != nil {
		t.Errorf("TLS handshake with the site: %v", err)
		return
	}
	if tlsprobe.FormatSerial(got.SerialNumber) != l.serial {
		t.Errorf("the site serves serial %s, want %s", tlsprobe.FormatSerial(got.SerialNumber), l.serial)
	}
}

// wantClean checks that no temporary file is left on the host and that
// every shell was deleted.
func (e *env) wantClean(t *testing.T) {
	t.Helper()
	e.host.mu.Lock()
	temp := len(e.host.temp)
	e.host.mu.Unlock()
	if temp != 0 {
		t.Errorf("%d temporary files left on the host", temp)
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.winrm.openShells() != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := e.winrm.openShells(); n != 0 {
		t.Errorf("%d WinRM shells left open", n)
	}
}

func deploy(t *testing.T, tg plugin.Target, cfg plugin.Config, l leaf, dry bool) (plugin.DeployResult, error) {
	t.Helper()
	norm, err := schema.Normalize(cfg)
	if err != nil {
		t.Fatalf("the test's configuration: %v", err)
	}
	return tg.DeployCertificate(ctxFor(t), plugin.DeployRequest{Config: norm, CertificatePEM: l.certPEM, ChainPEM: l.chainPEM,
		PrivateKeyPEM: l.keyPEM, DryRun: dry, Metadata: map[string]string{"certificate_name": "iis-test"}})
}

func mustDeploy(t *testing.T, tg plugin.Target, cfg plugin.Config, l leaf) plugin.DeployResult {
	t.Helper()
	res, err := deploy(t, tg, cfg, l, false)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	return res
}

func validate(t *testing.T, tg plugin.Target, cfg plugin.Config, serial string) plugin.ValidateDeploymentResult {
	t.Helper()
	norm, err := schema.Normalize(cfg)
	if err != nil {
		t.Fatalf("the test's configuration: %v", err)
	}
	v, err := tg.ValidateDeployment(ctxFor(t), plugin.ValidateDeploymentRequest{Config: norm, SerialNumber: serial})
	if err != nil {
		t.Fatalf("ValidateDeployment: %v", err)
	}
	return v
}

func wantCode(t *testing.T, err error, code, field string) {
	t.Helper()
	if err == nil {
		t.Errorf("succeeded, want an error with code %s", code)
		return
	}
	if got := plugin.ErrorCode(err); got != code {
		t.Errorf("error %v has code %s, want %s", err, got, code)
	}
	var pe *plugin.Error
	if field != "" && (!errors.As(err, &pe) || pe.Field != field) {
		t.Errorf("error %v does not name field %s", err, field)
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// openTarget starts the plugin binary as an agent does, its log lines
// going to logs.
func openTarget(t *testing.T, bin string, logs *syncBuffer) plugin.Target {
	t.Helper()
	sockDir, err := os.MkdirTemp("", "cpt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := plugin.Open(ctx, plugin.OpenOptions{Path: bin, Kind: plugin.KindTarget, SocketDir: sockDir,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatalf("open the plugin: %v", err)
	}
	t.Cleanup(p.Kill)
	return p.Target()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// secretList collects what must never be logged.
type secretList struct {
	mu   sync.Mutex
	list []string
}

func (s *secretList) add(v ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range v {
		if len(x) >= 8 {
			s.list = append(s.list, x)
		}
	}
}

func (s *secretList) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string{}, s.list...)
}

// Key types of test certificates.
const (
	ecdsaKey = iota
	rsa2048Key
	rsa4096Key
	ed25519Key
)

// pki is a root CA and an intermediate that issue the test certificates.
type pki struct {
	root, inter           *x509.Certificate
	interKey              crypto.Signer
	rootThumb, interThumb string
	chainPEM              string
	secrets               *secretList
}

// leaf is a certificate to deploy.
type leaf struct {
	cert              *x509.Certificate
	key               crypto.PrivateKey
	certPEM, chainPEM string
	keyPEM            string
	thumb, serial     string
}

func newPKI(t *testing.T, secrets *secretList) *pki {
	t.Helper()
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	root := sign(t, &x509.Certificate{Subject: pkix.Name{CommonName: "certctl test root"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}, nil, rootKey.Public(), rootKey)
	interKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	inter := sign(t, &x509.Certificate{Subject: pkix.Name{CommonName: "certctl test intermediate"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, root, interKey.Public(), rootKey)
	return &pki{root: root, inter: inter, interKey: interKey, rootThumb: thumbprint(root), interThumb: thumbprint(inter),
		chainPEM: pemCert(inter) + pemCert(root), secrets: secrets}
}

func (p *pki) issue(t *testing.T, keyType int, name string) leaf {
	t.Helper()
	var key crypto.Signer
	var err error
	switch keyType {
	case ecdsaKey:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case rsa2048Key:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case rsa4096Key:
		key, err = rsa.GenerateKey(rand.Reader, 4096)
	case ed25519Key:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	c := sign(t, &x509.Certificate{Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
		p.inter, key.Public(), p.interKey)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	// The key's base64 lines must never be seen in a log.
	for _, line := range strings.Split(keyPEM, "\n")[1:] {
		if len(line) == 64 {
			p.secrets.add(line)
		}
	}
	return leaf{cert: c, key: key, certPEM: pemCert(c), chainPEM: p.chainPEM, keyPEM: keyPEM, thumb: thumbprint(c),
		serial: tlsprobe.FormatSerial(c.SerialNumber)}
}

func sign(t *testing.T, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) *x509.Certificate {
	t.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial.Add(serial, big.NewInt(1))
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pemCert(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}
