// This file holds what the tests share: the plugin binary built once, a
// process started from it, an HTTP-01 responder on Pebble's validation
// port, and a driver that calls the plugin as certctl's server does.

package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/keys"
	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/acmetest"
)

// testDeadline bounds one test's calls: generous, for a busy machine; it
// only stops a test that would hang.
const testDeadline = 3 * time.Minute

// pluginBin is the plugin's binary, built once for all the tests (which
// start many processes of it) rather than per test as
// sdk/plugin/plugintest.Build does.
var pluginBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "acme-plugin-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pluginBin = filepath.Join(dir, "certctl-plugin-issuer-acme")
	if out, err := exec.Command("go", "build", "-o", pluginBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startPlugin starts the plugin binary as a host does.
func startPlugin(t *testing.T) *plugin.Process {
	t.Helper()
	return startPluginLogging(t, nil)
}

// startPluginLogging starts the plugin with its log lines written to log.
func startPluginLogging(t *testing.T, log io.Writer) *plugin.Process {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var logger *slog.Logger
	if log != nil {
		logger = slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	proc, err := plugin.Open(ctx, plugin.OpenOptions{Path: pluginBin, Kind: plugin.KindIssuer, Logger: logger})
	if err != nil {
		t.Fatalf("open plugin: %v", err)
	}
	t.Cleanup(proc.Kill)
	return proc
}

// responder serves HTTP-01 key authorizations on 127.0.0.1, as certctl's
// server or agent does.
type responder struct {
	Port int
	mu   sync.Mutex
	keys map[string]string // token → key authorization
	hits map[string]int
}

func startResponder(t *testing.T) *responder {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &responder{Port: l.Addr().(*net.TCPAddr).Port, keys: map[string]string{}, hits: map[string]int{}}
	srv := &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return r
}

func (r *responder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	token, ok := strings.CutPrefix(req.URL.Path, "/.well-known/acme-challenge/")
	r.mu.Lock()
	ka, found := r.keys[token]
	r.hits[token]++
	r.mu.Unlock()
	if !ok || !found {
		http.NotFound(w, req)
		return
	}
	w.Write([]byte(ka))
}

func (r *responder) present(ch plugin.Challenge) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys[ch.Token] = ch.KeyAuthorization
}

// startPebble starts Pebble validating HTTP-01 on a responder.
func startPebble(t *testing.T, o acmetest.PebbleOptions) (*acmetest.Pebble, *responder) {
	t.Helper()
	r := startResponder(t)
	if o.HTTPPort == 0 {
		o.HTTPPort = r.Port
	}
	return acmetest.StartPebble(t, o), r
}

// baseConfig is an issuer configuration for p, not yet provisioned.
func baseConfig(p *acmetest.Pebble) plugin.Config {
	return plugin.Config{fieldDirectoryURL: p.DirectoryURL, fieldCABundle: p.CABundlePEM, fieldAgreeTOS: true,
		fieldEmail: "admin@example.com", fieldValidationTimeout: "30s"}
}

// provision normalises cfg with the plugin's schema and provisions it.
func provision(t *testing.T, iss plugin.Issuer, cfg plugin.Config) plugin.Config {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	norm, err := schema().Normalize(cfg)
	if err != nil {
		t.Fatalf("normalize: %v", err)
	}
	res, err := iss.Provision(ctx, plugin.ProvisionRequest{Config: norm})
	if err != nil {
		t.Fatalf("Provision: %v", err)
	}
	out, err := schema().Normalize(res.Config)
	if err != nil {
		t.Fatalf("normalize provisioned: %v", err)
	}
	return out
}

// newCSR makes a key and a CSR for the names, as an agent does.
func newCSR(t *testing.T, cn string, sans ...string) (crypto.Signer, []byte) {
	t.Helper()
	key, err := keys.Generate("ecdsa-p256")
	if err != nil {
		t.Fatal(err)
	}
	csr, err := keys.CSR(cn, sans, key)
	if err != nil {
		t.Fatal(err)
	}
	return key, csr
}

// driveOpts say how the driver presents challenges.
type driveOpts struct {
	r *responder
	// present overrides what is served for a challenge (e.g. a wrong key
	// authorization).
	present func(ch plugin.Challenge) plugin.Challenge
	// stopWhen, if set, ends the drive after a result it returns true
	// for (to kill the plugin mid-order).
	stopWhen func(plugin.IssueResult) bool
}

// drive runs an issuance to its end as certctl's server does: call,
// present the returned challenges, wait RetryAfter, ask GetOrderStatus,
// call again with the OrderID and the presented tokens.
func drive(t *testing.T, iss plugin.Issuer, req plugin.IssueRequest, o driveOpts) (plugin.IssueResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	presented := map[string]bool{}
	for calls := 1; ; calls++ {
		res, err := iss.IssueCertificate(ctx, req)
		if err != nil || res.Status == plugin.StatusIssued {
			return res, err
		}
		if res.Status != plugin.StatusPending || res.OrderID == "" {
			t.Fatalf("call %d: result %+v is neither issued nor pending with an order", calls, res)
		}
		for _, ch := range res.Challenges {
			if ch.Type != plugin.ChallengeHTTP01 || ch.Token == "" || ch.KeyAuthorization == "" || ch.Identifier == "" {
				t.Fatalf("bad challenge %+v", ch)
			}
			if o.present != nil {
				ch = o.present(ch)
			}
			o.r.present(ch)
			presented[ch.Token] = true
		}
		if o.stopWhen != nil && o.stopWhen(res) {
			return res, nil
		}
		req.OrderID = res.OrderID
		req.PresentedChallenges = req.PresentedChallenges[:0]
		for tok := range presented {
			req.PresentedChallenges = append(req.PresentedChallenges, tok)
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("still pending after %d calls: %w", calls, ctx.Err())
		case <-time.After(min(max(res.RetryAfter, 100*time.Millisecond), 5*time.Second)):
		}
		st, err := iss.GetOrderStatus(ctx, plugin.OrderStatusRequest{Config: req.Config, OrderID: req.OrderID})
		if err != nil {
			return st, fmt.Errorf("GetOrderStatus: %w", err)
		}
		if st.Status == plugin.StatusIssued {
			return st, nil
		}
	}
}

// issueName issues, through HTTP-01 presented by r, a certificate for a
// fresh name with the label, and checks it against Pebble's root.
func issueName(t *testing.T, iss plugin.Issuer, p *acmetest.Pebble, r *responder, cfg plugin.Config, label string) (
	string, plugin.IssueResult, *x509.Certificate) {
	t.Helper()
	name := uniqueName(t, label)
	key, csr := newCSR(t, name)
	res, err := drive(t, iss, plugin.IssueRequest{Config: cfg, CSR: csr, CommonName: name}, driveOpts{r: r})
	if err != nil {
		t.Fatalf("issue for %s: %v", name, err)
	}
	return name, res, verifyIssued(t, res, key, p.Roots(t, 0), name)
}

// parseChain parses a PEM text of certificates.
func parseChain(t *testing.T, text string) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	rest := []byte(text)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return out
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
}

// verifyIssued checks an issued result: the leaf certifies key for the
// names and verifies through the chain to roots.
func verifyIssued(t *testing.T, res plugin.IssueResult, key crypto.Signer, roots *x509.CertPool, names ...string) *x509.Certificate {
	t.Helper()
	if res.Status != plugin.StatusIssued {
		t.Fatalf("status %q, want issued", res.Status)
	}
	leaves := parseChain(t, res.CertificatePEM)
	if len(leaves) != 1 {
		t.Fatalf("CertificatePEM holds %d certificates", len(leaves))
	}
	leaf := leaves[0]
	if !leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()) {
		t.Error("the certificate is not for the CSR's key")
	}
	inter := x509.NewCertPool()
	chain := parseChain(t, res.ChainPEM)
	if len(chain) == 0 {
		t.Fatal("no chain")
	}
	for _, c := range chain {
		inter.AddCert(c)
	}
	for _, n := range names {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: n}); err != nil {
			t.Errorf("verify for %s: %v", n, err)
		}
	}
	return leaf
}

// wantCode fails unless err has code and its message holds each of texts.
func wantCode(t *testing.T, err error, code string, texts ...string) *plugin.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", code)
	}
	var pe *plugin.Error
	if !errors.As(err, &pe) || pe.Code != code {
		t.Fatalf("error %v has code %q, want %s", err, plugin.ErrorCode(err), code)
	}
	for _, s := range texts {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	return pe
}

// logBuffer collects log lines safely.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// uniqueName returns a DNS name no other test uses, so that Pebble has
// no valid authorization to reuse for it.
func uniqueName(t *testing.T, label string) string {
	return label + "-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36) + ".example.com"
}
