// Package keys makes and recognises the private keys of certctl's key
// types, and the CSRs that carry their public halves. The server uses it
// for server-held keys, the agent for the keys it keeps on its host.
package keys

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

// Types are the key types of managed certificates.
var Types = []string{"ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519"}

// Generate makes a private key of a key type.
func Generate(keyType string) (crypto.Signer, error) {
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

// TypeOf names the key type of a public key, or "" when it is none of Types.
func TypeOf(pub any) string {
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

// CSR makes a DER certificate request for commonName with the names
// (common name first, repeats dropped), signed by key. Names with "://"
// are URIs, with "@" e-mail addresses, IP literals IP addresses, the rest
// DNS names.
func CSR(commonName string, names []string, key crypto.Signer) ([]byte, error) {
	tpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: commonName}}
	seen := map[string]bool{}
	for _, n := range append([]string{commonName}, names...) {
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
	return x509.CreateCertificateRequest(rand.Reader, tpl, key)
}

// MarshalPEM encodes a private key as PKCS#8 PEM.
func MarshalPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
