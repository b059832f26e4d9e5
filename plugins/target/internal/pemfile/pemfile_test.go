package pemfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/plugins/target/internal/servertest"
)

func TestParse(t *testing.T) {
	ca := servertest.NewCA(t, "pemfile CA")
	a, b := ca.Issue(t, "a.example.com"), ca.Issue(t, "b.example.com")
	ecParams := "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"

	for _, tc := range []struct {
		name                string
		cert, chain, key    string
		wantErr             string
		wantChain, wantFull string
	}{
		{name: "separate", cert: a.CertPEM, chain: a.ChainPEM, key: a.KeyPEM, wantChain: a.ChainPEM},
		{name: "no chain", cert: a.CertPEM, key: a.KeyPEM},
		{name: "full chain as certificate, chain repeated", cert: a.CertPEM + a.ChainPEM, chain: a.ChainPEM, key: a.KeyPEM, wantChain: a.ChainPEM},
		{name: "text around blocks", cert: "subject=CN=a\n" + a.CertPEM + "\n\n", chain: a.ChainPEM, key: ecParams + a.KeyPEM, wantChain: a.ChainPEM},
		{name: "no certificate", cert: "", key: a.KeyPEM, wantErr: "no PEM CERTIFICATE"},
		{name: "key in certificate", cert: a.CertPEM + a.KeyPEM, key: a.KeyPEM, wantErr: "unexpected PEM block"},
		{name: "garbage certificate", cert: "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", key: a.KeyPEM, wantErr: "malformed"},
		{name: "no key", cert: a.CertPEM, wantErr: "no PEM PRIVATE KEY"},
		{name: "two keys", cert: a.CertPEM, key: a.KeyPEM + b.KeyPEM, wantErr: "more than one"},
		{name: "wrong key", cert: a.CertPEM, key: b.KeyPEM, wantErr: "does not match"},
		{name: "encrypted key", cert: a.CertPEM, key: "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", wantErr: "encrypted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.cert, tc.chain, tc.key)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse error %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), strings.Split(a.KeyPEM, "\n")[1][:20]) ||
					strings.Contains(err.Error(), strings.Split(b.KeyPEM, "\n")[1][:20]) {
					t.Error("the error quotes key material")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got.LeafPEM) != a.CertPEM || string(got.ChainPEM) != tc.wantChain || string(got.KeyPEM) != a.KeyPEM {
				t.Errorf("Parse = leaf %q chain %q", got.LeafPEM, got.ChainPEM)
			}
			if string(got.FullChain()) != a.CertPEM+tc.wantChain || string(got.Combined()) != a.CertPEM+tc.wantChain+a.KeyPEM {
				t.Error("FullChain or Combined out of order")
			}
			if got.Leaf.SerialNumber.Cmp(a.Serial) != 0 {
				t.Errorf("Leaf serial %x, want %x", got.Leaf.SerialNumber, a.Serial)
			}
		})
	}
}

func TestReadLeaf(t *testing.T) {
	a := servertest.NewCA(t, "pemfile CA").Issue(t, "a.example.com")
	path := filepath.Join(t.TempDir(), "combined.pem")
	if err := os.WriteFile(path, []byte(a.KeyPEM+a.CertPEM+a.ChainPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	leaf, err := ReadLeaf(path)
	if err != nil || leaf.SerialNumber.Cmp(a.Serial) != 0 {
		t.Fatalf("ReadLeaf = %v, %v; want the first certificate", leaf, err)
	}
	if err := os.WriteFile(path, []byte(a.KeyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLeaf(path); err == nil {
		t.Error("ReadLeaf of a file without certificates succeeded")
	}
}
