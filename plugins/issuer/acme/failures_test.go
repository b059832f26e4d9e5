package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/acmetest"
)

// TestAccountRefused: a CA that requires external account binding, and
// one whose terms are not agreed to, refuse the account with an
// invalid_config error naming the field to set; a wrong HMAC key is
// refused by the CA itself and names the HMAC field.
func TestAccountRefused(t *testing.T) {
	p, _ := startPebble(t, acmetest.PebbleOptions{EAB: map[string]string{"kid-1": "c2VjcmV0LWhtYWMta2V5LWZvci1jZXJ0Y3RsLXRlc3Rz"}})
	iss := startPlugin(t).Issuer()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	provisionErr := func(cfg plugin.Config) error {
		norm, err := schema().Normalize(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = iss.Provision(ctx, plugin.ProvisionRequest{Config: norm})
		return err
	}

	pe := wantCode(t, provisionErr(baseConfig(p)), plugin.CodeInvalidConfig, "requires external account binding")
	if pe.Field != fieldEABKeyID {
		t.Errorf("field %q, want %s", pe.Field, fieldEABKeyID)
	}
	noTOS := baseConfig(p)
	noTOS[fieldAgreeTOS] = false
	noTOS[fieldEABKeyID], noTOS[fieldEABHMACKey] = "kid-1", "c2VjcmV0LWhtYWMta2V5LWZvci1jZXJ0Y3RsLXRlc3Rz"
	if pe := wantCode(t, provisionErr(noTOS), plugin.CodeInvalidConfig, "terms of service"); pe.Field != fieldAgreeTOS {
		t.Errorf("field %q, want %s", pe.Field, fieldAgreeTOS)
	}
	wrong := baseConfig(p)
	wrong[fieldEABKeyID], wrong[fieldEABHMACKey] = "kid-1", "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmc"
	err := provisionErr(wrong)
	pe = wantCode(t, err, plugin.CodeInvalidConfig, "urn:ietf:params:acme:error:")
	if pe.Field != fieldEABHMACKey {
		t.Errorf("wrong HMAC key: field %q, want %s (%v)", pe.Field, fieldEABHMACKey, err)
	}
	if strings.Contains(err.Error(), "d3Jvbmcta2V5") {
		t.Error("the error quotes the HMAC key")
	}
}

// TestEAB registers with external account binding and issues.
func TestEAB(t *testing.T) {
	const hmac = "c2VjcmV0LWhtYWMta2V5LWZvci1jZXJ0Y3RsLXRlc3Rz"
	p, r := startPebble(t, acmetest.PebbleOptions{EAB: map[string]string{"kid-7": hmac}, AuthzReusePercent: -1})
	iss := startPlugin(t).Issuer()
	cfg := baseConfig(p)
	cfg[fieldEABKeyID], cfg[fieldEABHMACKey] = "kid-7", hmac
	cfg = provision(t, iss, cfg)
	// Provision again (the host does on every update) keeps the account.
	again := provision(t, iss, cfg)
	if again.String(fieldAccountURL) != cfg.String(fieldAccountURL) || again.String(fieldAccountKey) != cfg.String(fieldAccountKey) {
		t.Error("Provision of a provisioned configuration changed the account")
	}
	issueName(t, iss, p, r, cfg, "eab")
}

// TestChallengeFails: the host serves a wrong key authorization; the CA
// invalidates the order and the plugin fails permanently with the CA's
// problem document.
func TestChallengeFails(t *testing.T) {
	p, r := startPebble(t, acmetest.PebbleOptions{AuthzReusePercent: -1})
	iss := startPlugin(t).Issuer()
	cfg := provision(t, iss, baseConfig(p))
	name := uniqueName(t, "fail")
	_, csr := newCSR(t, name)
	_, err := drive(t, iss, plugin.IssueRequest{Config: cfg, CSR: csr, CommonName: name}, driveOpts{r: r,
		present: func(ch plugin.Challenge) plugin.Challenge { ch.KeyAuthorization = ch.Token + ".wrong"; return ch }})
	wantCode(t, err, plugin.CodePermanent, "urn:ietf:params:acme:error:unauthorized", name, "http-01", "wrong")
}

// TestUnreachable: a directory nobody answers is a transient error naming
// the URL, for Provision and for issuance; a TLS certificate the
// configuration does not trust is a configuration error on ca_bundle.
func TestUnreachable(t *testing.T) {
	iss := startPlugin(t).Issuer()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dead := "https://127.0.0.1:" + strconv.Itoa(acmetest.FreePort(t)) + "/dir"
	cfg, err := schema().Normalize(plugin.Config{fieldDirectoryURL: dead, fieldAgreeTOS: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = iss.Provision(ctx, plugin.ProvisionRequest{Config: cfg})
	wantCode(t, err, plugin.CodeTransient, dead, "unreachable")

	p, _ := startPebble(t, acmetest.PebbleOptions{})
	good := provision(t, iss, baseConfig(p))
	withKey := good.Clone()
	withKey[fieldDirectoryURL] = dead
	_, csr := newCSR(t, "a.example.com")
	_, err = iss.IssueCertificate(ctx, plugin.IssueRequest{Config: withKey, CSR: csr, CommonName: "a.example.com"})
	wantCode(t, err, plugin.CodeTransient, dead)

	untrusted := good.Clone()
	delete(untrusted, fieldCABundle)
	_, err = iss.IssueCertificate(ctx, plugin.IssueRequest{Config: untrusted, CSR: csr, CommonName: "a.example.com"})
	if pe := wantCode(t, err, plugin.CodeInvalidConfig, "not trusted"); pe.Field != fieldCABundle {
		t.Errorf("field %q, want %s", pe.Field, fieldCABundle)
	}
}

// limitingProxy stands in front of Pebble, rewriting its URLs to its own,
// and answers what the test asks for instead of Pebble.
type limitingProxy struct {
	URL         string
	CABundlePEM string // trusts the proxy and Pebble
	mu          sync.Mutex
	// fail, for a path prefix, is the status, Retry-After and problem
	// type to answer with.
	fail map[string]proxyFailure
	hits map[string]int
	// retryAfter, when set, is added to Pebble's answers for orders.
	retryAfter string
}

type proxyFailure struct {
	status     int
	retryAfter string
	problem    string
}

func startProxy(t *testing.T, p *acmetest.Pebble) *limitingProxy {
	t.Helper()
	target, _ := url.Parse(p.DirectoryURL)
	origin := target.Scheme + "://" + target.Host
	lp := &limitingProxy{fail: map[string]proxyFailure{}, hits: map[string]int{}}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(p.CABundlePEM))
	rp := &httputil.ReverseProxy{
		// Pebble checks a request's signed URL against https://<Host>:
		// the Host stays the proxy's.
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(&url.URL{Scheme: target.Scheme, Host: target.Host})
			r.Out.Host = r.In.Host
		},
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		ModifyResponse: func(resp *http.Response) error {
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			body = bytes.ReplaceAll(body, []byte(origin), []byte(lp.URL))
			resp.Body = io.NopCloser(bytes.NewReader(body))
			resp.ContentLength = int64(len(body))
			resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
			lp.mu.Lock()
			if lp.retryAfter != "" && strings.HasPrefix(resp.Request.URL.Path, "/my-order/") {
				resp.Header.Set("Retry-After", lp.retryAfter)
			}
			lp.mu.Unlock()
			for _, h := range []string{"Location", "Link"} {
				for i, v := range resp.Header.Values(h) {
					resp.Header[h][i] = strings.ReplaceAll(v, origin, lp.URL)
				}
			}
			return nil
		},
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lp.mu.Lock()
		lp.hits[r.URL.Path]++
		var f *proxyFailure
		for prefix, pf := range lp.fail {
			if strings.HasPrefix(r.URL.Path, prefix) {
				f = &pf
			}
		}
		lp.mu.Unlock()
		if f == nil {
			rp.ServeHTTP(w, r)
			return
		}
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(f.status)
		fmt.Fprintf(w, `{"type":%q,"detail":"test proxy: too many new orders for this account, come back later","status":%d}`,
			f.problem, f.status)
	}))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	lp.URL = srv.URL
	lp.CABundlePEM = p.CABundlePEM + string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	return lp
}

func (lp *limitingProxy) failOn(prefix string, f proxyFailure) {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	lp.fail[prefix] = f
}

func (lp *limitingProxy) clear() {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	lp.fail = map[string]proxyFailure{}
}

func (lp *limitingProxy) count(path string) int {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return lp.hits[path]
}

// TestRateLimited: the CA answers a new order with 429, a rateLimited
// problem and Retry-After; the plugin asks once and returns a transient
// error carrying that delay and the CA's words (no retry loop of its
// own). A 503 of the directory is transient too; a pending order's
// Retry-After is passed on; once the CA answers again, issuance goes
// through.
func TestRateLimited(t *testing.T) {
	p, r := startPebble(t, acmetest.PebbleOptions{AuthzReusePercent: -1})
	lp := startProxy(t, p)
	iss := startPlugin(t).Issuer()
	cfg := baseConfig(p)
	cfg[fieldDirectoryURL] = lp.URL + "/dir"
	cfg[fieldCABundle] = lp.CABundlePEM
	cfg = provision(t, iss, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := uniqueName(t, "limited")
	key, csr := newCSR(t, name)
	req := plugin.IssueRequest{Config: cfg, CSR: csr, CommonName: name}

	lp.failOn("/order-plz", proxyFailure{status: http.StatusTooManyRequests, retryAfter: "1800",
		problem: "urn:ietf:params:acme:error:rateLimited"})
	_, err := iss.IssueCertificate(ctx, req)
	pe := wantCode(t, err, plugin.CodeTransient, "rateLimited", "too many new orders")
	if pe.RetryAfter != 30*time.Minute {
		t.Errorf("RetryAfter %s, want the CA's 30m", pe.RetryAfter)
	}
	if n := lp.count("/order-plz"); n != 1 {
		t.Errorf("%d new-order requests, want 1: a rate limit is not retried in the call", n)
	}

	lp.clear()
	lp.failOn("/dir", proxyFailure{status: http.StatusServiceUnavailable, problem: "urn:ietf:params:acme:error:serverInternal"})
	_, err = iss.IssueCertificate(ctx, req)
	wantCode(t, err, plugin.CodeTransient, "HTTP 503")

	// A pending order's Retry-After is the host's next call's.
	lp.clear()
	first, err := iss.IssueCertificate(ctx, req)
	if err != nil || first.Status != plugin.StatusPending {
		t.Fatalf("first call: %+v, %v", first, err)
	}
	lp.mu.Lock()
	lp.retryAfter = "7"
	lp.mu.Unlock()
	if st, err := iss.GetOrderStatus(ctx, plugin.OrderStatusRequest{Config: cfg, OrderID: first.OrderID}); err != nil || st.RetryAfter != 7*time.Second {
		t.Errorf("GetOrderStatus of a pending order the CA says to ask again in 7s: %+v, %v", st, err)
	}
	lp.mu.Lock()
	lp.retryAfter = ""
	lp.mu.Unlock()

	res, err := drive(t, iss, req, driveOpts{r: r})
	if err != nil {
		t.Fatalf("issue after the limit: %v", err)
	}
	verifyIssued(t, res, key, p.Roots(t, 0), name)
}
