package client

// bundle.go: a certificate version as the files servers load: PEM files
// (certificate, chain, full chain, and the key when the server holds it)
// written atomically with safe permissions, or one PKCS#12 file protected by
// a password of the caller's choosing.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/certctl/certctl/sdk/api"
)

// Bundle is one version of a certificate with what it takes to serve it.
// It formats itself without the private key, so that printing or logging
// it by mistake does not leak the key.
type Bundle struct {
	// Certificate is the managed certificate the version belongs to.
	Certificate api.Certificate
	// Version is the version: serial, validity, PEM.
	Version api.CertificateVersion
	// CertificatePEM is the leaf certificate.
	CertificatePEM []byte
	// ChainPEM is the issuer's chain (intermediates first), possibly empty.
	ChainPEM []byte
	// PrivateKeyPEM is the key (PKCS#8, "PRIVATE KEY"), when it was asked
	// for and the server holds it (server key mode, admin key); else nil.
	PrivateKeyPEM []byte
}

// BundleOptions adjust GetBundle.
type BundleOptions struct {
	// VersionID names the version; "" means the current one.
	VersionID string
	// IncludeKey exports the private key too (admin only, audited). A
	// version whose key the server does not hold (agent key mode) is
	// IsNotFound.
	IncludeKey bool
}

// GetBundle returns a certificate's version (the current one unless
// opts.VersionID says otherwise) as a Bundle, with its private key when
// opts.IncludeKey is set. A certificate not issued yet is IsNotFound.
func (c *Client) GetBundle(ctx context.Context, certificateID string, opts BundleOptions) (*Bundle, error) {
	cert, err := c.GetCertificate(ctx, certificateID)
	if err != nil {
		return nil, err
	}
	versionID := opts.VersionID
	if versionID == "" {
		if cert.CurrentVersionID == nil {
			return nil, &Error{StatusCode: 404, Code: api.CodeNotFound,
				Message: fmt.Sprintf("certificate %s has no issued version yet (status %s)", cert.Name, cert.Status)}
		}
		versionID = *cert.CurrentVersionID
	}
	v, err := c.GetCertificateVersion(ctx, certificateID, versionID)
	if err != nil {
		return nil, err
	}
	b := &Bundle{Certificate: *cert, Version: *v, CertificatePEM: []byte(v.CertificatePEM), ChainPEM: []byte(v.ChainPEM)}
	if opts.IncludeKey {
		exp, err := c.ExportPrivateKey(ctx, certificateID, versionID, KeyFormatPEM)
		if err != nil {
			return nil, err
		}
		if b.PrivateKeyPEM, err = privateKeyBlock(exp.Data); err != nil {
			return nil, fmt.Errorf("certctl client: exported key of %s: %w", cert.Name, err)
		}
	}
	return b, nil
}

// privateKeyBlock returns the private key block of a PEM export (the key,
// then the certificate and chain).
func privateKeyBlock(data []byte) ([]byte, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no private key in the export")
		}
		if block.Type == "PRIVATE KEY" {
			return pem.EncodeToMemory(block), nil
		}
	}
}

// FullchainPEM is the certificate followed by its chain, as most servers
// (NGINX, HAProxy) want it.
func (b *Bundle) FullchainPEM() []byte {
	out := append([]byte{}, b.CertificatePEM...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return append(out, b.ChainPEM...)
}

// String describes the bundle without its key.
func (b Bundle) String() string {
	key := "none"
	if b.PrivateKeyPEM != nil {
		key = "<redacted>"
	}
	return fmt.Sprintf("Bundle{Certificate: %q, Version: %s, Serial: %s, PrivateKey: %s}",
		b.Certificate.Name, b.Version.ID, b.Version.SerialNumber, key)
}

// GoString is String, for %#v.
func (b Bundle) GoString() string { return b.String() }

// LogValue keeps the key out of slog records.
func (b Bundle) LogValue() slog.Value {
	return slog.GroupValue(slog.String("certificate", b.Certificate.Name), slog.String("version_id", b.Version.ID),
		slog.String("serial", b.Version.SerialNumber), slog.Bool("has_private_key", b.PrivateKeyPEM != nil))
}

// File names WritePEMFiles uses, as certbot names them.
const (
	CertFileName      = "cert.pem"
	ChainFileName     = "chain.pem"
	FullchainFileName = "fullchain.pem"
	KeyFileName       = "privkey.pem"
)

// WritePEMFiles writes the bundle into dir (which must exist) as
// cert.pem, chain.pem and fullchain.pem (mode 0644), and privkey.pem (mode
// 0600) when the bundle holds the key. Each file is written to a temporary
// file in dir and renamed over the old one, so that a server reading them
// sees the old file or the new, never half of one; a key file never exists
// with a looser mode, not even for a moment. It returns the paths written.
func (b *Bundle) WritePEMFiles(dir string) ([]string, error) {
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{CertFileName, b.CertificatePEM, 0o644},
		{ChainFileName, b.ChainPEM, 0o644},
		{FullchainFileName, b.FullchainPEM(), 0o644},
	}
	if b.PrivateKeyPEM != nil {
		files = append(files, struct {
			name string
			data []byte
			mode os.FileMode
		}{KeyFileName, b.PrivateKeyPEM, 0o600})
	}
	var written []string
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := WriteFileAtomic(p, f.data, f.mode); err != nil {
			return written, err
		}
		written = append(written, p)
	}
	return written, nil
}

// PKCS12 encodes the bundle (key, certificate and chain) as a PKCS#12
// file protected by password, with modern algorithms (PBES2 with
// PBKDF2-HMAC-SHA-256 and AES-256-CBC, an HMAC-SHA-2 MAC) that OpenSSL
// 1.1.1 and later, Java 12 and later and Windows Server 2019 read. The
// bundle must hold its key (GetBundle with IncludeKey); the password must
// not be empty.
func (b *Bundle) PKCS12(password string) ([]byte, error) {
	if password == "" {
		return nil, errors.New("certctl client: a PKCS#12 file needs a password")
	}
	if b.PrivateKeyPEM == nil {
		return nil, errors.New("certctl client: the bundle has no private key (GetBundle with IncludeKey, server key mode)")
	}
	block, _ := pem.Decode(b.PrivateKeyPEM)
	if block == nil {
		return nil, errors.New("certctl client: the bundle's private key is not PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certctl client: parse the bundle's private key: %w", err)
	}
	certs, err := parseCertificatesPEM(b.FullchainPEM())
	if err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, errors.New("certctl client: the bundle has no certificate")
	}
	data, err := pkcs12.Modern.Encode(key.(crypto.PrivateKey), certs[0], certs[1:], password)
	if err != nil {
		return nil, fmt.Errorf("certctl client: encode PKCS#12: %w", err)
	}
	return data, nil
}

// WritePKCS12 writes PKCS12(password) to path atomically, mode 0600.
func (b *Bundle) WritePKCS12(path, password string) error {
	data, err := b.PKCS12(password)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, data, 0o600)
}

// parseCertificatesPEM parses every CERTIFICATE block of text.
func parseCertificatesPEM(text []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := bytes.TrimSpace(text)
	for len(rest) > 0 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certctl client: parse certificate %d of the bundle: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// WriteFileAtomic writes data to path through a temporary file in the
// same directory, created with mode (so that a secret is never readable by
// others, even before the rename), synced, then renamed over path, and the
// directory synced: readers see the old content or the new, and a crash
// leaves one of them. mode is applied whatever the umask.
func WriteFileAtomic(path string, data []byte, mode os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("certctl client: write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// CreateTemp makes the file 0600; widen (or keep) it before any data
	// is in it.
	if err = f.Chmod(mode); err != nil {
		return fmt.Errorf("certctl client: write %s: %w", path, err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("certctl client: write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("certctl client: write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("certctl client: write %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("certctl client: write %s: %w", path, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		// Make the rename itself durable; not every system can sync a
		// directory, and the file is in place either way.
		_ = d.Sync()
		d.Close()
	}
	return nil
}
