// Package acmetest runs real ACME infrastructure for tests on loopback:
// Pebble, Let's Encrypt's test CA (pebble.go), its challenge test server
// pebble-challtestsrv as the DNS server Pebble resolves names through, and
// a test DNS server with RFC 2136 updates (dns*.go).
//
// The Pebble programs are pinned and installed by `make test-tools` into
// .tools/ at the root of the checkout (`make test` does it first); a test
// that cannot find them fails and says so, it never skips.
package acmetest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
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

	"github.com/certctl/certctl/tools/doctest"
)

// startTimeout bounds the start of Pebble or pebble-challtestsrv: generous,
// for a busy two-core machine; it only stops a test that would hang.
const startTimeout = 60 * time.Second

// PebbleOptions configure a Pebble started by StartPebble.
type PebbleOptions struct {
	// HTTPPort is the port Pebble connects to for HTTP-01 validation, on
	// the address the name resolves to (127.0.0.1 by default): where the
	// test's responder listens. 0 picks a free port (Pebble.HTTPPort).
	HTTPPort int
	// TLSPort is the port for TLS-ALPN-01 validation; 0 picks a free one.
	TLSPort int
	// DNSServer is the host:port of the DNS server Pebble resolves names
	// and DNS-01 TXT records through. "" starts a pebble-challtestsrv
	// (Pebble.Challtestsrv) whose DNS answers 127.0.0.1 for every name.
	DNSServer string
	// EAB, when not nil, makes external account binding required, with
	// these key IDs and their base64url HMAC keys.
	EAB map[string]string
	// Profiles are the CA's certificate profiles, by name; nil gives
	// "default" (90 days) and "shortlived" (6 days). Pebble picks one at
	// random for an order that names none.
	Profiles map[string]PebbleProfile
	// NonceRejectPercent is how often Pebble rejects a valid nonce with
	// badNonce (PEBBLE_WFE_NONCEREJECT); 0 never, for determinism.
	NonceRejectPercent int
	// AuthzReusePercent is how often Pebble reuses a valid authorization
	// of the account for an identifier of a new order (PEBBLE_AUTHZREUSE);
	// 0 means Pebble's default, 50; negative means never.
	AuthzReusePercent int
	// AlternateRoots is how many alternate chains (to other roots) Pebble
	// offers for each certificate (PEBBLE_ALTERNATE_ROOTS).
	AlternateRoots int
	// ChainLength is the number of certificates in a chain, root
	// included (PEBBLE_CHAIN_LENGTH); 0 means Pebble's default.
	ChainLength int
	// RetryAfterAuthz and RetryAfterOrder are the Retry-After seconds
	// Pebble sends with pending authorizations and orders.
	RetryAfterAuthz, RetryAfterOrder int
}

// PebbleProfile is one certificate profile of Pebble.
type PebbleProfile struct {
	Description    string `json:"description"`
	ValidityPeriod int64  `json:"validityPeriod"` // seconds
}

// Pebble is a running Pebble.
type Pebble struct {
	// DirectoryURL is the ACME directory (https on 127.0.0.1).
	DirectoryURL string
	// ManagementURL is the base of Pebble's management API.
	ManagementURL string
	// CABundlePEM is the certificate of the CA that signed Pebble's TLS
	// certificate: what an ACME client must trust to talk to it.
	CABundlePEM string
	// HTTPPort and TLSPort are where Pebble validates HTTP-01 and
	// TLS-ALPN-01 challenges.
	HTTPPort, TLSPort int
	// DNSServer is the DNS server Pebble resolves through.
	DNSServer string
	// Challtestsrv is the pebble-challtestsrv started for DNS, if any.
	Challtestsrv *Challtestsrv

	client *http.Client
}

// StartPebble starts Pebble with o on loopback ports and stops it when t
// ends. Its output goes to t's log when t fails.
func StartPebble(t testing.TB, o PebbleOptions) *Pebble {
	t.Helper()
	bin := ToolPath(t, "pebble")
	dir := t.TempDir()
	caPEM, certFile, keyFile := writeTLSCert(t, dir)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(caPEM))

	p := &Pebble{CABundlePEM: caPEM, HTTPPort: o.HTTPPort, TLSPort: o.TLSPort, DNSServer: o.DNSServer,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
	if p.HTTPPort == 0 {
		p.HTTPPort = FreePort(t)
	}
	if p.TLSPort == 0 {
		p.TLSPort = FreePort(t)
	}
	if p.DNSServer == "" {
		p.Challtestsrv = StartChalltestsrv(t)
		p.DNSServer = p.Challtestsrv.DNSAddr
	}
	profiles := o.Profiles
	if profiles == nil {
		profiles = map[string]PebbleProfile{
			"default":    {Description: "90 days", ValidityPeriod: 90 * 24 * 3600},
			"shortlived": {Description: "6 days", ValidityPeriod: 6 * 24 * 3600},
		}
	}
	listen, mgmt := loopbackAddr(t), loopbackAddr(t)
	type retryAfter struct {
		Authz int `json:"authz"`
		Order int `json:"order"`
	}
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress":                  listen,
		"managementListenAddress":        mgmt,
		"certificate":                    certFile,
		"privateKey":                     keyFile,
		"httpPort":                       p.HTTPPort,
		"tlsPort":                        p.TLSPort,
		"externalAccountBindingRequired": o.EAB != nil,
		"externalAccountMACKeys":         o.EAB,
		"retryAfter":                     retryAfter{Authz: o.RetryAfterAuthz, Order: o.RetryAfterOrder},
		"keyAlgorithm":                   "ecdsa",
		"profiles":                       profiles,
	}}
	cfgJSON, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "pebble-config.json")
	if err := os.WriteFile(cfgFile, cfgJSON, 0o600); err != nil {
		t.Fatal(err)
	}

	env := append(os.Environ(), "PEBBLE_VA_NOSLEEP=1",
		"PEBBLE_WFE_NONCEREJECT="+strconv.Itoa(o.NonceRejectPercent),
		"PEBBLE_ALTERNATE_ROOTS="+strconv.Itoa(o.AlternateRoots))
	switch {
	case o.AuthzReusePercent < 0:
		env = append(env, "PEBBLE_AUTHZREUSE=0")
	case o.AuthzReusePercent > 0:
		env = append(env, "PEBBLE_AUTHZREUSE="+strconv.Itoa(o.AuthzReusePercent))
	}
	if o.ChainLength > 0 {
		env = append(env, "PEBBLE_CHAIN_LENGTH="+strconv.Itoa(o.ChainLength))
	}
	startProcess(t, "pebble", env, bin, "-config", cfgFile, "-dnsserver", p.DNSServer)

	p.DirectoryURL = "https://" + listen + "/dir"
	p.ManagementURL = "https://" + mgmt
	waitHTTP(t, p.client, p.DirectoryURL)
	waitHTTP(t, p.client, p.ManagementURL+"/roots/0")
	return p
}

// HTTPClient returns a client that trusts Pebble's TLS certificate.
func (p *Pebble) HTTPClient() *http.Client { return p.client }

// RootPEM returns root i of the CA (0 the main one, 1... the alternate
// roots), from the management API: Pebble makes new roots at every start.
func (p *Pebble) RootPEM(t testing.TB, i int) string {
	t.Helper()
	return string(p.get(t, fmt.Sprintf("/roots/%d", i)))
}

// IntermediatePEM returns the intermediate under root i.
func (p *Pebble) IntermediatePEM(t testing.TB, i int) string {
	t.Helper()
	return string(p.get(t, fmt.Sprintf("/intermediates/%d", i)))
}

// Roots returns a pool holding root i.
func (p *Pebble) Roots(t testing.TB, i int) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(p.RootPEM(t, i))) {
		t.Fatalf("pebble root %d is not PEM", i)
	}
	return pool
}

// CertStatus is what Pebble knows of a certificate it issued.
type CertStatus struct {
	Status    string // "Valid" or "Revoked"
	Serial    string
	Reason    *int   // the revocation reason, if revoked with one
	RevokedAt string // when revoked
}

// CertStatus returns the status of the certificate with serial (hex), from
// the management API; ok is false when Pebble does not know it.
func (p *Pebble) CertStatus(t testing.TB, serial string) (st CertStatus, ok bool) {
	t.Helper()
	resp, err := p.client.Get(p.ManagementURL + "/cert-status-by-serial/" + serial)
	if err != nil {
		t.Fatalf("pebble cert status: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		return st, false
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("pebble cert status %s: %s: %s", serial, resp.Status, body)
	}
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("pebble cert status %s: %v: %s", serial, err, body)
	}
	return st, true
}

// SetRenewalInfo makes Pebble answer ARI for certPEM with the window
// start..end instead of its computed one.
func (p *Pebble) SetRenewalInfo(t testing.TB, certPEM string, start, end time.Time) {
	t.Helper()
	ari, _ := json.Marshal(map[string]any{"suggestedWindow": map[string]string{
		"start": start.UTC().Format(time.RFC3339), "end": end.UTC().Format(time.RFC3339)}})
	body, _ := json.Marshal(map[string]string{"Certificate": certPEM, "ARIResponse": string(ari)})
	resp, err := p.client.Post(p.ManagementURL+"/set-renewal-info/", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("pebble set renewal info: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("pebble set renewal info: %s: %s", resp.Status, b)
	}
}

func (p *Pebble) get(t testing.TB, path string) []byte {
	t.Helper()
	resp, err := p.client.Get(p.ManagementURL + path)
	if err != nil {
		t.Fatalf("pebble management GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("pebble management GET %s: %s %v: %s", path, resp.Status, err, body)
	}
	return body
}

// Challtestsrv is a running pebble-challtestsrv, used as a DNS server.
type Challtestsrv struct {
	DNSAddr       string // host:port (UDP and TCP)
	ManagementURL string // http
}

// StartChalltestsrv starts pebble-challtestsrv with only its DNS server
// (answering 127.0.0.1 to every A query and nothing to AAAA, so that
// Pebble connects to loopback over IPv4) and its management API.
func StartChalltestsrv(t testing.TB) *Challtestsrv {
	t.Helper()
	bin := ToolPath(t, "pebble-challtestsrv")
	dnsAddr, mgmt := loopbackAddr(t), loopbackAddr(t)
	startProcess(t, "pebble-challtestsrv", os.Environ(), bin, "-dnsserver", dnsAddr, "-management", mgmt,
		"-http01", "", "-https01", "", "-doh", "", "-tlsalpn01", "", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "")
	c := &Challtestsrv{DNSAddr: dnsAddr, ManagementURL: "http://" + mgmt}
	// The management server answers once it runs; the DNS server starts first.
	waitHTTP(t, http.DefaultClient, c.ManagementURL+"/")
	return c
}

// SetTXT publishes a TXT record (fqdn with a trailing dot).
func (c *Challtestsrv) SetTXT(t testing.TB, fqdn, value string) {
	t.Helper()
	c.post(t, "/set-txt", map[string]string{"host": fqdn, "value": value})
}

// ClearTXT removes the TXT records of fqdn.
func (c *Challtestsrv) ClearTXT(t testing.TB, fqdn string) {
	t.Helper()
	c.post(t, "/clear-txt", map[string]string{"host": fqdn})
}

func (c *Challtestsrv) post(t testing.TB, path string, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(c.ManagementURL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("pebble-challtestsrv %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		out, _ := io.ReadAll(resp.Body)
		t.Fatalf("pebble-challtestsrv %s: %s: %s", path, resp.Status, out)
	}
}

// ToolPath returns the path of a program `make test-tools` installs into
// .tools/ at the root of the checkout, failing t when it is missing.
func ToolPath(t testing.TB, name string) string {
	t.Helper()
	root, err := doctest.FindRepoRoot()
	if err != nil {
		t.Fatalf("acmetest: %v", err)
	}
	path := filepath.Join(root, ".tools", name)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("acmetest: %s is not installed (%v): run `make test-tools` at the root of the checkout", name, err)
	}
	return path
}

// FreePort returns a TCP port free on 127.0.0.1 at the time of the call.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func loopbackAddr(t testing.TB) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t)))
}

// startProcess runs a program until t ends; its output is logged if t
// failed, or if it exits early.
func startProcess(t testing.TB, name string, env []string, bin string, args ...string) {
	t.Helper()
	var out syncBuffer
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
}

// waitHTTP waits until url answers any HTTP status.
func waitHTTP(t testing.TB, c *http.Client, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	var last error
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			return
		}
		last = err
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("acmetest: %s does not answer after %s: %v", url, startTimeout, last)
}

// writeTLSCert makes a CA and a certificate for 127.0.0.1 and localhost
// signed by it, writes the certificate and key into dir, and returns the
// CA's PEM and the two file names.
func writeTLSCert(t testing.TB, dir string) (caPEM, certFile, keyFile string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "acmetest TLS CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls-cert.pem"), filepath.Join(dir, "tls-key.pem")
	if err := errors.Join(
		os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600),
		os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600),
	); err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})), certFile, keyFile
}

// syncBuffer is a bytes.Buffer safe for a process's output and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(b.buf.String())
}
