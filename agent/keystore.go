package agent

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	"github.com/certctl/certctl/sdk/keys"
)

// keystore keeps private keys on this host, one directory per certificate,
// files mode 0600. A key is made for an issuance job and found again, when
// its certificate arrives, by its public key.
type keystore struct {
	dir string
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)

func newKeystore(dir string) (*keystore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("key directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("key directory: %w", err)
	}
	return &keystore{dir: dir}, nil
}

func (k *keystore) path(certID, jobID string) (string, error) {
	if !safeName.MatchString(certID) || !safeName.MatchString(jobID) {
		return "", fmt.Errorf("unsafe key name %q/%q", certID, jobID)
	}
	return filepath.Join(k.dir, certID, jobID+".key"), nil
}

// forJob returns the key made for an issuance job, making it the first
// time (a retried job reuses its key, so its CSR stays the same).
func (k *keystore) forJob(certID, jobID, keyType string) (crypto.Signer, error) {
	p, err := k.path(certID, jobID)
	if err != nil {
		return nil, err
	}
	if key, err := readKey(p); err == nil {
		return key, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	key, err := generateKey(keyType)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, fmt.Errorf("store key: %w", err)
	}
	return key, nil
}

// current returns the newest key of a certificate, for key reuse.
func (k *keystore) current(certID string) (crypto.Signer, string, error) {
	entries, err := os.ReadDir(filepath.Join(k.dir, certID))
	if err != nil {
		return nil, "", err
	}
	var newest string
	for _, e := range entries { // job ids are time-ordered UUIDv7s
		if filepath.Ext(e.Name()) == ".key" && e.Name() > newest {
			newest = e.Name()
		}
	}
	if newest == "" {
		return nil, "", fs.ErrNotExist
	}
	key, err := readKey(filepath.Join(k.dir, certID, newest))
	return key, newest, err
}

// matching returns the PEM of the key of certID whose public key is pub.
func (k *keystore) matching(certID string, pub any) ([]byte, error) {
	want, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	if !safeName.MatchString(certID) {
		return nil, fmt.Errorf("unsafe certificate id %q", certID)
	}
	entries, err := os.ReadDir(filepath.Join(k.dir, certID))
	if err != nil {
		return nil, fmt.Errorf("no key for certificate %s on this host: %w", certID, err)
	}
	for _, e := range entries {
		p := filepath.Join(k.dir, certID, e.Name())
		key, err := readKey(p)
		if err != nil {
			continue
		}
		got, err := x509.MarshalPKIXPublicKey(key.Public())
		if err == nil && bytes.Equal(got, want) {
			return os.ReadFile(p)
		}
	}
	return nil, fmt.Errorf("no key on this host matches the certificate of %s", certID)
}

func readKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s: not PEM", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: not a signing key", path)
	}
	return s, nil
}

func generateKey(keyType string) (crypto.Signer, error) { return keys.Generate(keyType) }
