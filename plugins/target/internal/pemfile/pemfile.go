// Package pemfile checks and lays out the PEM that a file-based target
// writes: a certificate, its chain and its private key must parse and
// belong together, and servers want them as separate files, as a full
// chain, or as one combined file. Errors never quote key material.
package pemfile

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Bundle is a certificate, its chain and its key, each re-encoded as
// canonical PEM (text outside the PEM blocks dropped).
type Bundle struct {
	Leaf     *x509.Certificate
	LeafPEM  []byte // one CERTIFICATE block
	ChainPEM []byte // the chain's CERTIFICATE blocks, in order; empty when there is none
	KeyPEM   []byte // one private key block
}

// Parse checks a deployment's PEM. certPEM holds the leaf first; any
// further certificates in it count as chain, before those of chainPEM
// (duplicates dropped). keyPEM must hold exactly one unencrypted private
// key, the one of the leaf.
func Parse(certPEM, chainPEM, keyPEM string) (*Bundle, error) {
	certs, err := certificates(certPEM)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	if len(certs) == 0 {
		return nil, errors.New("certificate: no PEM CERTIFICATE block")
	}
	chain, err := certificates(chainPEM)
	if err != nil {
		return nil, fmt.Errorf("chain: %w", err)
	}
	leaf, err := x509.ParseCertificate(certs[0])
	if err != nil {
		return nil, fmt.Errorf("certificate: %v", err)
	}
	b := &Bundle{Leaf: leaf, LeafPEM: encodeCert(certs[0])}
	var seen [][]byte
	for _, der := range append(certs[1:], chain...) {
		if bytes.Equal(der, certs[0]) || containsDER(seen, der) {
			continue
		}
		if _, err := x509.ParseCertificate(der); err != nil {
			return nil, fmt.Errorf("chain: %v", err)
		}
		seen = append(seen, der)
		b.ChainPEM = append(b.ChainPEM, encodeCert(der)...)
	}
	if b.KeyPEM, err = privateKey(keyPEM); err != nil {
		return nil, err
	}
	if _, err := tls.X509KeyPair(b.LeafPEM, b.KeyPEM); err != nil {
		// X509KeyPair's errors name the problem ("private key does not
		// match public key"), never the key's bytes.
		return nil, fmt.Errorf("private key: %v", strings.TrimPrefix(err.Error(), "tls: "))
	}
	return b, nil
}

// FullChain is the leaf followed by its chain: nginx's ssl_certificate,
// Apache's SSLCertificateFile since 2.4.8.
func (b *Bundle) FullChain() []byte { return concat(b.LeafPEM, b.ChainPEM) }

// Combined is the leaf, its chain and the key in one file: HAProxy's crt.
func (b *Bundle) Combined() []byte { return concat(b.LeafPEM, b.ChainPEM, b.KeyPEM) }

// ReadLeaf returns the first certificate of the PEM file at path.
func ReadLeaf(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("%s holds no PEM certificate", path)
		}
		if block.Type == "CERTIFICATE" {
			return x509.ParseCertificate(block.Bytes)
		}
	}
}

// certificates returns the DER of every PEM block in s, which must all be
// certificates.
func certificates(s string) ([][]byte, error) {
	var out [][]byte
	rest := []byte(s)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("unexpected PEM block %q, want CERTIFICATE", block.Type)
		}
		out = append(out, block.Bytes)
	}
	if strings.Contains(string(rest), "-----BEGIN") {
		return nil, errors.New("a PEM block is malformed")
	}
	return out, nil
}

// privateKey returns the one private key block of s, re-encoded.
func privateKey(s string) ([]byte, error) {
	var key *pem.Block
	rest := []byte(s)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if !strings.HasSuffix(block.Type, "PRIVATE KEY") {
			continue // e.g. "EC PARAMETERS" as openssl writes before EC keys
		}
		if key != nil {
			return nil, errors.New("private key: more than one PEM private key block")
		}
		if _, encrypted := block.Headers["Proc-Type"]; encrypted || block.Type == "ENCRYPTED PRIVATE KEY" {
			return nil, errors.New("private key: encrypted keys are not supported (servers would prompt for a passphrase)")
		}
		key = block
	}
	if key == nil {
		return nil, errors.New("private key: no PEM PRIVATE KEY block")
	}
	return pem.EncodeToMemory(key), nil
}

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func containsDER(list [][]byte, der []byte) bool {
	for _, d := range list {
		if bytes.Equal(d, der) {
			return true
		}
	}
	return false
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
