package service

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"slices"
	"strings"

	"github.com/certctl/certctl/sdk/keys"
	"github.com/certctl/certctl/server/core"
)

// generateKey makes a private key of a certificate key type (server key mode).
func generateKey(keyType string) (crypto.Signer, error) { return keys.Generate(keyType) }

// keyTypeOf names the key type of a public key, or "" when it is not one
// certctl issues for.
func keyTypeOf(pub any) string { return keys.TypeOf(pub) }

// certificateNames returns every name a certificate must carry: its
// common name first, then its SANs, without repeats.
func certificateNames(c core.Certificate) []string {
	return core.NormalizeSANs(append([]string{c.CommonName}, c.SANs...))
}

// newCSR makes a CSR for certificate c signed by key.
func newCSR(c core.Certificate, key crypto.Signer) ([]byte, error) {
	return keys.CSR(c.CommonName, c.SANs, key)
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
func marshalKeyPEM(key crypto.Signer) ([]byte, error) { return keys.MarshalPEM(key) }
