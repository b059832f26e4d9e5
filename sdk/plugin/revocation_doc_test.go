package plugin_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

// issuer and loadCA stand in for those of sdk/plugin/example, so that the
// revocation code docs/plugins.md shows below compiles and runs as shown.
type issuer struct{}

func loadCA(cfg plugin.Config, _ bool) (plugin.Config, *tls.Certificate, error) {
	ca, err := tls.X509KeyPair([]byte(cfg.String("ca_cert")), []byte(cfg.String("ca_key")))
	if err != nil {
		return nil, nil, plugin.InvalidConfig("ca_cert", "with ca_key, not a CA certificate and key: %v", err)
	}
	return cfg, &ca, nil
}

const (
	docBegin = "// Shown in docs/plugins.md (Revocation and CRLs):\n"
	docEnd   = "// End of what docs/plugins.md shows.\n"
)

// Shown in docs/plugins.md (Revocation and CRLs):
// RevokeCertificate has nothing to record for a CA that keeps no state:
// certctl keeps the revocation and lists it in every CRLRequest from now on.
func (issuer) RevokeCertificate(_ context.Context, req plugin.RevokeRequest) error {
	if _, ok := new(big.Int).SetString(req.SerialNumber, 16); !ok {
		return plugin.Errorf(plugin.CodeInvalidInput, "serial %q is not hexadecimal", req.SerialNumber)
	}
	return nil
}

// SignCRL signs the complete list certctl sends; it needs a CA certificate
// with the cRLSign key usage.
func (issuer) SignCRL(_ context.Context, req plugin.CRLRequest) (plugin.CRLResult, error) {
	_, ca, err := loadCA(req.Config, true)
	if err != nil {
		return plugin.CRLResult{}, err
	}
	tmpl := &x509.RevocationList{Number: big.NewInt(req.Number), ThisUpdate: req.ThisUpdate, NextUpdate: req.NextUpdate}
	for _, r := range req.Revoked {
		serial, ok := new(big.Int).SetString(r.SerialNumber, 16)
		if !ok {
			return plugin.CRLResult{}, plugin.Errorf(plugin.CodeInvalidInput, "serial %q is not hexadecimal", r.SerialNumber)
		}
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: serial, RevocationTime: r.RevokedAt, ReasonCode: r.Reason})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Leaf, ca.PrivateKey.(crypto.Signer))
	return plugin.CRLResult{DER: der}, err
}

// End of what docs/plugins.md shows.

// testCA makes a CA configuration like the example's Provision, with the
// given key usage.
func testCA(t *testing.T, usage x509.KeyUsage) (plugin.Config, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: usage}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return plugin.Config{
		"ca_cert": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		"ca_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
	}, cert
}

// TestDocsRevocationExample runs the stateless revocation that
// docs/plugins.md recommends, and checks that the docs show this code.
func TestDocsRevocationExample(t *testing.T) {
	ctx := context.Background()
	src, err := os.ReadFile("revocation_doc_test.go")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := os.ReadFile("../../docs/plugins.md")
	if err != nil {
		t.Fatal(err)
	}
	_, shown, ok := strings.Cut(string(src), "\n"+docBegin)
	shown, _, ok2 := strings.Cut(shown, "\n"+docEnd)
	if !ok || !ok2 {
		t.Fatal("revocation_doc_test.go lost its markers around the code docs/plugins.md shows")
	}
	if !strings.Contains(string(docs), "```go\n"+shown+"```\n") {
		t.Error("docs/plugins.md (Revocation and CRLs) does not show the code of revocation_doc_test.go as it is: copy it into its code block")
	}

	var iss issuer
	if err := iss.RevokeCertificate(ctx, plugin.RevokeRequest{SerialNumber: "not-hex!"}); plugin.ErrorCode(err) != plugin.CodeInvalidInput {
		t.Errorf("RevokeCertificate of a serial that is not hexadecimal: %v, want %s", err, plugin.CodeInvalidInput)
	}
	if err := iss.RevokeCertificate(ctx, plugin.RevokeRequest{SerialNumber: "0a1b", Reason: plugin.ReasonKeyCompromise}); err != nil {
		t.Errorf("RevokeCertificate: %v", err)
	}

	cfg, ca := testCA(t, x509.KeyUsageCertSign|x509.KeyUsageCRLSign)
	now := time.Now().Truncate(time.Second)
	signed, err := iss.SignCRL(ctx, plugin.CRLRequest{Config: cfg, Number: 7, ThisUpdate: now, NextUpdate: now.Add(24 * time.Hour),
		Revoked: []plugin.RevokedCertificate{
			{SerialNumber: "0a1b", RevokedAt: now.Add(-time.Hour), Reason: plugin.ReasonKeyCompromise},
			{SerialNumber: "ff", RevokedAt: now.Add(-time.Minute), Reason: plugin.ReasonSuperseded},
		}})
	der := signed.DER
	if err != nil {
		t.Fatalf("SignCRL: %v", err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatalf("SignCRL returned no DER CRL: %v", err)
	}
	if err := crl.CheckSignatureFrom(ca); err != nil {
		t.Errorf("the CRL is not signed by the CA: %v", err)
	}
	if crl.Number.Int64() != 7 || !crl.ThisUpdate.Equal(now) || !crl.NextUpdate.Equal(now.Add(24*time.Hour)) {
		t.Errorf("CRL number %v, this update %v, next update %v: want 7, %v, %v", crl.Number, crl.ThisUpdate, crl.NextUpdate, now, now.Add(24*time.Hour))
	}
	var got []string
	for _, e := range crl.RevokedCertificateEntries {
		got = append(got, fmt.Sprintf("%s %s %d", e.SerialNumber.Text(16), e.RevocationTime.UTC().Format(time.RFC3339), e.ReasonCode))
	}
	want := []string{
		"a1b " + now.Add(-time.Hour).UTC().Format(time.RFC3339) + " 1",
		"ff " + now.Add(-time.Minute).UTC().Format(time.RFC3339) + " 4",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("CRL entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The docs say the CA certificate needs cRLSign: the example's CA,
	// made with certSign alone, cannot sign a CRL.
	cfg, _ = testCA(t, x509.KeyUsageCertSign)
	if _, err := iss.SignCRL(ctx, plugin.CRLRequest{Config: cfg, Number: 1, ThisUpdate: now, NextUpdate: now.Add(time.Hour)}); err == nil {
		t.Error("SignCRL with a CA certificate without cRLSign succeeded; the docs say it needs that key usage")
	}
}
