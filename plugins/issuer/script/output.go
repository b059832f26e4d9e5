// This file reads what a signing command printed: PEM certificates, the
// leaf first and its chain after it, with any text between blocks
// ignored (openssl may print some).

package main

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"strings"

	"github.com/certctl/certctl/sdk/plugin"
)

// readOutput returns the leaf and the chain as PEM, and the parsed leaf.
// It fails unless the leaf certifies the CSR's key: a command that signs
// the wrong request must not get its certificate deployed.
func readOutput(out []byte, csrKey crypto.PublicKey) (leafPEM, chainPEM string, leaf *x509.Certificate, err error) {
	var certs []*x509.Certificate
	for rest := out; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			// Never quote the block: it may be a private key.
			if strings.Contains(block.Type, "PRIVATE KEY") {
				return "", "", nil, plugin.Errorf(plugin.CodePermanent,
					"printed a private key on stdout; print only the certificate and its chain")
			}
			return "", "", nil, plugin.Errorf(plugin.CodePermanent,
				"printed a %q PEM block on stdout; print only the certificate and its chain", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return "", "", nil, plugin.Errorf(plugin.CodePermanent, "certificate %d on stdout does not parse: %v", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return "", "", nil, plugin.Errorf(plugin.CodePermanent,
			"printed no PEM certificate on stdout (%d bytes of output); print the certificate, then its chain", len(out))
	}
	leaf = certs[0]
	if k, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(csrKey) {
		return "", "", nil, plugin.Errorf(plugin.CodePermanent,
			"the certificate it printed (serial %s, subject %q) is not for the CSR's key: the first certificate must be "+
				"the one signed from the CSR on stdin", leaf.SerialNumber.Text(16), leaf.Subject.String())
	}
	var chain strings.Builder
	for _, c := range certs[1:] {
		chain.Write(pemOf(c))
	}
	return string(pemOf(leaf)), chain.String(), leaf, nil
}

func pemOf(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}
