package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"testing"
)

// A CA key is parsed once per process and text; a text that does not
// parse fails every time, and the cache stays bounded.
func TestCAKeysParseOnce(t *testing.T) {
	t.Parallel()
	newPEM := func() string {
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return keyPEM(t, k)
	}
	var c caKeys
	text := newPEM()
	first, err := c.parse(text)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.parse(text)
	if err != nil {
		t.Fatal(err)
	}
	if first != again {
		t.Fatal("the same key text was parsed twice")
	}
	other, err := c.parse(newPEM())
	if err != nil {
		t.Fatal(err)
	}
	if other == first {
		t.Fatal("another key text gave the first key")
	}
	for range 2 {
		if _, err := c.parse("not a key"); err == nil {
			t.Fatal("a text that is no key parsed")
		}
	}
	for i := range 2 * maxCAKeys {
		if _, err := c.parse(newPEM()); err != nil {
			t.Fatal(fmt.Errorf("key %d: %w", i, err))
		}
	}
	if n := len(c.keys); n > maxCAKeys {
		t.Fatalf("%d keys kept, at most %d wanted", n, maxCAKeys)
	}
}
