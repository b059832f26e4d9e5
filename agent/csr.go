package agent

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
	"strings"
)

// newCSR makes a PEM CSR for the certificate's names, signed by key.
func newCSR(commonName string, sans []string, key crypto.Signer) ([]byte, error) {
	tpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: commonName}}
	seen := map[string]bool{}
	for _, n := range append([]string{commonName}, sans...) {
		if seen[n] {
			continue
		}
		seen[n] = true
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
	der, err := x509.CreateCertificateRequest(rand.Reader, tpl, key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// keyTypeMatches says whether key is of the certificate key type.
func keyTypeMatches(key crypto.Signer, keyType string) bool {
	switch k := key.Public().(type) {
	case *ecdsa.PublicKey:
		return (keyType == "ecdsa-p256" && k.Curve == elliptic.P256()) || (keyType == "ecdsa-p384" && k.Curve == elliptic.P384())
	case *rsa.PublicKey:
		return keyType == fmt.Sprintf("rsa-%d", k.N.BitLen())
	case ed25519.PublicKey:
		return keyType == "ed25519"
	}
	return false
}
