package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // Windows names certificates by their SHA-1 thumbprint
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/certctl/certctl/plugins/target/internal/pemfile"
	"github.com/certctl/certctl/sdk/plugin"
)

// material is what a deployment installs, checked.
type material struct {
	leaf       *x509.Certificate
	chain      []*x509.Certificate
	key        crypto.PrivateKey
	thumbprint string // of the leaf: upper-case hexadecimal SHA-1 of its DER, as Windows shows it
}

// readMaterial checks a deployment's PEM: the certificate, its chain and
// the key must parse and belong together. Errors never quote the key.
func readMaterial(certPEM, chainPEM, keyPEM string) (*material, error) {
	b, err := pemfile.Parse(certPEM, chainPEM, keyPEM)
	if err != nil {
		return nil, plugin.Errorf(plugin.CodeInvalidInput, "%v", err)
	}
	m := &material{leaf: b.Leaf, thumbprint: thumbprint(b.Leaf)}
	for rest := b.ChainPEM; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, plugin.Errorf(plugin.CodeInvalidInput, "chain: %v", err)
		}
		m.chain = append(m.chain, c)
	}
	if m.key, err = parseKey(b.KeyPEM); err != nil {
		return nil, plugin.Errorf(plugin.CodeInvalidInput, "private key: %v", err)
	}
	if _, ok := m.key.(ed25519.PrivateKey); ok {
		return nil, plugin.Errorf(plugin.CodeInvalidInput, "IIS (Windows Schannel) cannot serve Ed25519 certificates: issue this certificate with an ECDSA or RSA key")
	}
	return m, nil
}

// parseKey reads the one private key block pemfile.Parse kept.
func parseKey(keyPEM []byte) (crypto.PrivateKey, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(block.Bytes)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		// Parse errors name the structure, never the key's bytes.
		return nil, fmt.Errorf("%s block does not parse as PKCS #8", block.Type)
	}
	switch key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return key, nil
	}
	return nil, fmt.Errorf("unsupported key type %T", key)
}

// thumbprint is how Windows names a certificate.
func thumbprint(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw) //nolint:gosec // an identifier, as Windows computes it, not a security check
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// pfxPasswordLength is the length of the one-time PFX password: 32
// characters of 62, about 190 bits.
const pfxPasswordLength = 32

const passwordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newPassword returns a random password that needs no quoting anywhere.
func newPassword() (string, error) {
	out := make([]byte, pfxPasswordLength)
	max := big.NewInt(int64(len(passwordAlphabet)))
	for i := range out {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		out[i] = passwordAlphabet[n.Int64()]
	}
	return string(out), nil
}

// encodePFX makes the PKCS#12 file: key, certificate and chain, under
// password, with the encryption the configuration names.
func (m *material) encodePFX(encryption, password string) ([]byte, error) {
	enc := pkcs12.Modern
	if encryption == pfx3DES {
		enc = pkcs12.LegacyDES
	}
	pfx, err := enc.Encode(m.key, m.leaf, m.chain, password)
	if err != nil {
		return nil, plugin.Errorf(plugin.CodePermanent, "encode the PFX: %v", err)
	}
	return pfx, nil
}
