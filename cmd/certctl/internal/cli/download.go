package cli

// download.go: certctl certs download — a certificate version as the
// files a server uses, through the SDK's bundles: cert.pem, chain.pem,
// fullchain.pem and, when asked with --key, privkey.pem (mode 0600) or a
// PKCS#12 file. Keys are never printed; existing files are kept unless
// --force.

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/certctl/certctl/sdk/client"
)

// downloadedFile is one file written.
type downloadedFile struct {
	Path    string `json:"path"`
	Content string `json:"content"` // certificate, chain, fullchain, private_key, pkcs12, pkcs12_password
	Mode    string `json:"mode"`
}

// downloadResult is what download prints.
type downloadResult struct {
	Certificate  string           `json:"certificate"`
	VersionID    string           `json:"version_id"`
	SerialNumber string           `json:"serial_number"`
	Files        []downloadedFile `json:"files"`
}

func (a *app) certsDownload() *cobra.Command {
	var (
		dir, version, format, passwordFile string
		key, force                         bool
	)
	cmd := &cobra.Command{
		Use:   "download NAME|ID",
		Short: "Write a certificate, its chain and (with --key) its server-held private key to files",
		Long: `Write a certificate version (the current one unless --version) into --dir
(default: a directory named after the certificate), as certbot lays out:

  cert.pem       the certificate                              0644
  chain.pem      the issuing chain                            0644
  fullchain.pem  the certificate followed by the chain        0644
  privkey.pem    with --key: the private key (PEM, PKCS#8)    0600

With --key --format pkcs12, NAME.p12 (mode 0600) holds the key, certificate
and chain instead of privkey.pem, protected by the password in
--password-file, or by a generated one written to NAME.p12.pass (0600).
--key needs an admin key and a certificate in server key mode; every export
is in the audit trail. Keys are never printed. Existing files are left
alone (exit status 5) unless --force.`,
		Example: `  certctl certs download www-example-com --dir /etc/ssl/www
  certctl certs download www-example-com --key
  certctl certs download www-example-com --key --format pkcs12 --password-file pw.txt`,
		Args:              exactArgs(1, "a certificate name or id"),
		ValidArgsFunction: a.certArg(),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			switch format {
			case client.KeyFormatPEM:
			case client.KeyFormatPKCS12:
				if !key {
					return usageErrorf("--format pkcs12 needs --key")
				}
			default:
				return usageErrorf("--format %q: use pem or pkcs12", format)
			}
			c, err := a.getCertificate(ctx, args[0])
			if err != nil {
				return err
			}
			if dir == "" {
				dir = c.Name
			}
			names := []string{client.CertFileName, client.ChainFileName, client.FullchainFileName}
			p12 := filepath.Join(dir, c.Name+".p12")
			pass := p12 + ".pass"
			switch {
			case key && format == client.KeyFormatPKCS12:
				names = append(names, filepath.Base(p12))
				if passwordFile == "" {
					names = append(names, filepath.Base(pass))
				}
			case key:
				names = append(names, client.KeyFileName)
			}
			if !force {
				for _, n := range names {
					p := filepath.Join(dir, n)
					if _, err := os.Lstat(p); err == nil {
						return withCode(ExitConflict, fmt.Errorf("%s exists: remove it or use --force", p))
					}
				}
			}
			password := ""
			if key && format == client.KeyFormatPKCS12 {
				if password, err = pkcs12Password(passwordFile); err != nil {
					return err
				}
			}
			cl, _ := a.client()
			b, err := cl.GetBundle(ctx, c.ID, client.BundleOptions{VersionID: version, IncludeKey: key})
			if err != nil {
				return err
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("download: %w", err)
			}
			pemBundle := *b
			if format == client.KeyFormatPKCS12 {
				pemBundle.PrivateKeyPEM = nil // the key goes into the PKCS#12 file only
			}
			written, err := pemBundle.WritePEMFiles(dir)
			if err != nil {
				return fmt.Errorf("download: %w", err)
			}
			res := downloadResult{Certificate: c.Name, VersionID: b.Version.ID, SerialNumber: b.Version.SerialNumber}
			contents := map[string]string{client.CertFileName: "certificate", client.ChainFileName: "chain",
				client.FullchainFileName: "fullchain", client.KeyFileName: "private_key"}
			for _, p := range written {
				mode := "0644"
				if filepath.Base(p) == client.KeyFileName {
					mode = "0600"
				}
				res.Files = append(res.Files, downloadedFile{Path: p, Content: contents[filepath.Base(p)], Mode: mode})
			}
			if key && format == client.KeyFormatPKCS12 {
				if err := b.WritePKCS12(p12, password); err != nil {
					return fmt.Errorf("download: %w", err)
				}
				res.Files = append(res.Files, downloadedFile{Path: p12, Content: "pkcs12", Mode: "0600"})
				if passwordFile == "" {
					if err := client.WriteFileAtomic(pass, []byte(password+"\n"), 0o600); err != nil {
						return fmt.Errorf("download: %w", err)
					}
					res.Files = append(res.Files, downloadedFile{Path: pass, Content: "pkcs12_password", Mode: "0600"})
				}
			}
			return a.emit(res, func(t *table) {
				t.row("FILE", "CONTENT", "MODE")
				for _, f := range res.Files {
					t.row(f.Path, f.Content, f.Mode)
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "dir", "", "directory to write the files in (default: ./NAME)")
	f.StringVar(&version, "version", "", "version id (default: the current version)")
	f.BoolVar(&key, "key", false, "also write the private key (server key mode; admin key needed)")
	f.StringVar(&format, "format", client.KeyFormatPEM, "private key format with --key: pem or pkcs12")
	f.StringVar(&passwordFile, "password-file", "", "with --format pkcs12: read the file's password from here")
	f.BoolVar(&force, "force", false, "overwrite existing files")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"pem", "pkcs12"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagDirname("dir")
	return cmd
}

// pkcs12Password reads the password from file, or makes one.
func pkcs12Password(file string) (string, error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--password-file: %w", err)
		}
		pw := strings.TrimRight(string(data), "\r\n")
		if pw == "" {
			return "", usageErrorf("--password-file %s is empty", file)
		}
		return pw, nil
	}
	raw := make([]byte, 18)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("make a PKCS#12 password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// writeNewFile writes data to a file that must not exist yet, with
// exactly mode whatever the umask: for secrets shown once (a new API key,
// an enrollment token), which must never replace another file.
func writeNewFile(path string, data []byte, mode fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if errors.Is(err, fs.ErrExist) {
		return withCode(ExitConflict, fmt.Errorf("%s exists", path))
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
