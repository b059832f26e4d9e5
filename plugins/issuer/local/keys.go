// This file knows the key types: generating a CA key of a configured type,
// deciding which CSR keys the CA signs and which CA keys it accepts, and
// computing subject key identifiers.

package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"

	"github.com/certctl/certctl/sdk/keys"
)

// keyTypes are the key types certctl names (the API's key_type values).
var keyTypes = keys.Types

// generateKey makes a new key of a type in keyTypes. RSA generation cannot
// be interrupted, so ctx is checked before it starts.
func generateKey(ctx context.Context, keyType string) (crypto.Signer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return keys.Generate(keyType)
}

// leafKeyType names the key type of a CSR's public key, or says why the CA
// will not sign it: only the types in keyTypes are signed.
func leafKeyType(pub crypto.PublicKey) (string, error) {
	if kt := keys.TypeOf(pub); kt != "" {
		return kt, nil
	}
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "", fmt.Errorf("ECDSA curve %s is not accepted (use P-256 or P-384)", k.Curve.Params().Name)
	case *rsa.PublicKey:
		return "", fmt.Errorf("RSA key size %d is not accepted (use 2048, 3072 or 4096 bits)", k.N.BitLen())
	}
	return "", fmt.Errorf("key type %T is not accepted (use ECDSA P-256/P-384, RSA or Ed25519)", pub)
}

// checkCAKey refuses CA keys too weak to sign with: RSA under 2048 bits
// and P-224. Larger keys than certctl generates (P-521, RSA 8192) are fine
// for a CA given by its user.
func checkCAKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P224() {
			return fmt.Errorf("the P-224 curve is too weak for a CA")
		}
		return nil
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("a %d-bit RSA key is too weak for a CA (2048 bits at least)", k.N.BitLen())
		}
		return nil
	case ed25519.PublicKey:
		return nil
	}
	return fmt.Errorf("key type %T cannot sign certificates", pub)
}

// subjectKeyID is the SHA-1 hash of the subjectPublicKey bits of pub, the
// first method of RFC 5280 section 4.2.1.2. It is computed here rather than
// left to crypto/x509, whose choice of method differs between Go versions,
// so that identifiers stay the same across builds.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, err
	}
	sum := sha1.Sum(spki.PublicKey.Bytes)
	return sum[:], nil
}
