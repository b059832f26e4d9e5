package service

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/keys"
	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/core"
)

// A CA may return a certificate with no subject alternative name at all;
// the version still records an empty list (the column is NOT NULL), not nil.
func TestVersionFromResultWithoutSANs(t *testing.T) {
	key, err := keys.Generate("ecdsa-p256")
	if err != nil {
		t.Fatal(err)
	}
	csr, err := keys.CSR("no-sans.example", nil, key)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "no-sans.example"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	in := issuanceInput{csrDER: csr, csrPub: key.Public(), cert: core.Certificate{ID: newID(), CommonName: "no-sans.example"},
		issuer: core.Issuer{ID: newID()}}
	res := plugin.IssueResult{CertificatePEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
	v, err := versionFromResult(in, res, core.Job{ID: newID()})
	if err != nil {
		t.Fatal(err)
	}
	if v.SANs == nil || len(v.SANs) != 0 {
		t.Fatalf("SANs = %#v, want an empty, non-nil list", v.SANs)
	}
}
