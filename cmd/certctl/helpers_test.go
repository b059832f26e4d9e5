package main

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"testing"
)

func parseCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("no certificate in %s", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// publicKeysEqual says key's public half is pub.
func publicKeysEqual(key any, pub crypto.PublicKey) bool {
	s, ok := key.(crypto.Signer)
	if !ok {
		return false
	}
	e, ok := s.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(pub)
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
