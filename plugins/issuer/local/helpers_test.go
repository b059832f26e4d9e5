// This file holds what the tests share: a fixed clock, keys made once per
// type, CSRs, CA certificates built by hand, and error assertions.

package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"

	"github.com/certctl/certctl/sdk/keys"
)

// t0 is the tests' "now": a whole second, as certificates store times.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// testIssuer returns an issuer whose clock says now and which logs nowhere.
func testIssuer(now time.Time) *issuer {
	return &issuer{now: func() time.Time { return now }, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

var (
	keysMu   sync.Mutex
	testKeys = map[string]crypto.Signer{}
)

// testKey returns a key of type kt (a keyTypes value, or "ecdsa-p224",
// "ecdsa-p521", "rsa-1024"), made once per test binary: RSA-4096 is slow.
func testKey(t *testing.T, kt string) crypto.Signer {
	t.Helper()
	keysMu.Lock()
	defer keysMu.Unlock()
	if k, ok := testKeys[kt]; ok {
		return k
	}
	var k crypto.Signer
	var err error
	switch kt {
	case "ecdsa-p224":
		k, err = ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	case "ecdsa-p521":
		k, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "rsa-1024":
		k, err = rsa.GenerateKey(rand.Reader, 1024)
	default:
		k, err = generateKey(context.Background(), kt)
	}
	if err != nil {
		t.Fatalf("generate %s key: %v", kt, err)
	}
	testKeys[kt] = k
	return k
}

// makeCSR returns a DER CSR for cn signed by key.
func makeCSR(t testing.TB, key crypto.Signer, cn string) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: cn},
	}, key)
	if err != nil {
		t.Fatalf("create CSR: %v", err)
	}
	return der
}

// provisioned returns cfg after Provision, with a generated CA.
func provisioned(t *testing.T, iss *issuer, cfg plugin.Config) plugin.Config {
	t.Helper()
	out, err := iss.Provision(context.Background(), plugin.ProvisionRequest{Config: cfg})
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	return out.Config
}

// parseCertPEM parses the certificates of a PEM text.
func parseCertPEM(t *testing.T, text string) []*x509.Certificate {
	t.Helper()
	certs, err := keys.ParseCertificates(text)
	if err != nil {
		t.Fatalf("parse certificates: %v\n%s", err, text)
	}
	return certs
}

func certPEM(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

func keyPEM(t *testing.T, k crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// caSpec describes a CA certificate built by hand, for sub-CA mode and for
// CAs the issuer must refuse.
type caSpec struct {
	cn                  string
	key                 crypto.Signer
	parent              *x509.Certificate // nil: self-signed
	parentKey           crypto.Signer
	notBefore, notAfter time.Time
	notCA               bool
	keyUsage            x509.KeyUsage // 0: CertSign|CRLSign|DigitalSignature
	noSKI               bool
}

func makeCA(t *testing.T, s caSpec) *x509.Certificate {
	t.Helper()
	if s.notBefore.IsZero() {
		s.notBefore = t0.Add(-365 * day)
	}
	if s.notAfter.IsZero() {
		s.notAfter = t0.Add(5 * 365 * day)
	}
	if s.keyUsage == 0 {
		s.keyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: s.cn, Organization: []string{"Test Corp"}},
		NotBefore:             s.notBefore,
		NotAfter:              s.notAfter,
		KeyUsage:              s.keyUsage,
		BasicConstraintsValid: true,
		IsCA:                  !s.notCA,
	}
	if s.noSKI {
		// crypto/x509 adds a key identifier to every CA template; a CA
		// without one gets its basic constraints as a raw extension.
		tmpl.BasicConstraintsValid, tmpl.IsCA = false, false
		tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Critical: true,
			Value: []byte{0x30, 0x03, 0x01, 0x01, 0xff}}} // SEQUENCE { cA TRUE }
	} else {
		ski, err := subjectKeyID(s.key.Public())
		if err != nil {
			t.Fatal(err)
		}
		tmpl.SubjectKeyId = ski
	}
	parent, parentKey := tmpl, s.key
	if s.parent != nil {
		parent, parentKey = s.parent, s.parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, s.key.Public(), parentKey)
	if err != nil {
		t.Fatalf("create CA %s: %v", s.cn, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantCode fails unless err has code, and, for CodeInvalidConfig with a
// field, names that field.
func wantCode(t *testing.T, err error, code, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", code)
	}
	if got := plugin.ErrorCode(err); got != code {
		t.Fatalf("error %q has code %s, want %s", err, got, code)
	}
	if field != "" {
		var e *plugin.Error
		if !errors.As(err, &e) || e.Field != field {
			t.Fatalf("error %q does not name field %s", err, field)
		}
	}
}

// chainCerts splits concatenated PEM into certificates.
func chainCerts(t *testing.T, text string) []*x509.Certificate {
	t.Helper()
	if strings.TrimSpace(text) == "" {
		return nil
	}
	return parseCertPEM(t, text)
}
