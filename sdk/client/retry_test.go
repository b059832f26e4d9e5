package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// step is one scripted reply; hangup closes the connection instead.
type step struct {
	status     int
	retryAfter string
	body       string
	hangup     bool
}

// script is an httptest server that answers each request with the next
// step (the last one repeats) and records what it received.
type script struct {
	mu     sync.Mutex
	steps  []step
	bodies []string
	heads  []http.Header
	srv    *httptest.Server
}

func newScript(t *testing.T, steps ...step) *script {
	t.Helper()
	s := &script{steps: steps}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *script) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.bodies)
	s.bodies = append(s.bodies, string(body))
	s.heads = append(s.heads, r.Header.Clone())
	st := s.steps[min(n, len(s.steps)-1)]
	s.mu.Unlock()
	if st.hangup {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	}
	if st.retryAfter != "" {
		w.Header().Set("Retry-After", st.retryAfter)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(st.status)
	if st.body != "" {
		_, _ = io.WriteString(w, st.body)
	} else if st.status >= 400 {
		_, _ = io.WriteString(w, `{"error": {"code": "unavailable", "message": "scripted"}}`)
	}
}

func (s *script) attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bodies)
}

const issuerJSON = `{"id": "0195b1de-6a7c-7d3e-9f20-5c1d2e3f4a5b", "name": "ca", "type": "local"}`

func TestRetries(t *testing.T) {
	t.Parallel()
	ok := step{status: 200, body: issuerJSON}
	created := step{status: 201, body: issuerJSON}
	tests := []struct {
		name     string
		method   string // GET, PUT, DELETE, POST
		steps    []step
		wantErr  int // the status of the error, 0 for success
		attempts int
	}{
		{"GET 503 twice then 200", "GET", []step{{status: 503}, {status: 503}, ok}, 0, 3},
		{"GET 502 and 504", "GET", []step{{status: 502}, {status: 504}, ok}, 0, 3},
		{"GET gives up after max attempts", "GET", []step{{status: 503}}, 503, 4},
		{"GET is not retried on 500", "GET", []step{{status: 500}}, 500, 1},
		{"GET is not retried on 404", "GET", []step{{status: 404, body: `{"error": {"code": "not_found", "message": "x"}}`}}, 404, 1},
		{"GET after a dropped connection", "GET", []step{{hangup: true}, ok}, 0, 2},
		{"PUT 502 then 200", "PUT", []step{{status: 502}, ok}, 0, 2},
		{"DELETE 504 then 204", "DELETE", []step{{status: 504}, {status: 204}}, 0, 2},
		{"POST 503 is not retried", "POST", []step{{status: 503}, created}, 503, 1},
		{"POST 503 with Retry-After is not retried", "POST", []step{{status: 503, retryAfter: "0"}, created}, 503, 1},
		{"POST 502 is not retried", "POST", []step{{status: 502}, created}, 502, 1},
		{"POST after a dropped connection is not retried", "POST", []step{{hangup: true}, created}, -1, 1},
		{"POST 429 with Retry-After: 0", "POST", []step{{status: 429, retryAfter: "0"}, created}, 0, 2},
		{"POST 429 without Retry-After", "POST", []step{{status: 429}, created}, 0, 2},
		{"GET 429 with a Retry-After date", "GET", []step{{status: 429, retryAfter: time.Now().Add(-time.Minute).UTC().Format(http.TimeFormat)}, ok}, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newScript(t, tt.steps...)
			c := must(client.New(s.srv.URL, client.WithAPIKey("cck_k"), client.WithRetry(4, time.Millisecond, 5*time.Millisecond)))(t)
			ctx := context.Background()
			const id = "0195b1de-6a7c-7d3e-9f20-5c1d2e3f4a5b"
			req := api.IssuerRequest{Name: "ca", Type: "local", Config: map[string]any{"validity": "30d"}}
			var err error
			switch tt.method {
			case "GET":
				_, err = c.GetIssuer(ctx, id)
			case "PUT":
				_, err = c.UpdateIssuer(ctx, id, req)
			case "DELETE":
				err = c.DeleteIssuer(ctx, id)
			case "POST":
				_, err = c.CreateIssuer(ctx, req)
			}
			switch e, isAPI := client.AsError(err); {
			case tt.wantErr == 0 && err != nil:
				t.Errorf("error %v, want success", err)
			case tt.wantErr > 0 && (!isAPI || e.StatusCode != tt.wantErr):
				t.Errorf("error %#v, want status %d", err, tt.wantErr)
			case tt.wantErr < 0 && (err == nil || isAPI):
				t.Errorf("error %#v, want a transport error", err)
			}
			if got := s.attempts(); got != tt.attempts {
				t.Errorf("%d attempts, want %d", got, tt.attempts)
			}
			// Every attempt carries the whole body and the headers.
			s.mu.Lock()
			defer s.mu.Unlock()
			for i, b := range s.bodies {
				if (tt.method == "PUT" || tt.method == "POST") && b != s.bodies[0] || (tt.method == "PUT" || tt.method == "POST") && !strings.Contains(b, `"validity":"30d"`) {
					t.Errorf("attempt %d sent body %q", i+1, b)
				}
				if s.heads[i].Get("Authorization") != "Bearer cck_k" {
					t.Errorf("attempt %d: Authorization %q", i+1, s.heads[i].Get("Authorization"))
				}
			}
		})
	}
}

// TestRetryAfterIsCapped checks that a long Retry-After waits no longer
// than the maximum delay.
func TestRetryAfterIsCapped(t *testing.T) {
	t.Parallel()
	s := newScript(t, step{status: 503, retryAfter: "3600"}, step{status: 200, body: issuerJSON})
	c := must(client.New(s.srv.URL, client.WithRetry(3, time.Millisecond, 50*time.Millisecond)))(t)
	start := time.Now()
	if _, err := c.GetIssuer(context.Background(), "some-id"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > 2*time.Second {
		t.Errorf("took %s, want the capped 50ms", d)
	}
}

// TestCancelStopsRetries checks that an ended context stops the waiting
// between attempts at once.
func TestCancelStopsRetries(t *testing.T) {
	t.Parallel()
	s := newScript(t, step{status: 503, retryAfter: "30"})
	c := must(client.New(s.srv.URL, client.WithRetry(10, time.Second, 30*time.Second)))(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.ListIssuers(ctx, client.IssuerListOptions{})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("returned after %s, want promptly after the cancel", d)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if s.attempts() != 1 {
		t.Errorf("%d attempts", s.attempts())
	}

	// A deadline too.
	ctx, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	if _, err := c.ListIssuers(ctx, client.IssuerListOptions{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want context.DeadlineExceeded", err)
	}
}

// TestConnectionRefused checks that a request that never reached a server
// is retried whatever its method, and reports the network error.
func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := must(client.New("http://"+addr, client.WithRetry(3, time.Millisecond, 2*time.Millisecond), client.WithLogger(logger)))(t)
	_, err = c.CreateIssuer(context.Background(), api.IssuerRequest{Name: "ca", Type: "local"})
	var opErr *net.OpError
	if !errors.As(err, &opErr) || client.Code(err) != "" {
		t.Errorf("error %v, want a network error", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(logs.String(), "certctl request failed"); n != 3 {
		t.Errorf("logged %d failed attempts, want 3:\n%s", n, logs.String())
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestRequestHeaders checks what every request carries, and that the key
// never reaches the log.
func TestRequestHeaders(t *testing.T) {
	t.Parallel()
	s := newScript(t, step{status: 503}, step{status: 200, body: `{"items": [], "next_cursor": null}`})
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	const key = "cck_super-secret-key-value"
	c := must(client.New(s.srv.URL+"/", client.WithAPIKey(key), client.WithUserAgent("certctl-test/0"),
		client.WithLogger(logger), client.WithRetry(2, time.Millisecond, time.Millisecond)))(t)
	ctx := client.WithRequestID(context.Background(), "req-42")
	l, err := c.ListCertificates(ctx, client.CertificateListOptions{Status: "active", IssuerID: "iss",
		ExpiringBefore: time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC), Limit: 10, Cursor: "abc"})
	if err != nil || l.Items == nil {
		t.Fatalf("ListCertificates = %+v, %v", l, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, h := range s.heads {
		if h.Get("Authorization") != "Bearer "+key || h.Get("User-Agent") != "certctl-test/0" ||
			h.Get("X-Request-ID") != "req-42" || h.Get("Accept") != "application/json" || h.Get("Content-Type") != "" {
			t.Errorf("attempt %d headers = %v", i+1, h)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(logs.String(), key) || strings.Contains(logs.String(), "super-secret") {
		t.Errorf("the key is in the log:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `"status":503`) || !strings.Contains(logs.String(), "retrying") {
		t.Errorf("the log does not show the attempts:\n%s", logs.String())
	}
}

// TestQueryAndBaseURL checks the query a list sends and that a base URL
// path is kept as a prefix.
func TestQueryAndBaseURL(t *testing.T) {
	t.Parallel()
	var got []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.RequestURI())
		mu.Unlock()
		_, _ = io.WriteString(w, `{"items": [], "next_cursor": null}`)
	}))
	t.Cleanup(srv.Close)
	c := must(client.New(srv.URL + "/certctl/"))(t)
	ctx := context.Background()
	must(c.ListCertificates(ctx, client.CertificateListOptions{Status: "active", IssuerID: "i", TargetID: "t",
		ExpiringBefore: time.Date(2027, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)), NamePrefix: "a b&c", Limit: 10, Cursor: "abc"}))(t)
	must(c.ListAuditEvents(ctx, client.AuditEventListOptions{Since: time.Date(2026, 1, 1, 0, 0, 0, 500, time.UTC)}))(t)
	must(c.ListCertificateVersions(ctx, "a/b", client.ListOptions{}))(t)
	want := []string{
		"/certctl/api/v1/certificates?cursor=abc&expiring_before=2027-01-02T02%3A04%3A05Z&issuer_id=i&limit=10&name_prefix=a+b%26c&status=active&target_id=t",
		"/certctl/api/v1/audit-events?since=2026-01-01T00%3A00%3A00.0000005Z",
		"/certctl/api/v1/certificates/a%2Fb/versions",
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Errorf("request %d = %q, want %q", i, got, want[i])
		}
	}
}

func TestNewChecksItsInput(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		url  string
		opts []client.Option
	}{
		{"", nil},
		{"127.0.0.1:8443", nil},
		{"ftp://example.com", nil},
		{"https://user:pw@example.com", nil},
		{"https://example.com?x=1", nil},
		{"https://example.com", []client.Option{client.WithRetry(0, time.Second, time.Second)}},
		{"https://example.com", []client.Option{client.WithRetry(3, time.Second, time.Millisecond)}},
		{"https://example.com", []client.Option{client.WithHTTPClient(nil)}},
		{"https://example.com", []client.Option{client.WithAPIKey("a\nb")}},
	} {
		if _, err := client.New(tt.url, tt.opts...); err == nil {
			t.Errorf("New(%q, %d options) accepted", tt.url, len(tt.opts))
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("error shows the password: %v", err)
		}
	}
	c := must(client.New("https://certctl.example.com/"))(t)
	if c.BaseURL() != "https://certctl.example.com" {
		t.Errorf("BaseURL = %q", c.BaseURL())
	}
}

// TestPrivateKeyExportRedacts checks that printing or logging an export
// does not show the key.
func TestPrivateKeyExportRedacts(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-pkcs12")
		w.Header().Set("X-Certctl-PKCS12-Password", "pw-123456")
		_, _ = io.WriteString(w, "SECRETKEYBYTES")
	}))
	t.Cleanup(srv.Close)
	c := must(client.New(srv.URL))(t)
	k := must(c.ExportPrivateKey(context.Background(), "c", "v", client.KeyFormatPKCS12))(t)
	if string(k.Data) != "SECRETKEYBYTES" || k.Password != "pw-123456" || k.Format != client.KeyFormatPKCS12 {
		t.Fatalf("export = %q %q %q", k.Data, k.Password, k.Format)
	}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("exported", "key", k)
	for _, s := range []string{fmtAll(k), fmtAll(*k), logs.String()} {
		if strings.Contains(s, "SECRET") || strings.Contains(s, "pw-123456") || strings.Contains(s, "83 69 67") {
			t.Errorf("secret shown: %s", s)
		}
	}
}

func fmtAll(v any) string {
	var b strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		b.WriteString(sprintf(verb, v))
	}
	return b.String()
}
