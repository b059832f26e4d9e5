package keys

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
)

// FuzzTypeOfPEM feeds TypeOf the public keys of CSRs and PEM blocks as
// they arrive from outside: it names one of Types or "", never panics, and
// a key it names round-trips through PKIX to the same type.
func FuzzTypeOfPEM(f *testing.F) {
	for _, kt := range []string{"ecdsa-p256", "ecdsa-p384", "ed25519", "rsa-2048"} {
		key, err := Generate(kt)
		if err != nil {
			f.Fatal(err)
		}
		der, err := x509.MarshalPKIXPublicKey(key.Public())
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		csr, err := CSR("x.example", nil, key)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr}))
	}
	f.Add([]byte("-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		block, _ := pem.Decode(data)
		if block == nil {
			return
		}
		var pub any
		switch block.Type {
		case "CERTIFICATE REQUEST":
			csr, err := x509.ParseCertificateRequest(block.Bytes)
			if err != nil {
				return
			}
			pub = csr.PublicKey
		default:
			p, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				return
			}
			pub = p
		}
		kt := TypeOf(pub)
		if kt == "" {
			return
		}
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatalf("a %s key does not marshal: %v", kt, err)
		}
		back, err := x509.ParsePKIXPublicKey(der)
		if err != nil || TypeOf(back) != kt {
			t.Fatalf("a %s key reads back as %q (%v)", kt, TypeOf(back), err)
		}
	})
}

// FuzzParseCertificates feeds ParseCertificates PEM text as issuers and
// users send it: it never panics, and without an error it returns at least
// one certificate and no nil.
func FuzzParseCertificates(f *testing.F) {
	key, err := Generate("ecdsa-p256")
	if err != nil {
		f.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x"}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		f.Fatal(err)
	}
	one := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	f.Add(one)
	f.Add(one + one)
	f.Add(one + "junk\n" + string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}})) + one)
	f.Add(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der[:20]})))
	f.Add("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
	f.Fuzz(func(t *testing.T, text string) {
		certs, err := ParseCertificates(text)
		if err != nil {
			return
		}
		if len(certs) == 0 {
			t.Fatal("no certificate and no error")
		}
		for _, c := range certs {
			if c == nil {
				t.Fatal("nil certificate without an error")
			}
		}
	})
}
