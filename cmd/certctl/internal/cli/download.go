package cli

// download.go: certctl certs download — a certificate version as files,
// and, when asked with --key, the private key the server holds. Keys go to
// files of mode 0600 and are never printed; existing files are kept unless
// --force.

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

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
		dir, version, format string
		key, force           bool
	)
	cmd := &cobra.Command{
		Use:   "download NAME|ID",
		Short: "Write a certificate, its chain and (with --key) its server-held private key to files",
		Long: `Write a certificate version to files in --dir:

  NAME.crt            the certificate
  NAME.chain.crt      the issuing chain (when the CA gave one)
  NAME.fullchain.crt  the certificate followed by the chain

With --key (admin keys only, certificates in server key mode), also the
private key, mode 0600: NAME.key (PEM, PKCS#8), or with --format pkcs12
NAME.p12 and its generated password in NAME.p12.pass. Keys are never
printed. Existing files are left alone unless --force.`,
		Example: `  certctl certs download www-example-com --dir /etc/ssl/www
  certctl certs download www-example-com --key --format pkcs12`,
		Args:              exactArgs(1, "a certificate name or id"),
		ValidArgsFunction: a.certArg(),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			switch format {
			case client.KeyFormatPEM, client.KeyFormatPKCS12:
			default:
				return usageErrorf("--format %q: use pem or pkcs12", format)
			}
			c, err := a.getCertificate(ctx, args[0])
			if err != nil {
				return err
			}
			cl, _ := a.client()
			vid := version
			if vid == "" {
				if c.CurrentVersionID == nil {
					return notFoundErrorf("certificate %s has no issued version yet (status %s)", c.Name, c.Status)
				}
				vid = *c.CurrentVersionID
			}
			v, err := cl.GetCertificateVersion(ctx, c.ID, vid)
			if err != nil {
				return err
			}
			res := downloadResult{Certificate: c.Name, VersionID: v.ID, SerialNumber: v.SerialNumber}
			base := filepath.Join(dir, c.Name)
			write := func(suffix, content string, data []byte, mode fs.FileMode) error {
				p := base + suffix
				if err := writeFile(p, data, mode, force); err != nil {
					return err
				}
				res.Files = append(res.Files, downloadedFile{Path: p, Content: content, Mode: fmt.Sprintf("%04o", mode)})
				return nil
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("download: %w", err)
			}
			leaf := []byte(ensureNewline(v.CertificatePEM))
			if err := write(".crt", "certificate", leaf, 0o644); err != nil {
				return err
			}
			if v.ChainPEM != "" {
				chain := []byte(ensureNewline(v.ChainPEM))
				if err := write(".chain.crt", "chain", chain, 0o644); err != nil {
					return err
				}
				if err := write(".fullchain.crt", "fullchain", append(append([]byte{}, leaf...), chain...), 0o644); err != nil {
					return err
				}
			} else if err := write(".fullchain.crt", "fullchain", leaf, 0o644); err != nil {
				return err
			}
			if key {
				exp, err := cl.ExportPrivateKey(ctx, c.ID, v.ID, format)
				if err != nil {
					return err
				}
				if exp.Format == client.KeyFormatPKCS12 {
					if err := write(".p12", "pkcs12", exp.Data, 0o600); err != nil {
						return err
					}
					if err := write(".p12.pass", "pkcs12_password", []byte(exp.Password+"\n"), 0o600); err != nil {
						return err
					}
				} else {
					keyPEM, err := privateKeyBlocks(exp.Data)
					if err != nil {
						return err
					}
					if err := write(".key", "private_key", keyPEM, 0o600); err != nil {
						return err
					}
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
	f.StringVar(&dir, "dir", ".", "directory to write the files in")
	f.StringVar(&version, "version", "", "version id (default: the current version)")
	f.BoolVar(&key, "key", false, "also write the private key (server key mode; admin key needed)")
	f.StringVar(&format, "format", client.KeyFormatPEM, "private key format with --key: pem or pkcs12")
	f.BoolVar(&force, "force", false, "overwrite existing files")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"pem", "pkcs12"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagDirname("dir")
	return cmd
}

func ensureNewline(s string) string {
	if s != "" && s[len(s)-1] != '\n' {
		return s + "\n"
	}
	return s
}

// privateKeyBlocks keeps the private key blocks of a PEM export (which
// holds the key, then the certificate and chain).
func privateKeyBlocks(data []byte) ([]byte, error) {
	var out bytes.Buffer
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "PRIVATE KEY" || bytes.HasSuffix([]byte(b.Type), []byte(" PRIVATE KEY")) {
			if err := pem.Encode(&out, b); err != nil {
				return nil, fmt.Errorf("private key: %w", err)
			}
		}
	}
	if out.Len() == 0 {
		return nil, errors.New("the server's key export holds no private key")
	}
	return out.Bytes(), nil
}

// writeFile writes data to path with mode. Without force an existing file
// is an error; with it the file is replaced atomically. The file never
// exists with a wider mode than asked, even for a moment.
func writeFile(path string, data []byte, mode fs.FileMode, force bool) error {
	if !force {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if errors.Is(err, fs.ErrExist) {
			return withCode(ExitConflict, fmt.Errorf("%s exists: remove it or use --force", path))
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		if err := f.Chmod(mode); err != nil { // exactly mode, whatever the umask
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
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
