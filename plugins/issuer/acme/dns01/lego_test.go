package dns01

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/acmetest"
	legodns01 "github.com/go-acme/lego/v5/challenge/dns01"
)

// httpreqEndpoint is the HTTP service lego's httpreq provider talks to: it
// writes the records it is sent into the test DNS server, and remembers
// the basic-auth user of each call.
type httpreqEndpoint struct {
	*httptest.Server
	mu    sync.Mutex
	users []string
}

func startHTTPReq(t *testing.T, s *acmetest.DNSServer) *httpreqEndpoint {
	t.Helper()
	e := &httpreqEndpoint{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct{ FQDN, Value string }
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil || msg.FQDN == "" {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		user, _, _ := r.BasicAuth()
		e.mu.Lock()
		e.users = append(e.users, user)
		e.mu.Unlock()
		values := s.TXT(msg.FQDN)
		switch r.URL.Path {
		case "/present":
			if !slices.Contains(values, msg.Value) {
				values = append(values, msg.Value)
			}
		case "/cleanup":
			values = slices.DeleteFunc(values, func(v string) bool { return v == msg.Value })
		default:
			http.NotFound(w, r)
			return
		}
		s.SetTXT(msg.FQDN, values...)
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *httpreqEndpoint) calls() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.users)
}

func legoConfig(s *acmetest.DNSServer, creds ...any) plugin.Config {
	raw := rfc2136Config(s)
	for _, f := range []string{FieldNameserver, FieldTSIGKeyName, FieldTSIGSecret} {
		delete(raw, f)
	}
	raw[FieldProvider] = "httpreq"
	raw[FieldCredentials] = creds
	return raw
}

func TestLegoHTTPReq(t *testing.T) {
	s := startDNS(t)
	s.SetCNAME("_acme-challenge.cdn.certctl.test", "cdn.delegated.test")
	e := startHTTPReq(t, s)
	cfg := mustConfig(t, legoConfig(s, "HTTPREQ_ENDPOINT="+e.URL, "HTTPREQ_USERNAME=acme", "HTTPREQ_PASSWORD=pw"))
	sol, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"HTTPREQ_ENDPOINT", "HTTPREQ_USERNAME", "HTTPREQ_PASSWORD"} {
		if v, set := os.LookupEnv(name); set {
			t.Fatalf("%s=%q left in the environment after construction", name, v)
		}
	}
	before := legodns01.DefaultClient()
	defer func() {
		if legodns01.DefaultClient() != before {
			t.Error("lego's process-wide DNS client was not put back after the calls")
		}
	}()
	for _, tc := range []struct{ domain, where string }{
		{"*.www.certctl.test", "_acme-challenge.www.certctl.test."},
		{"cdn.certctl.test", "cdn.delegated.test."}, // lego follows the CNAME
	} {
		ch := Challenge{Domain: tc.domain, KeyAuthorization: "tok.thumb"}
		fqdn, value := ch.Record()
		if err := sol.Present(ctxT(t), ch); err != nil {
			t.Fatalf("Present %s: %v", tc.domain, err)
		}
		if got := s.TXT(tc.where); !slices.Equal(got, []string{value}) {
			t.Fatalf("%s: TXT at %s = %v", tc.domain, tc.where, got)
		}
		waitPropagated(t, cfg, fqdn, value)
		if err := sol.CleanUp(ctxT(t), ch); err != nil {
			t.Fatalf("CleanUp %s: %v", tc.domain, err)
		}
		if got := s.TXT(tc.where); len(got) != 0 {
			t.Fatalf("%s: TXT after CleanUp %v", tc.domain, got)
		}
	}
	if got := e.calls(); !slices.Equal(got, []string{"acme", "acme", "acme", "acme"}) {
		t.Fatalf("calls by user %v", got)
	}
}

// Two issuers with different credentials for the same provider: neither
// sees the other's, and the process environment is as it was.
func TestLegoCredentialsDoNotLeak(t *testing.T) {
	t.Setenv("HTTPREQ_MODE", "") // present but empty before, present but empty after
	s := startDNS(t)
	a, b := startHTTPReq(t, s), startHTTPReq(t, s)
	solA, err := New(mustConfig(t, legoConfig(s, "HTTPREQ_ENDPOINT="+a.URL, "HTTPREQ_USERNAME=alice", "HTTPREQ_PASSWORD=pw")))
	if err != nil {
		t.Fatal(err)
	}
	solB, err := New(mustConfig(t, legoConfig(s, "HTTPREQ_ENDPOINT="+b.URL)))
	if err != nil {
		t.Fatal(err)
	}
	if v, set := os.LookupEnv("HTTPREQ_MODE"); !set || v != "" {
		t.Fatalf("HTTPREQ_MODE after construction: %q %v", v, set)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sol := solA
			if i%2 == 1 {
				sol = solB
			}
			errs[i] = sol.Present(ctxT(t), Challenge{Domain: "w.certctl.test", KeyAuthorization: "t.k"})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if got := a.calls(); !slices.Equal(got, []string{"alice", "alice", "alice", "alice"}) {
		t.Fatalf("issuer A's calls %v", got)
	}
	if got := b.calls(); !slices.Equal(got, []string{"", "", "", ""}) {
		t.Fatalf("issuer B's calls %v (A's user leaked?)", got)
	}
}

func TestLegoMissingCredentials(t *testing.T) {
	s := startDNS(t)
	_, err := New(mustConfig(t, legoConfig(s)))
	var pe *plugin.Error
	if !errors.As(err, &pe) || pe.Code != plugin.CodeInvalidConfig || pe.Field != FieldCredentials {
		t.Fatalf("New without credentials: %v", err)
	}
	contains(t, err, "httpreq", "HTTPREQ_ENDPOINT")

	_, err = New(mustConfig(t, plugin.Config{FieldProvider: "cloudflare", FieldCredentials: []any{"CF_ZONE_API_TOKEN=only-half"}}))
	if !errors.As(err, &pe) || pe.Field != FieldCredentials {
		t.Fatalf("cloudflare with half its credentials: %v", err)
	}
	if _, set := os.LookupEnv("CF_ZONE_API_TOKEN"); set {
		t.Fatal("CF_ZONE_API_TOKEN left in the environment after a failed construction")
	}
}

// lego logs to standard output unless told otherwise; in a plugin that is
// go-plugin's handshake channel. Its lines must go to the plugin's log on
// stderr instead.
func TestLegoLogsToStderr(t *testing.T) {
	s := startDNS(t)
	s.SetCNAME("_acme-challenge.cdn.certctl.test", "cdn.delegated.test")
	e := startHTTPReq(t, s)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctxT(t), exe, s.Addr, e.URL)
	cmd.Env = append(os.Environ(), "DNS01_TEST_LEGO=1")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("helper: %v\n%s", err, stderr.String())
	}
	if got := s.TXT("cdn.delegated.test"); len(got) != 1 {
		t.Fatalf("the helper's record: %v", got)
	}
	if stdout.Len() != 0 {
		t.Fatalf("lego wrote to standard output: %q", stdout.String())
	}
	if !strings.Contains(stderr.String(), `"@message":"dns01: Found CNAME entry."`) {
		t.Fatalf("lego's log line is not on stderr in the plugin's form: %q", stderr.String())
	}
}
