package sdkclient_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// TestBundle downloads an issued server-key certificate as PEM files and
// as PKCS#12, and checks what the files hold, their modes, and that the
// bundle never prints its key.
func TestBundle(t *testing.T) {
	t.Parallel()
	env, c := start(t)
	ctx := context.Background()
	iss := must(c.CreateIssuer(ctx, api.IssuerRequest{Name: "ca", Type: "local", Config: map[string]any{"ca_key_type": "ecdsa-p256"}}))(t)
	cert := must(c.CreateCertificate(ctx, api.CertificateRequest{Name: "app", CommonName: "app.example.com", IssuerID: iss.ID, KeyType: "rsa-2048"}))(t)
	if _, err := c.GetBundle(ctx, cert.ID, client.BundleOptions{}); !client.IsNotFound(err) {
		t.Errorf("bundle of a certificate not issued yet: %v; want not found", err)
	}
	env.RunJobs(t)

	noKey := must(c.GetBundle(ctx, cert.ID, client.BundleOptions{}))(t)
	if noKey.PrivateKeyPEM != nil || noKey.Version.SerialNumber == "" {
		t.Fatalf("bundle without key = %v", noKey)
	}
	if _, err := noKey.PKCS12("pw"); err == nil {
		t.Error("PKCS#12 without a key was made")
	}

	b := must(c.GetBundle(ctx, cert.ID, client.BundleOptions{IncludeKey: true}))(t)
	leaf := parseCert(t, string(b.CertificatePEM))
	caCert := parseCert(t, iss.Config["ca_certificate_pem"].(string))
	if err := leaf.CheckSignatureFrom(caCert); err != nil {
		t.Errorf("leaf not signed by the issuer: %v", err)
	}
	if !bytes.Equal(b.FullchainPEM(), append(append([]byte{}, b.CertificatePEM...), b.ChainPEM...)) {
		t.Error("fullchain is not cert + chain")
	}

	// PEM files, over older files with looser modes.
	dir := t.TempDir()
	for _, name := range []string{client.KeyFileName, client.CertFileName} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("old"), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	written := must(b.WritePEMFiles(dir))(t)
	if len(written) != 4 {
		t.Errorf("written %q", written)
	}
	wantMode := map[string]os.FileMode{client.CertFileName: 0o644, client.ChainFileName: 0o644, client.FullchainFileName: 0o644, client.KeyFileName: 0o600}
	entries := must(os.ReadDir(dir))(t)
	if len(entries) != 4 {
		t.Errorf("directory holds %d entries (temporary files left?): %v", len(entries), entries)
	}
	for name, mode := range wantMode {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if runtime.GOOS != "windows" && st.Mode().Perm() != mode {
			t.Errorf("%s mode %v, want %v", name, st.Mode().Perm(), mode)
		}
	}
	keyPEM := must(os.ReadFile(filepath.Join(dir, client.KeyFileName)))(t)
	block, _ := pem.Decode(keyPEM)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("privkey.pem holds %.40q", keyPEM)
	}
	key := must(x509.ParsePKCS8PrivateKey(block.Bytes))(t)
	if !key.(interface{ Public() crypto.PublicKey }).Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(leaf.PublicKey) {
		t.Error("the key does not match the certificate")
	}
	if got := must(os.ReadFile(filepath.Join(dir, client.FullchainFileName)))(t); !bytes.Equal(got, b.FullchainPEM()) {
		t.Error("fullchain.pem differs from FullchainPEM")
	}

	// PKCS#12 with the caller's password, read back.
	p12 := filepath.Join(dir, "app.p12")
	if err := b.WritePKCS12(p12, "correct horse"); err != nil {
		t.Fatal(err)
	}
	if st := must(os.Stat(p12))(t); runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("p12 mode %v", st.Mode().Perm())
	}
	data := must(os.ReadFile(p12))(t)
	k2, c2, chain, err := pkcs12.DecodeChain(data, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !c2.Equal(leaf) || len(chain) != strings.Count(string(b.ChainPEM), "BEGIN CERTIFICATE") ||
		!k2.(interface{ Public() crypto.PublicKey }).Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(leaf.PublicKey) {
		t.Errorf("PKCS#12 holds cert %s, %d chain certificates", c2.Subject, len(chain))
	}
	if _, _, _, err := pkcs12.DecodeChain(data, "wrong"); err == nil {
		t.Error("PKCS#12 opened with a wrong password")
	}
	if _, err := b.PKCS12(""); err == nil {
		t.Error("PKCS#12 with an empty password was made")
	}

	// The key never shows when the bundle is printed or logged.
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("bundle", "b", *b)
	for _, s := range []string{fmt.Sprint(*b), fmt.Sprintf("%v %+v %#v %s", *b, *b, *b, *b), logged.String()} {
		if strings.Contains(s, "PRIVATE KEY") || strings.Contains(s, strings.Split(string(keyPEM), "\n")[2]) {
			t.Errorf("the key shows in %q", s)
		}
	}
}

// TestFindByName finds each kind of resource by its name, exactly (a
// longer name with the same start is not it), and says not found for none.
func TestFindByName(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	ctx := context.Background()
	iss := must(c.CreateIssuer(ctx, api.IssuerRequest{Name: "ca", Type: "local", Config: map[string]any{"ca_key_type": "ecdsa-p256"}}))(t)
	must(c.CreateIssuer(ctx, api.IssuerRequest{Name: "ca-2", Type: "local", Config: map[string]any{"ca_key_type": "ecdsa-p256"}}))(t)
	var www *api.Certificate
	for _, name := range []string{"www-2", "www", "www-3"} {
		cert := must(c.CreateCertificate(ctx, api.CertificateRequest{Name: name, CommonName: name + ".example.com", IssuerID: iss.ID}))(t)
		if name == "www" {
			www = cert
		}
	}
	tgt := must(c.CreateTarget(ctx, api.TargetRequest{Name: "web", Type: "nginx", Config: map[string]any{"certificate_path": "/etc/ssl/w.pem"}}))(t)
	hook := must(c.CreateNotifier(ctx, api.NotifierRequest{Name: "hook", Type: "webhook", Config: map[string]any{"url": "https://hooks.example.com/x"}}))(t)
	pol := must(c.CreateRenewalPolicy(ctx, api.RenewalPolicyRequest{Name: "short", Mode: "days_before", DaysBeforeExpiry: 10}))(t)
	tok := must(c.CreateEnrollmentToken(ctx, api.EnrollmentTokenRequest{AgentName: "web-01"}))(t)
	enr := must(must(client.New(c.BaseURL()))(t).EnrollAgent(ctx, api.AgentEnrollRequest{Token: tok.Token}))(t)

	if got := must(c.FindCertificate(ctx, "www"))(t); got.ID != www.ID {
		t.Errorf("FindCertificate(www) = %s", got.Name)
	}
	if got := must(c.FindIssuer(ctx, "ca"))(t); got.ID != iss.ID {
		t.Errorf("FindIssuer(ca) = %s", got.Name)
	}
	if got := must(c.FindTarget(ctx, "web"))(t); got.ID != tgt.ID {
		t.Errorf("FindTarget = %s", got.Name)
	}
	if got := must(c.FindNotifier(ctx, "hook"))(t); got.ID != hook.ID {
		t.Errorf("FindNotifier = %s", got.Name)
	}
	if got := must(c.FindRenewalPolicy(ctx, "short"))(t); got.ID != pol.ID {
		t.Errorf("FindRenewalPolicy = %s", got.Name)
	}
	if got := must(c.FindAgent(ctx, "web-01"))(t); got.ID != enr.Agent.ID {
		t.Errorf("FindAgent = %s", got.Name)
	}
	for what, err := range map[string]error{
		"certificate": second(c.FindCertificate(ctx, "ww")),
		"issuer":      second(c.FindIssuer(ctx, "c")),
		"target":      second(c.FindTarget(ctx, "nope")),
		"notifier":    second(c.FindNotifier(ctx, "nope")),
		"policy":      second(c.FindRenewalPolicy(ctx, "nope")),
		"agent":       second(c.FindAgent(ctx, "web")),
	} {
		if !client.IsNotFound(err) {
			t.Errorf("find a missing %s: %v; want not found", what, err)
		}
	}
	if _, err := c.FindCertificate(ctx, ""); err == nil || client.IsNotFound(err) {
		t.Errorf("find with an empty name: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }
