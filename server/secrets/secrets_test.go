package secrets

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	b, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed := b.Seal([]byte("hunter2"), "issuer:1")
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Fatal("plaintext visible in sealed value")
	}
	if again := b.Seal([]byte("hunter2"), "issuer:1"); bytes.Equal(again, sealed) {
		t.Fatal("two seals of one value are equal: nonce reused")
	}
	got, err := b.Open(sealed, "issuer:1")
	if err != nil || string(got) != "hunter2" {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := b.Open(sealed, "issuer:2"); err != ErrDecrypt {
		t.Errorf("open with another context: %v, want ErrDecrypt", err)
	}
	other, _ := New(bytes.Repeat([]byte{8}, KeySize))
	if _, err := other.Open(sealed, "issuer:1"); err != ErrDecrypt {
		t.Errorf("open with another key: %v", err)
	}
	tampered := append([]byte{}, sealed...)
	tampered[len(tampered)-1] ^= 1
	if _, err := b.Open(tampered, "issuer:1"); err != ErrDecrypt {
		t.Errorf("open tampered: %v", err)
	}
	if _, err := b.Open([]byte{1, 2}, "issuer:1"); err != ErrDecrypt {
		t.Errorf("open short: %v", err)
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	k1, created, err := LoadKey("", dir)
	if err != nil || !created || len(k1) != KeySize {
		t.Fatalf("first load: %d bytes, created %v, %v", len(k1), created, err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", fi.Mode(), err)
	}
	k2, created, err := LoadKey("", dir)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatalf("second load: created %v, same %v, %v", created, bytes.Equal(k1, k2), err)
	}
	env := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, KeySize))
	k3, _, err := LoadKey(env, dir)
	if err != nil || !bytes.Equal(k3, bytes.Repeat([]byte{1}, KeySize)) {
		t.Fatalf("env key: %v", err)
	}
	for _, bad := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, _, err := LoadKey(bad, dir); err == nil {
			t.Errorf("LoadKey(%q) accepted a bad key", bad)
		}
	}
	if err := os.Chmod(filepath.Join(dir, KeyFileName), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadKey("", dir); err == nil {
		t.Error("a world-readable key file was accepted")
	}
}
