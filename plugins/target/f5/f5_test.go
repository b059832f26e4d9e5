package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

const profileWWW = "/Common/www_clientssl"

// The tests below deploy through the plugin's real process (built from
// this package and started as a host starts it, openPlugin) to a fake
// BIG-IP of their own.
func TestDeployRedeployAndRenew(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	f := newFakeBigIP(t, "s3cret-Passw0rd!")
	vsAddr := f.serveVirtual("/Common/vs_www")
	target, logs := openPlugin(t)
	cfg := f.config(fieldVirtualServer, "vs_www", fieldVerifyAddress, vsAddr)
	l1 := ca.issue(t, "www.example.com")

	res, err := deploy(t, target, cfg, l1, false)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	if !res.Changed {
		t.Errorf("first deployment: Changed false (%s)", res.Message)
	}
	base1 := "/Common/certctl-www-" + l1.serial.Text(16)
	want := []fakeChainEntry{{Name: "default", Cert: base1 + ".crt", Key: base1 + ".key", Chain: base1 + "-chain.crt"}}
	if got := f.profileChain(profileWWW); !slices.Equal(got, want) {
		t.Errorf("profile certKeyChain = %+v, want %+v", got, want)
	}
	if !f.hasCert(base1+".crt") || !f.hasKey(base1+".key") || !f.hasCert(base1+"-chain.crt") {
		t.Errorf("objects %s.crt, .key, -chain.crt not all installed", base1)
	}
	if got := f.attached("/Common/vs_www"); !slices.Contains(got, profileWWW) {
		t.Errorf("vs_www profiles = %v, want %s attached", got, profileWWW)
	}
	if left := f.uploadedFiles(); len(left) > 0 {
		t.Errorf("uploaded files left on the BIG-IP's disk: %v", left)
	}
	checkTokensDeleted(t, f)
	checkValid(t, target, cfg, l1.serial)

	// The same certificate again: nothing uploaded, nothing changed.
	n := len(f.callsSnapshot())
	res, err = deploy(t, target, cfg, l1, false)
	if err != nil {
		t.Fatalf("redeploy: %v", err)
	}
	if res.Changed {
		t.Errorf("redeploying the same certificate: Changed true (%s)", res.Message)
	}
	if up, w := f.uploads(n), f.writes(n); up != 0 || len(w) != 0 {
		t.Errorf("redeploying the same certificate made %d uploads and writes %v, want none", up, w)
	}
	checkTokensDeleted(t, f)

	// A renewed certificate: the profile switches in one transaction.
	l2 := ca.issue(t, "www.example.com")
	n = len(f.callsSnapshot())
	if res, err = deploy(t, target, cfg, l2, false); err != nil {
		t.Fatalf("deploy the renewed certificate: %v", err)
	}
	if !res.Changed {
		t.Errorf("renewed certificate: Changed false (%s)", res.Message)
	}
	checkOneTransaction(t, f, n)
	base2 := "/Common/certctl-www-" + l2.serial.Text(16)
	if name, serial := f.profileCert(profileWWW); name != base2+".crt" || serial.Cmp(l2.serial) != 0 {
		t.Errorf("profile references %s (serial %v), want %s.crt (serial %x)", name, serial, base2, l2.serial)
	}
	if f.hasCert(base1+".crt") || f.hasKey(base1+".key") || f.hasCert(base1+"-chain.crt") {
		t.Errorf("the replaced certificate's objects %s.* were not removed", base1)
	}
	if res.Metadata["transaction"] == "" || res.Metadata["certificate"] != base2+".crt" {
		t.Errorf("metadata = %v, want the transaction and certificate", res.Metadata)
	}
	checkValid(t, target, cfg, l2.serial)
	v, err := target.ValidateDeployment(ctxT(t), plugin.ValidateDeploymentRequest{Config: cfg, SerialNumber: l1.serial.Text(16)})
	if err != nil || v.Valid || v.ServedSerial != l2.serial.Text(16) {
		t.Errorf("ValidateDeployment of the replaced serial = %+v, %v; want Valid false, served %x", v, err, l2.serial)
	}
	checkTokensDeleted(t, f)
	if !strings.Contains(logs.String(), "certificate deployed") {
		t.Errorf("the plugin's log did not reach the host:\n%s", logs)
	}
	checkNoSecrets(t, logs.String(), f, l1, l2)
}

func TestFailureInsideTransactionKeepsOldCertificate(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	f := newFakeBigIP(t, "s3cret-Passw0rd!")
	target, logs := openPlugin(t)
	cfg := f.config()
	l1, l2 := ca.issue(t, "www.example.com"), ca.issue(t, "www.example.com")
	if _, err := deploy(t, target, cfg, l1, false); err != nil {
		t.Fatal(err)
	}
	f.setFault(func(c fakeCall) *fakeReply {
		if c.Method == http.MethodPatch && strings.HasPrefix(c.Path, profilePath+"/") && c.Txn != "" {
			r := f5Error(500, "01070734:3: Configuration error: simulated failure")
			return &r
		}
		return nil
	})
	n := len(f.callsSnapshot())
	_, err := deploy(t, target, cfg, l2, false)
	if code := plugin.ErrorCode(err); code != plugin.CodeTransient {
		t.Fatalf("deploy with the profile PATCH failing: %v (code %s), want code transient", err, code)
	}
	if !strings.Contains(err.Error(), "01070734:3: Configuration error: simulated failure") {
		t.Errorf("error %q does not quote the BIG-IP's message", err)
	}
	if name, serial := f.profileCert(profileWWW); serial == nil || serial.Cmp(l1.serial) != 0 {
		t.Errorf("after the failure the profile references %s (serial %v), want the old serial %x", name, serial, l1.serial)
	}
	checkNoOpenTransaction(t, f, n)
	checkValid(t, target, cfg, l1.serial)
	checkTokensDeleted(t, f)

	// Once the BIG-IP recovers, a retry reuses the objects installed
	// by the failed attempt and switches the profile.
	f.setFault(nil)
	n = len(f.callsSnapshot())
	res, err := deploy(t, target, cfg, l2, false)
	if err != nil || !res.Changed {
		t.Fatalf("retry: %+v, %v", res, err)
	}
	if up := f.uploads(n); up != 0 {
		t.Errorf("the retry uploaded %d files again, want 0: the objects were installed already", up)
	}
	checkOneTransaction(t, f, n)
	checkValid(t, target, cfg, l2.serial)
	checkNoSecrets(t, logs.String(), f, l1, l2)
}

func TestCommitRefusedKeepsOldCertificate(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	f := newFakeBigIP(t, "s3cret-Passw0rd!")
	target, _ := openPlugin(t)
	cfg := f.config()
	l1, l2 := ca.issue(t, "www.example.com"), ca.issue(t, "www.example.com")
	if _, err := deploy(t, target, cfg, l1, false); err != nil {
		t.Fatal(err)
	}
	f.setFailCommit("01071ac5:3: simulated validation failure")
	n := len(f.callsSnapshot())
	_, err := deploy(t, target, cfg, l2, false)
	if code := plugin.ErrorCode(err); code != plugin.CodePermanent || !strings.Contains(err.Error(), "01071ac5:3") {
		t.Fatalf("deploy with the commit refused: %v (code %s), want a permanent error quoting the BIG-IP", err, code)
	}
	if _, serial := f.profileCert(profileWWW); serial == nil || serial.Cmp(l1.serial) != 0 {
		t.Errorf("after the refused commit the profile references serial %v, want %x", serial, l1.serial)
	}
	checkNoOpenTransaction(t, f, n)
	checkTokensDeleted(t, f)
}

func TestWrongPassword(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	f := newFakeBigIP(t, "the-right-one")
	target, logs := openPlugin(t)
	cfg := f.config()
	const wrong = "Wr0ng-Passw0rd-4242"
	cfg[fieldPassword] = wrong
	l := ca.issue(t, "www.example.com")
	for _, dry := range []bool{false, true} {
		_, err := deploy(t, target, cfg, l, dry)
		checkInvalid(t, err, fieldPassword, wrong)
	}
	_, err := target.ValidateDeployment(ctxT(t), plugin.ValidateDeploymentRequest{Config: cfg, SerialNumber: l.serial.Text(16)})
	checkInvalid(t, err, fieldPassword, wrong)
	if w := f.writes(0); len(w) != 0 {
		t.Errorf("writes with a wrong password: %v", w)
	}
	if strings.Contains(logs.String(), wrong) {
		t.Errorf("the log holds the password")
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	f := newFakeBigIP(t, "s3cret-Passw0rd!")
	f.serveVirtual("/Common/vs_www")
	target, logs := openPlugin(t)
	cfg := f.config(fieldVirtualServer, "vs_www")
	l1, l2 := ca.issue(t, "www.example.com"), ca.issue(t, "www.example.com")

	res, err := deploy(t, target, cfg, l1, true)
	if err != nil || res.Changed || !strings.Contains(res.Message, "would") || !strings.Contains(res.Message, "create "+profileWWW) {
		t.Errorf("dry run on a fresh BIG-IP = %+v, %v; want Changed false and a plan creating the profile", res, err)
	}
	if w := f.writes(0); len(w) != 0 {
		t.Errorf("the dry run wrote: %v", w)
	}
	if name, _ := f.profileCert(profileWWW); name != "" {
		t.Errorf("the dry run created the profile")
	}
	checkTokensDeleted(t, f)

	if _, err := deploy(t, target, cfg, l1, false); err != nil {
		t.Fatal(err)
	}
	n := len(f.callsSnapshot())
	res, err = deploy(t, target, cfg, l2, true)
	if err != nil || res.Changed || !strings.Contains(res.Message, "switch "+profileWWW) {
		t.Errorf("dry run of a renewal = %+v, %v; want a plan switching the profile", res, err)
	}
	res, err = deploy(t, target, cfg, l1, true)
	if err != nil || res.Changed || !strings.Contains(res.Message, "nothing would be done") {
		t.Errorf("dry run of what is deployed = %+v, %v; want nothing to do", res, err)
	}
	if w := f.writes(n); len(w) != 0 {
		t.Errorf("the dry runs wrote: %v", w)
	}
	checkTokensDeleted(t, f)

	// A dry run finds what the configuration gets wrong.
	for _, c := range []struct {
		field string
		cfg   plugin.Config
	}{
		{fieldPartition, with(cfg, fieldPartition, "Tenant9")},
		{fieldParentProfile, with(with(cfg, fieldProfile, "other_clientssl"), fieldParentProfile, "/Common/no_such_parent")},
		{fieldVirtualServer, with(cfg, fieldVirtualServer, "vs_missing")},
	} {
		_, err := deploy(t, target, c.cfg, l2, true)
		checkInvalid(t, err, c.field, "")
	}
	checkNoSecrets(t, logs.String(), f, l1, l2)
}

func TestTokenExpiringDuringDeployment(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	f := newFakeBigIP(t, "s3cret-Passw0rd!")
	f.setTokenMaxUses(5)
	target, _ := openPlugin(t)
	cfg := f.config()
	l := ca.issue(t, "www.example.com")
	res, err := deploy(t, target, cfg, l, false)
	if err != nil || !res.Changed {
		t.Fatalf("deploy with short-lived tokens: %+v, %v", res, err)
	}
	if n := len(f.allTokens()); n < 2 {
		t.Errorf("%d logins, want more than one (the token expired)", n)
	}
	checkTokensDeleted(t, f)
	checkValid(t, target, cfg, l.serial)
}

func TestAttachDeployedCertificateToVirtualServer(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	f := newFakeBigIP(t, "s3cret-Passw0rd!")
	vsAddr := f.serveVirtual("/Common/vs_www")
	target, _ := openPlugin(t)
	l := ca.issue(t, "www.example.com")
	if _, err := deploy(t, target, f.config(), l, false); err != nil {
		t.Fatal(err)
	}
	cfg := f.config(fieldVirtualServer, "/Common/vs_www", fieldVerifyAddress, vsAddr)
	v, err := target.ValidateDeployment(ctxT(t), plugin.ValidateDeploymentRequest{Config: cfg, SerialNumber: l.serial.Text(16)})
	if code := plugin.ErrorCode(err); code != plugin.CodeTransient || v.Valid {
		t.Errorf("ValidateDeployment before the profile is attached: %+v, %v (code %s); want a transient handshake failure", v, err, code)
	}
	n := len(f.callsSnapshot())
	res, err := deploy(t, target, cfg, l, false)
	if err != nil || !res.Changed || !strings.Contains(res.Message, "attached it to /Common/vs_www") {
		t.Fatalf("deploy with virtual_server: %+v, %v; want the profile attached", res, err)
	}
	if up := f.uploads(n); up != 0 {
		t.Errorf("%d uploads, want none: the certificate was installed already", up)
	}
	checkOneTransaction(t, f, n)
	checkValid(t, target, cfg, l.serial)
	n = len(f.callsSnapshot())
	if res, err = deploy(t, target, cfg, l, false); err != nil || res.Changed || len(f.writes(n)) > 0 {
		t.Errorf("deploying again: %+v, %v, writes %v; want nothing changed", res, err, f.writes(n))
	}
}

func TestOtherPartitionWithoutChain(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	f := newFakeBigIP(t, "s3cret-Passw0rd!")
	f.addPartition("Tenant1")
	target, _ := openPlugin(t)
	cfg := f.config(fieldPartition, "Tenant1", fieldNamePrefix, "acme")
	l := ca.issue(t, "api.example.com")
	l.chain = ""
	if _, err := deploy(t, target, cfg, l, false); err != nil {
		t.Fatal(err)
	}
	base := "/Tenant1/acme-www-" + l.serial.Text(16)
	want := []fakeChainEntry{{Name: "default", Cert: base + ".crt", Key: base + ".key"}}
	if got := f.profileChain("/Tenant1/www_clientssl"); !slices.Equal(got, want) {
		t.Errorf("certKeyChain = %+v, want %+v", got, want)
	}
	checkValid(t, target, cfg, l.serial)
}

func TestUnreachableOrUntrustedBIGIP(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	f := newFakeBigIP(t, "s3cret-Passw0rd!")
	target, _ := openPlugin(t)
	l := ca.issue(t, "www.example.com")

	_, err := deploy(t, target, with(f.config(), fieldAddress, "https://"+closedAddr(t)), l, false)
	if code := plugin.ErrorCode(err); code != plugin.CodeTransient {
		t.Errorf("deploy to a closed port: %v (code %s), want transient", err, code)
	}
	_, err = deploy(t, target, with(f.config(), fieldCACertPEM, nil), l, false)
	checkInvalid(t, err, fieldCACertPEM, "")
	res, err := deploy(t, target, with(with(f.config(), fieldCACertPEM, nil), fieldInsecureSkipVerify, true), l, false)
	if err != nil || !res.Changed {
		t.Errorf("deploy with insecure_skip_verify: %+v, %v", res, err)
	}
	f.setFault(func(c fakeCall) *fakeReply {
		r := f5Error(503, "Service Unavailable: restjavad is restarting")
		return &r
	})
	_, err = target.ValidateDeployment(ctxT(t), plugin.ValidateDeploymentRequest{Config: f.config(), SerialNumber: l.serial.Text(16)})
	if code := plugin.ErrorCode(err); code != plugin.CodeTransient || !strings.Contains(err.Error(), "restjavad is restarting") {
		t.Errorf("ValidateDeployment with the BIG-IP answering 503: %v (code %s), want transient quoting the message", err, code)
	}
}

// checkOneTransaction checks the calls since index from: exactly one
// transaction, committed, every LTM change inside it carrying its id,
// the commit without it, and nothing changed outside it.
func checkOneTransaction(t *testing.T, f *fakeBigIP, from int) {
	t.Helper()
	calls := f.callsSnapshot()[from:]
	var id string
	opened, committed := 0, 0
	for _, c := range calls {
		switch {
		case c.Method == http.MethodPost && c.Path == "/mgmt/tm/transaction":
			opened++
		case c.Method == http.MethodPatch && strings.HasPrefix(c.Path, "/mgmt/tm/transaction/"):
			committed++
			id = strings.TrimPrefix(c.Path, "/mgmt/tm/transaction/")
			if c.Txn != "" {
				t.Errorf("the commit carried %s", headerTransaction)
			}
		}
	}
	if opened != 1 || committed != 1 {
		t.Fatalf("%d transactions opened and %d committed, want 1 and 1", opened, committed)
	}
	if state := f.transactions()[id]; state != "COMPLETED" {
		t.Errorf("transaction %s is %q, want COMPLETED", id, state)
	}
	changes := 0
	for _, c := range calls {
		if c.Method == http.MethodGet || !strings.HasPrefix(c.Path, "/mgmt/tm/ltm/") {
			continue
		}
		changes++
		if c.Txn != id {
			t.Errorf("%s %s carried %s %q, want %q", c.Method, c.Path, headerTransaction, c.Txn, id)
		}
	}
	if changes == 0 {
		t.Errorf("no LTM change went into the transaction")
	}
	if v := f.violationsSnapshot(); len(v) > 0 {
		t.Errorf("calls outside the transaction: %v", v)
	}
}

// checkNoOpenTransaction checks that the transactions opened since
// call index from were discarded or failed, none left open or completed.
func checkNoOpenTransaction(t *testing.T, f *fakeBigIP, from int) {
	t.Helper()
	for id, state := range f.transactions() {
		if state == "STARTED" {
			t.Errorf("transaction %s was left open", id)
		}
	}
	for _, c := range f.callsSnapshot()[from:] {
		if c.Method == http.MethodPatch && strings.HasPrefix(c.Path, "/mgmt/tm/transaction/") && c.Status == http.StatusOK {
			t.Errorf("a transaction was committed: %s", c.Path)
		}
	}
	if v := f.violationsSnapshot(); len(v) > 0 {
		t.Errorf("calls outside the transaction: %v", v)
	}
}

func checkTokensDeleted(t *testing.T, f *fakeBigIP) {
	t.Helper()
	if live := f.liveTokens(); len(live) > 0 {
		t.Errorf("%d login tokens left live on the BIG-IP, want all deleted", len(live))
	}
}

func checkValid(t *testing.T, target plugin.Target, cfg plugin.Config, serial *big.Int) {
	t.Helper()
	v, err := target.ValidateDeployment(ctxT(t), plugin.ValidateDeploymentRequest{Config: cfg, SerialNumber: serial.Text(16)})
	if err != nil || !v.Valid || v.ServedSerial != serial.Text(16) {
		t.Errorf("ValidateDeployment = %+v, %v; want Valid, serial %x", v, err, serial)
	}
}

// checkInvalid checks that err is an invalid configuration naming field
// and not quoting secret.
func checkInvalid(t *testing.T, err error, field, secret string) {
	t.Helper()
	var pe *plugin.Error
	if !errors.As(err, &pe) || pe.Code != plugin.CodeInvalidConfig || pe.Field != field {
		t.Errorf("error %v, want invalid_config on %s", err, field)
		return
	}
	if secret != "" && strings.Contains(err.Error(), secret) {
		t.Errorf("the error quotes the password: %v", err)
	}
}

// checkNoSecrets checks that the plugin's log holds neither the password,
// nor a login token, nor a private key.
func checkNoSecrets(t *testing.T, logs string, f *fakeBigIP, leaves ...testLeaf) {
	t.Helper()
	if strings.Contains(logs, f.password) {
		t.Errorf("the log holds the password")
	}
	for _, tok := range f.allTokens() {
		if strings.Contains(logs, tok) {
			t.Errorf("the log holds a login token")
		}
	}
	for _, l := range leaves {
		block, _ := pem.Decode([]byte(l.key))
		for _, line := range strings.Split(string(pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: block.Bytes})), "\n") {
			if len(line) >= 40 && !strings.HasPrefix(line, "-----") && strings.Contains(logs, line) {
				t.Errorf("the log holds private key material")
			}
		}
	}
}

// config returns a configuration for the fake's profile www_clientssl,
// trusting its TLS certificate, with extra fields as name, value pairs.
func (f *fakeBigIP) config(extra ...any) plugin.Config {
	cfg := plugin.Config{fieldAddress: f.address(), fieldUsername: f.user, fieldPassword: f.password,
		fieldProfile: "www_clientssl", fieldCACertPEM: f.caPEM(), fieldTimeout: "10s"}
	for i := 0; i+1 < len(extra); i += 2 {
		cfg[extra[i].(string)] = extra[i+1]
	}
	return cfg
}

// with returns a copy of cfg with field set to v, or removed for nil.
func with(cfg plugin.Config, field string, v any) plugin.Config {
	c := cfg.Clone()
	if v == nil {
		delete(c, field)
	} else {
		c[field] = v
	}
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func deploy(t *testing.T, target plugin.Target, cfg plugin.Config, l testLeaf, dryRun bool) (plugin.DeployResult, error) {
	t.Helper()
	return target.DeployCertificate(ctxT(t), plugin.DeployRequest{Config: cfg, CertificatePEM: l.cert, ChainPEM: l.chain,
		PrivateKeyPEM: l.key, Metadata: map[string]string{"certificate_name": "www"}, DryRun: dryRun})
}

// openPlugin starts the plugin binary as a host does, its log lines
// going to the returned buffer.
func openPlugin(t *testing.T) (plugin.Target, *syncBuffer) {
	t.Helper()
	bin := plugintest.Build(t, ".")
	sockDir, err := os.MkdirTemp("", "cpf5")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	logs := &syncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := plugin.Open(ctx, plugin.OpenOptions{Path: bin, Kind: plugin.KindTarget, SocketDir: sockDir,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatalf("open plugin: %v", err)
	}
	t.Cleanup(p.Kill)
	if p.Target() == nil {
		t.Fatal("the plugin process does not serve a target")
	}
	return p.Target(), logs
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
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

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// testCA is a throwaway certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: randomSerial(t), Subject: pkix.Name{CommonName: "f5 test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// testLeaf is a server certificate, its chain and key, as PEM.
type testLeaf struct {
	cert, chain, key string
	serial           *big.Int
}

func (ca *testCA) issue(t testing.TB, cn string) testLeaf {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: randomSerial(t), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return testLeaf{cert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), chain: ca.pem,
		key: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})), serial: tmpl.SerialNumber}
}

func randomSerial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return n.Add(n, big.NewInt(1))
}
