package secrets

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
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
	keys, created, err := LoadKey("", "", dir)
	k1 := keys.Current
	if err != nil || !created || len(k1) != KeySize || len(keys.Previous) != 0 {
		t.Fatalf("first load: %d bytes, created %v, %v", len(k1), created, err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFileName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", fi.Mode(), err)
	}
	keys, created, err = LoadKey("", "", dir)
	if err != nil || created || !bytes.Equal(k1, keys.Current) {
		t.Fatalf("second load: created %v, same %v, %v", created, bytes.Equal(k1, keys.Current), err)
	}
	env := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, KeySize))
	keys, _, err = LoadKey(env, "", dir)
	if err != nil || !bytes.Equal(keys.Current, bytes.Repeat([]byte{1}, KeySize)) {
		t.Fatalf("env key: %v", err)
	}
	for _, bad := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, _, err := LoadKey(bad, "", dir); err == nil {
			t.Errorf("LoadKey(%q) accepted a bad key", bad)
		}
	}
	if err := os.Chmod(filepath.Join(dir, KeyFileName), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadKey("", "", dir); err == nil {
		t.Error("a world-readable key file was accepted")
	}
}

// sealV1 seals as certctl did before sealed values named their key.
func sealV1(t *testing.T, key, plaintext []byte, context string) []byte {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return aead.Seal(append([]byte{1}, nonce...), nonce, plaintext, []byte(context))
}

func TestRotation(t *testing.T) {
	oldKey, newKey := bytes.Repeat([]byte{7}, KeySize), bytes.Repeat([]byte{8}, KeySize)
	oldBox, err := New(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	both, err := New(newKey, oldKey, oldKey, newKey)
	if err != nil {
		t.Fatal(err)
	}
	newOnly, err := New(newKey)
	if err != nil {
		t.Fatal(err)
	}
	if got := both.PreviousKeyIDs(); len(got) != 1 || got[0] != oldBox.KeyID() {
		t.Errorf("previous key ids %v, want [%s] (repeats and the current key dropped)", got, oldBox.KeyID())
	}
	if both.KeyID() != newOnly.KeyID() {
		t.Errorf("current key id %s, want %s", both.KeyID(), newOnly.KeyID())
	}

	for name, sealed := range map[string][]byte{
		"sealed by the old key":                 oldBox.Seal([]byte("hunter2"), "issuer:1"),
		"sealed by the old key, without key id": sealV1(t, oldKey, []byte("hunter2"), "issuer:1"),
	} {
		got, err := both.Open(sealed, "issuer:1")
		if err != nil || string(got) != "hunter2" {
			t.Errorf("%s: open with new+old = %q, %v", name, got, err)
		}
		if both.IsCurrent(sealed) {
			t.Errorf("%s: IsCurrent true", name)
		}
		if _, err := newOnly.Open(sealed, "issuer:1"); err != ErrDecrypt {
			t.Errorf("%s: open with the new key alone: %v, want ErrDecrypt", name, err)
		}
		if _, err := both.Open(sealed, "issuer:2"); err != ErrDecrypt {
			t.Errorf("%s: open with another context: %v, want ErrDecrypt", name, err)
		}
		resealed := both.Seal(got, "issuer:1")
		if !both.IsCurrent(resealed) || !newOnly.IsCurrent(resealed) {
			t.Errorf("%s: a value sealed now is not current", name)
		}
		if again, err := newOnly.Open(resealed, "issuer:1"); err != nil || string(again) != "hunter2" {
			t.Errorf("%s: re-sealed value with the new key alone = %q, %v", name, again, err)
		}
	}
	// A value sealed before rotation existed, with the current key, still opens.
	if got, err := newOnly.Open(sealV1(t, newKey, []byte("x"), "c"), "c"); err != nil || string(got) != "x" {
		t.Errorf("old format, current key: %q, %v", got, err)
	}
	// The key id is authenticated: pointing a value at another key fails.
	sealed := both.Seal([]byte("hunter2"), "issuer:1")
	forged := append([]byte{}, sealed...)
	copy(forged[1:1+keyIDSize], oldBox.current.id[:])
	if _, err := both.Open(forged, "issuer:1"); err != ErrDecrypt {
		t.Errorf("open with a changed key id: %v", err)
	}
}

func TestLoadPreviousKeys(t *testing.T) {
	k := func(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, KeySize)) }
	dir := t.TempDir()
	keys, _, err := LoadKey(k(1), k(2)+", "+k(3), dir)
	if err != nil || keys.Current[0] != 1 || len(keys.Previous) != 2 || keys.Previous[0][0] != 2 || keys.Previous[1][0] != 3 {
		t.Fatalf("env keys: %+v, %v", keys, err)
	}
	if _, _, err := LoadKey(k(1), k(2)+",nope", dir); err == nil {
		t.Error("a bad previous key was accepted")
	}
	// The key file: the first line is the current key, the others previous.
	if err := os.WriteFile(filepath.Join(dir, KeyFileName), []byte(k(4)+"\n"+k(5)+"\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, created, err := LoadKey("", k(6), dir)
	if err != nil || created || keys.Current[0] != 4 || len(keys.Previous) != 2 || keys.Previous[0][0] != 6 || keys.Previous[1][0] != 5 {
		t.Fatalf("file keys: %+v, created %v, %v", keys, created, err)
	}
}
