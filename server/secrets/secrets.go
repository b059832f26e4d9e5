// Package secrets encrypts what certctl keeps secret at rest (connector
// fields marked sensitive, server-held private keys) with AES-256-GCM.
//
// The key comes from CERTCTL_ENCRYPTION_KEY (32 bytes, base64) or from a
// key file the server creates in its data directory with mode 0600. Every
// sealed value is bound to what it belongs to (its "context", e.g.
// "issuer:<id>") as additional authenticated data, so a ciphertext copied
// to another row does not decrypt.
//
// A Box holds one current key, which seals, and any number of previous
// keys, which only open: that is how the key is rotated. A sealed value
// names the key that sealed it, so opening never has to guess.
package secrets

import (
	"bytes"
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

// Sealed value formats, told apart by their first byte:
//
//	1: version, nonce, ciphertext (no key id; sealed before rotation existed)
//	2: version, key id (4 bytes), nonce, ciphertext; version and key id are
//	   authenticated with the context
const (
	versionNoKeyID byte = 1
	versionKeyID   byte = 2
	keyIDSize           = 4
)

// KeyFileName is the key file in the data directory.
const KeyFileName = "encryption.key"

// boxKey is one key and its id.
type boxKey struct {
	aead cipher.AEAD
	id   [keyIDSize]byte
}

func newBoxKey(key []byte) (boxKey, error) {
	if len(key) != KeySize {
		return boxKey{}, fmt.Errorf("secrets: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return boxKey{}, fmt.Errorf("secrets: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return boxKey{}, fmt.Errorf("secrets: %w", err)
	}
	k := boxKey{aead: aead}
	sum := sha256.Sum256(append([]byte("certctl key id "), key...))
	copy(k.id[:], sum[:keyIDSize])
	return k, nil
}

func (k boxKey) idString() string { return hex.EncodeToString(k.id[:]) }

// Box seals with its current key and opens with the current or a previous
// one.
type Box struct {
	current  boxKey
	previous []boxKey
}

// New returns a Box that seals with current (32 bytes) and also opens
// values sealed with any of previous. A previous key equal to the current
// one, or repeated, is ignored.
func New(current []byte, previous ...[]byte) (*Box, error) {
	cur, err := newBoxKey(current)
	if err != nil {
		return nil, err
	}
	b := &Box{current: cur}
	seen := map[[keyIDSize]byte]bool{cur.id: true}
	for i, p := range previous {
		k, err := newBoxKey(p)
		if err != nil {
			return nil, fmt.Errorf("previous key %d: %w", i+1, err)
		}
		if seen[k.id] {
			continue
		}
		seen[k.id] = true
		b.previous = append(b.previous, k)
	}
	return b, nil
}

// KeyID is a short, non-secret fingerprint of the current key, for logs.
func (b *Box) KeyID() string { return b.current.idString() }

// PreviousKeyIDs are the fingerprints of the keys that only open.
func (b *Box) PreviousKeyIDs() []string {
	ids := make([]string, len(b.previous))
	for i, k := range b.previous {
		ids[i] = k.idString()
	}
	return ids
}

// Seal encrypts plaintext for context with the current key.
func (b *Box) Seal(plaintext []byte, context string) []byte {
	k := b.current
	n := k.aead.NonceSize()
	out := make([]byte, 1+keyIDSize+n, 1+keyIDSize+n+len(plaintext)+k.aead.Overhead())
	out[0] = versionKeyID
	copy(out[1:], k.id[:])
	nonce := out[1+keyIDSize:]
	_, _ = rand.Read(nonce)
	return k.aead.Seal(out, nonce, plaintext, aad(out[:1+keyIDSize], context))
}

// aad is what a sealed value is authenticated with besides its ciphertext.
func aad(header []byte, context string) []byte {
	return append(append([]byte{}, header...), context...)
}

// ErrDecrypt means a sealed value does not open with this key and context:
// the wrong key, or a value moved or tampered with.
var ErrDecrypt = errors.New("secrets: cannot decrypt (wrong encryption key, or the value was altered)")

// Open decrypts a value sealed for context, with the key that sealed it.
func (b *Box) Open(sealed []byte, context string) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, ErrDecrypt
	}
	switch sealed[0] {
	case versionKeyID:
		if len(sealed) < 1+keyIDSize {
			return nil, ErrDecrypt
		}
		for _, k := range b.keys() {
			if bytes.Equal(k.id[:], sealed[1:1+keyIDSize]) {
				return open(k, sealed[1+keyIDSize:], aad(sealed[:1+keyIDSize], context))
			}
		}
	case versionNoKeyID:
		// The value does not say which key sealed it: try each.
		for _, k := range b.keys() {
			if out, err := open(k, sealed[1:], []byte(context)); err == nil {
				return out, nil
			}
		}
	}
	return nil, ErrDecrypt
}

func (b *Box) keys() []boxKey { return append([]boxKey{b.current}, b.previous...) }

func open(k boxKey, body, aad []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(body) < n+k.aead.Overhead() {
		return nil, ErrDecrypt
	}
	out, err := k.aead.Open(nil, body[:n], body[n:], aad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return out, nil
}

// IsCurrent reports whether sealed was sealed by the current key in the
// current format, so that re-sealing it would change nothing. It does not
// check that the value opens.
func (b *Box) IsCurrent(sealed []byte) bool {
	return len(sealed) > 1+keyIDSize && sealed[0] == versionKeyID &&
		bytes.Equal(sealed[1:1+keyIDSize], b.current.id[:])
}

// Keys are the encryption keys a server is configured with.
type Keys struct {
	Current  []byte
	Previous [][]byte
}

// LoadKey returns the encryption keys. The current key is envValue
// (base64 of 32 bytes) when set, otherwise the first line of
// dataDir/encryption.key, creating that file with a new random key (mode
// 0600) on first use. Previous keys, which only open what they sealed,
// are the comma- or space-separated base64 keys of previousValue
// (CERTCTL_ENCRYPTION_KEY_PREVIOUS) and, when the key comes from the file,
// the file's further lines. It reports whether the key file was created now.
func LoadKey(envValue, previousValue, dataDir string) (keys Keys, created bool, err error) {
	for i, s := range strings.FieldsFunc(previousValue, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		k, err := decodeKey(s)
		if err != nil {
			return Keys{}, false, fmt.Errorf("CERTCTL_ENCRYPTION_KEY_PREVIOUS, key %d: %w", i+1, err)
		}
		keys.Previous = append(keys.Previous, k)
	}
	if envValue != "" {
		keys.Current, err = decodeKey(strings.TrimSpace(envValue))
		if err != nil {
			return Keys{}, false, fmt.Errorf("CERTCTL_ENCRYPTION_KEY: %w", err)
		}
		return keys, false, nil
	}
	path := filepath.Join(dataDir, KeyFileName)
	b, err := os.ReadFile(path)
	if err == nil {
		fi, statErr := os.Stat(path)
		if statErr == nil && fi.Mode().Perm()&0o077 != 0 {
			return Keys{}, false, fmt.Errorf("%s is readable by others (mode %o); chmod 600 it", path, fi.Mode().Perm())
		}
		lines := strings.Fields(string(b))
		if len(lines) == 0 {
			return Keys{}, false, fmt.Errorf("%s: empty", path)
		}
		var fromFile [][]byte
		for i, line := range lines {
			k, err := decodeKey(line)
			if err != nil {
				return Keys{}, false, fmt.Errorf("%s, line %d: %w", path, i+1, err)
			}
			fromFile = append(fromFile, k)
		}
		keys.Current = fromFile[0]
		keys.Previous = append(keys.Previous, fromFile[1:]...)
		return keys, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return Keys{}, false, fmt.Errorf("read %s: %w", path, err)
	}
	key := make([]byte, KeySize)
	_, _ = rand.Read(key)
	if err := os.MkdirAll(dataDir, 0o711); err != nil {
		return Keys{}, false, fmt.Errorf("create data directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Keys{}, false, fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return Keys{}, false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return Keys{}, false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return Keys{}, false, fmt.Errorf("write %s: %w", path, err)
	}
	keys.Current = key
	return keys, true, nil
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
