package service

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/certctl/certctl/server/core"
)

// generateKey makes a private key of a certificate key type (server key mode).
func generateKey(keyType string) (crypto.Signer, error) {
	switch keyType {
	case "ecdsa-p256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ecdsa-p384":
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "rsa-2048":
		return rsa.GenerateKey(rand.Reader, 2048)
	case "rsa-3072":
		return rsa.GenerateKey(rand.Reader, 3072)
	case "rsa-4096":
		return rsa.GenerateKey(rand.Reader, 4096)
	case "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("unknown key type %q", keyType)
}

// keyTypeOf names the key type of a public key, or "" when it is not one
// certctl issues for.
func keyTypeOf(pub any) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return "ecdsa-p256"
		case elliptic.P384():
			return "ecdsa-p384"
		}
	case *rsa.PublicKey:
		switch k.N.BitLen() {
		case 2048, 3072, 4096:
			return fmt.Sprintf("rsa-%d", k.N.BitLen())
		}
	case ed25519.PublicKey:
		return "ed25519"
	}
	return ""
}

// certificateNames returns every name a certificate must carry: its
// common name first, then its SANs, without repeats.
func certificateNames(c core.Certificate) []string {
	return core.NormalizeSANs(append([]string{c.CommonName}, c.SANs...))
}

// newCSR makes a CSR for certificate c signed by key.
func newCSR(c core.Certificate, key crypto.Signer) ([]byte, error) {
	tpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: c.CommonName}}
	for _, n := range certificateNames(c) {
		switch {
		case net.ParseIP(n) != nil:
			tpl.IPAddresses = append(tpl.IPAddresses, net.ParseIP(n))
		case strings.Contains(n, "://"):
			u, err := url.Parse(n)
			if err != nil {
				return nil, fmt.Errorf("SAN %q: %w", n, err)
			}
			tpl.URIs = append(tpl.URIs, u)
		case strings.Contains(n, "@"):
			tpl.EmailAddresses = append(tpl.EmailAddresses, n)
		default:
			tpl.DNSNames = append(tpl.DNSNames, n)
		}
	}
	return x509.CreateCertificateRequest(rand.Reader, tpl, key)
}

// parseCSR reads a CSR given as PEM or DER.
func parseCSR(data []byte) (*x509.CertificateRequest, error) {
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST" {
			return nil, core.Invalid("csr", "PEM block is %q, not CERTIFICATE REQUEST", block.Type)
		}
		data = block.Bytes
	}
	csr, err := x509.ParseCertificateRequest(data)
	if err != nil {
		return nil, core.Invalid("csr", "not a PKCS#10 certificate request: %v", err)
	}
	return csr, nil
}

// CheckCSR verifies a CSR before it reaches an issuer: its signature is
// valid, its key is of the certificate's key type, and its subject and
// names are exactly the declared ones.
func CheckCSR(c core.Certificate, csr *x509.CertificateRequest) error {
	if err := csr.CheckSignature(); err != nil {
		return core.Invalid("csr", "signature does not verify: %v", err)
	}
	if kt := keyTypeOf(csr.PublicKey); kt != c.KeyType {
		if kt == "" {
			kt = "an unsupported key"
		}
		return core.Invalid("csr", "key is %s, the certificate declares %s", kt, c.KeyType)
	}
	if !strings.EqualFold(csr.Subject.CommonName, c.CommonName) {
		return core.Invalid("csr", "common name %q differs from the declared %q", csr.Subject.CommonName, c.CommonName)
	}
	var got []string
	for _, ip := range csr.IPAddresses {
		got = append(got, ip.String())
	}
	for _, u := range csr.URIs {
		got = append(got, u.String())
	}
	got = append(got, csr.EmailAddresses...)
	got = append(got, csr.DNSNames...)
	got = core.NormalizeSANs(got)
	want := certificateNames(c)
	slices.Sort(got)
	slices.Sort(want)
	// The CSR may leave the common name out of its SANs.
	if !slices.Equal(got, want) && !slices.Equal(got, without(want, strings.ToLower(c.CommonName))) {
		return core.Invalid("csr", "names %v differ from the declared %v", got, want)
	}
	return nil
}

func without(list []string, s string) []string {
	out := make([]string, 0, len(list))
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}

// marshalKeyPEM encodes a private key as PKCS#8 PEM.
func marshalKeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
