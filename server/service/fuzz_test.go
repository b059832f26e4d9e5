package service

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"testing"

	"github.com/certctl/certctl/sdk/keys"
	"github.com/certctl/certctl/server/core"
)

// The fuzz targets below feed the service what arrives from outside as
// PKIX data: CSRs from agents and API clients, PEM from issuer plugins.

func fuzzKey(f *testing.F) crypto.Signer {
	f.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	return key
}

func FuzzParseAndCheckCSR(f *testing.F) {
	key := fuzzKey(f)
	der, err := keys.CSR("app.example.com", []string{"www.example.com", "10.0.0.1", "a@example.com", "spiffe://example.org/x"}, key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(der)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "NEW CERTIFICATE REQUEST", Bytes: der[:len(der)/2]}))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	f.Add([]byte("-----BEGIN CERTIFICATE REQUEST-----\n%%%\n-----END CERTIFICATE REQUEST-----\n"))
	f.Add([]byte{0x30, 0x82, 0xff, 0xff})
	c := core.Certificate{CommonName: "app.example.com", SANs: []string{"www.example.com", "10.0.0.1", "a@example.com",
		"spiffe://example.org/x"}, KeyType: "ecdsa-p256"}
	f.Fuzz(func(t *testing.T, data []byte) {
		csr, err := parseCSR(data)
		if err != nil {
			var e *core.Error
			if !errors.As(err, &e) || e.Code != core.EINVALID || e.Field != "csr" {
				t.Fatalf("parseCSR: %v, want an invalid error on csr", err)
			}
			return
		}
		err = CheckCSR(c, csr)
		var e *core.Error
		if err != nil && (!errors.As(err, &e) || e.Code != core.EINVALID || e.Field != "csr") {
			t.Fatalf("CheckCSR: %v, want nil or an invalid error on csr", err)
		}
	})
}

// FuzzCSRRoundTrip: a certificate the API accepts gets a CSR, made by
// sdk/keys as the server and agents make it, that the server's check accepts.
func FuzzCSRRoundTrip(f *testing.F) {
	key := fuzzKey(f)
	f.Add("app.example.com", "www.example.com", "10.0.0.1")
	f.Add("APP.example.com", "app.example.com", "::ffff:10.0.0.1")
	f.Add("*.example.com", "a@example.com", "spiffe://example.org/ns/x")
	f.Add("x.example", "https://Example.com/Path?q=1#f", "2001:db8::1")
	f.Fuzz(func(t *testing.T, cn, san1, san2 string) {
		if core.ValidateCommonName("common_name", cn) != nil {
			return
		}
		sans := []string{san1, san2}
		for _, s := range sans {
			if core.ValidateSAN("sans", s) != nil {
				return
			}
		}
		// As the service stores a declaration.
		c := core.Certificate{CommonName: core.NormalizeSANs([]string{cn})[0], SANs: core.NormalizeSANs(sans), KeyType: "ecdsa-p256"}
		der, err := keys.CSR(c.CommonName, c.SANs, key)
		if err != nil {
			t.Fatalf("sdk/keys makes no CSR for %q %q: %v", c.CommonName, c.SANs, err)
		}
		csr, err := parseCSR(der)
		if err != nil {
			t.Fatalf("parseCSR of a CSR from sdk/keys for %q %q: %v", c.CommonName, c.SANs, err)
		}
		if err := CheckCSR(c, csr); err != nil {
			t.Fatalf("CheckCSR of a CSR from sdk/keys for %q %q: %v", c.CommonName, c.SANs, err)
		}
	})
}
