package service

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// Secret prefixes say what a secret is when it turns up in a log or a
// leak scanner: certctl API key, certctl enrollment token.
const (
	apiKeyPrefix          = "cck_"
	enrollmentTokenPrefix = "cce_"
	agentCredentialPrefix = "cca_"
	secretBytes           = 32
	displayPrefixLen      = 12
)

// newSecret returns a random secret with the given prefix, its hash and
// its display prefix (enough to recognise it, far too little to use it).
func newSecret(prefix string) (secret string, hash []byte, display string) {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, hashSecret(secret), secret[:displayPrefixLen]
}

// hashSecret hashes a high-entropy secret for storage and lookup. The
// secrets are 256-bit random, so a fast hash is enough: there is nothing
// to brute-force.
func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}
