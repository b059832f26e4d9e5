// Package secrets encrypts what certctl keeps secret at rest (connector
// fields marked sensitive, server-held private keys) with AES-256-GCM.
//
// The key comes from CERTCTL_ENCRYPTION_KEY (32 bytes, base64) or from a
// key file the server creates in its data directory with mode 0600. Every
// sealed value is bound to what it belongs to (its "context", e.g.
// "issuer:<id>") as additional authenticated data, so a ciphertext copied
// to another row does not decrypt.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the size of an encryption key in bytes.
const KeySize = 32

// version prefixes every sealed value, so the format can change later.
const version byte = 1

// KeyFileName is the key file in the data directory.
const KeyFileName = "encryption.key"

// Box seals and opens values with one key.
type Box struct {
	aead cipher.AEAD
	id   string
}

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secrets: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets: %w", err)
	}
	sum := sha256.Sum256(append([]byte("certctl key id "), key...))
	return &Box{aead: aead, id: hex.EncodeToString(sum[:4])}, nil
}

// KeyID is a short, non-secret fingerprint of the key, for logs.
func (b *Box) KeyID() string { return b.id }

// Seal encrypts plaintext for context.
func (b *Box) Seal(plaintext []byte, context string) []byte {
	nonce := make([]byte, b.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := append([]byte{version}, nonce...)
	return b.aead.Seal(out, nonce, plaintext, []byte(context))
}

// ErrDecrypt means a sealed value does not open with this key and context:
// the wrong key, or a value moved or tampered with.
var ErrDecrypt = errors.New("secrets: cannot decrypt (wrong encryption key, or the value was altered)")

// Open decrypts a value sealed for context.
func (b *Box) Open(sealed []byte, context string) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < 1+n+b.aead.Overhead() || sealed[0] != version {
		return nil, ErrDecrypt
	}
	out, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(context))
	if err != nil {
		return nil, ErrDecrypt
	}
	return out, nil
}

// LoadKey returns the encryption key: from envValue (base64 of 32 bytes)
// when set, otherwise from dataDir/encryption.key, creating that file with
// a new random key (mode 0600) on first use. It reports whether the key
// was created now.
func LoadKey(envValue, dataDir string) (key []byte, created bool, err error) {
	if envValue != "" {
		key, err := decodeKey(strings.TrimSpace(envValue))
		if err != nil {
			return nil, false, fmt.Errorf("CERTCTL_ENCRYPTION_KEY: %w", err)
		}
		return key, false, nil
	}
	path := filepath.Join(dataDir, KeyFileName)
	b, err := os.ReadFile(path)
	if err == nil {
		fi, statErr := os.Stat(path)
		if statErr == nil && fi.Mode().Perm()&0o077 != 0 {
			return nil, false, fmt.Errorf("%s is readable by others (mode %o); chmod 600 it", path, fi.Mode().Perm())
		}
		key, err := decodeKey(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("read %s: %w", path, err)
	}
	key = make([]byte, KeySize)
	_, _ = rand.Read(key)
	if err := os.MkdirAll(dataDir, 0o711); err != nil {
		return nil, false, fmt.Errorf("create data directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, false, fmt.Errorf("write %s: %w", path, err)
	}
	return key, true, nil
}

func decodeKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("must be base64 (e.g. openssl rand -base64 32)")
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("must decode to %d bytes, not %d (e.g. openssl rand -base64 32)", KeySize, len(key))
	}
	return key, nil
}
