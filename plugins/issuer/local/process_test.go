// A test through the real plugin process: the binary is built, started by
// the SDK's host side and called over gRPC, which proves the Serve wiring,
// that the configuration round-trips as JSON and that error codes cross
// the process boundary.

package main

import (
	"context"
	"crypto/x509"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

func TestThroughProcess(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "certctl-plugin-issuer-local")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	proc, err := plugin.Open(ctx, plugin.OpenOptions{Path: bin, Kind: plugin.KindIssuer})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(proc.Kill)
	iss := proc.Issuer()

	info, err := iss.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "local" || info.Kind != plugin.KindIssuer {
		t.Errorf("info = %+v", info)
	}
	if f, ok := info.Schema.Field(fieldCAKey); !ok || !f.Sensitive {
		t.Errorf("schema across the wire lost %s or its sensitivity", fieldCAKey)
	}

	// Provision takes the configuration as a user wrote it, JSON numbers
	// and lists included, and returns it with the CA added.
	provisioned, err := iss.Provision(ctx, plugin.ProvisionRequest{Config: plugin.Config{
		fieldCAKeyType: "ecdsa-p256", fieldValidity: float64(7 * 24 * 3600), fieldCRLURL: crlURL,
		fieldAllowedDomains: []any{"example.com"},
	}})
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	cfg := provisioned.Config
	if err := iss.ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: cfg}); err != nil {
		t.Fatalf("ValidateConfig: %v", err)
	}
	ca := parseCertPEM(t, cfg.String(fieldCACert))[0]

	key := testKey(t, "ecdsa-p384")
	res, err := iss.IssueCertificate(ctx, plugin.IssueRequest{Config: cfg, CSR: makeCSR(t, key, "x"),
		CommonName: "api.example.com", SANs: []string{"www.example.com"}})
	if err != nil {
		t.Fatalf("IssueCertificate: %v", err)
	}
	leaf := parseCertPEM(t, res.CertificatePEM)[0]
	roots := x509.NewCertPool()
	roots.AddCert(chainCerts(t, res.ChainPEM)[0])
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "api.example.com"}); err != nil {
		t.Errorf("leaf does not verify: %v", err)
	}
	if got := leaf.NotAfter.Sub(leaf.NotBefore); got != 7*24*time.Hour+time.Minute {
		t.Errorf("lifetime %s, want the configured 7 days (and the minute of clock skew)", got)
	}

	signed, err := iss.SignCRL(ctx, plugin.CRLRequest{Config: cfg, Number: 7, ThisUpdate: time.Now(),
		Revoked: []plugin.RevokedCertificate{{SerialNumber: leaf.SerialNumber.Text(16), RevokedAt: time.Now(), Reason: 1}}})
	der := signed.DER
	if err != nil {
		t.Fatalf("SignCRL: %v", err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(ca); err != nil || crl.Number.Int64() != 7 || len(crl.RevokedCertificateEntries) != 1 ||
		crl.RevokedCertificateEntries[0].SerialNumber.Cmp(leaf.SerialNumber) != 0 {
		t.Errorf("CRL: signature %v, number %v, %d entries", err, crl.Number, len(crl.RevokedCertificateEntries))
	}

	// Error codes and the field at fault survive the trip.
	_, err = iss.IssueCertificate(ctx, plugin.IssueRequest{Config: cfg, CSR: makeCSR(t, key, "x"), CommonName: "evil.org"})
	wantCode(t, err, plugin.CodeInvalidInput, "")
	_, err = iss.IssueCertificate(ctx, plugin.IssueRequest{Config: plugin.Config{}, CSR: makeCSR(t, key, "x"), CommonName: "a.example.com"})
	wantCode(t, err, plugin.CodeInvalidConfig, fieldCACert)
	_, err = iss.GetOrderStatus(ctx, plugin.OrderStatusRequest{Config: cfg, OrderID: "order-1"})
	wantCode(t, err, plugin.CodeNotFound, "")
	wantCode(t, iss.RevokeCertificate(ctx, plugin.RevokeRequest{Config: cfg, SerialNumber: "zz"}), plugin.CodeInvalidInput, "")
	if err := iss.RevokeCertificate(ctx, plugin.RevokeRequest{Config: cfg, SerialNumber: leaf.SerialNumber.Text(16), Reason: 1}); err != nil {
		t.Errorf("RevokeCertificate: %v", err)
	}
}
