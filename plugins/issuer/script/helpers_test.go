// This file holds what the tests share: a real OpenSSL CA made with the
// documented script, small scripts written into the test's directory,
// keys and CSRs, and error assertions.

package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/certctl/certctl/plugins/internal/plugintesting"
	"github.com/certctl/certctl/sdk/keys"
	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// opensslCA is a CA made by testdata/openssl-ca.sh in a temporary
// directory, with the script copied next to it as a user would install it.
type opensslCA struct {
	dir    string // CA_DIR
	script string
	root   *x509.Certificate
}

func newOpenSSLCA(t *testing.T) *opensslCA {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("these tests need openssl on PATH (.ci/run installs it): %v", err)
	}
	base := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "openssl-ca.sh"))
	if err != nil {
		t.Fatal(err)
	}
	ca := &opensslCA{dir: filepath.Join(base, "ca"), script: filepath.Join(base, "openssl-ca.sh")}
	if err := os.WriteFile(ca.script, src, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ca.script, "init")
	cmd.Env = append(os.Environ(), "CA_DIR="+ca.dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl-ca.sh init: %v\n%s", err, out)
	}
	pemText, err := os.ReadFile(filepath.Join(ca.dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ca.root = parseCert(t, string(pemText))
	return ca
}

// config is the documented configuration for the CA.
func (ca *opensslCA) config() plugin.Config {
	return plugin.Config{
		fieldCommand:       []any{ca.script, "issue"},
		fieldRevokeCommand: []any{ca.script, "revoke"},
		fieldEnv:           []any{"CA_DIR=" + ca.dir},
		fieldValidity:      "7d",
	}
}

// index returns the CA's database (openssl ca's index.txt).
func (ca *opensslCA) index(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ca.dir, "index.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// parseCert parses the first PEM certificate of text.
func parseCert(t *testing.T, text string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(text))
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("no PEM certificate in %q", text)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writeScript writes an executable shell script into dir and returns its path.
func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// openPlugin builds the plugin and starts it as a host does.
func openPlugin(t *testing.T) plugin.Issuer {
	t.Helper()
	return plugintesting.Open(t, plugintest.Build(t, "."), plugin.KindIssuer).Issuer()
}

// request is an issuance request for a fresh key of keyType.
func request(t *testing.T, cfg plugin.Config, keyType, cn string, sans ...string) (plugin.IssueRequest, crypto.Signer) {
	t.Helper()
	key, err := keys.Generate(keyType)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := keys.CSR(cn, sans, key)
	if err != nil {
		t.Fatal(err)
	}
	return plugin.IssueRequest{Config: cfg, CSR: csr, CommonName: cn, SANs: sans,
		IdempotencyKey: "job-" + t.Name(), Now: time.Now()}, key
}

// wantCode fails unless err has code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", code)
	}
	if got := plugin.ErrorCode(err); got != code {
		t.Fatalf("error %q has code %s, want %s", err, got, code)
	}
}

// callCtx is a generous deadline for one call: it stops a hung test, it
// is not a measure of speed.
func callCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
