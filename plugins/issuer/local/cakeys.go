package main

import (
	"crypto"
	"crypto/sha256"
	"sync"
)

// maxCAKeys bounds the CA keys a plugin process keeps parsed: one per
// local issuer the server has, which is few.
const maxCAKeys = 16

// caKeys keeps the CA private keys this process has parsed, by the hash
// of their PEM text. Parsing a P-384 key computes its public key, about as
// much work as signing a certificate with it, and every issuance would
// otherwise parse the issuer's key again from its configuration.
type caKeys struct {
	mu   sync.Mutex
	keys map[[sha256.Size]byte]crypto.Signer
}

// parse returns the key of text, parsed once (parsePrivateKey).
func (c *caKeys) parse(text string) (crypto.Signer, error) {
	if c == nil {
		return parsePrivateKey(text)
	}
	h := sha256.Sum256([]byte(text))
	c.mu.Lock()
	k, ok := c.keys[h]
	c.mu.Unlock()
	if ok {
		return k, nil
	}
	k, err := parsePrivateKey(text)
	if err != nil {
		return nil, err // not kept: an error names what is wrong each time
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil || len(c.keys) >= maxCAKeys {
		c.keys = map[[sha256.Size]byte]crypto.Signer{} // issuers come and go rarely: start afresh
	}
	c.keys[h] = k
	return k, nil
}
