package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/core"
)

// The fuzz targets below feed the HTTP layer what clients send: JSON
// bodies, query parameters, path variables and cursors. Whatever arrives,
// the answer is a value or a client error (never a panic, never an error
// that would be a 500), and what is accepted is something PostgreSQL can
// store.

// wantClientError fails unless err is nil or a client error.
func wantClientError(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *core.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: %v (%T), want a *core.Error", what, err, err)
	}
	switch e.Code {
	case core.EINVALID, core.EUNSUPPORTED, core.ETOOLARGE:
	default:
		t.Fatalf("%s: %v, code %q, want a client error", what, err, e.Code)
	}
}

func FuzzCursor(f *testing.F) {
	f.Add(encodeCursor(uuid.MustParse("0190a4b2-7c1e-7d3a-9f00-123456789abc")))
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("AAAAAAAAAAAAAAAAAAAAAB") // spare bits set: decodes to the same id
	f.Add("AAAAAAAAAAAAAAAAAAAAAA==")
	f.Add("////////////////////////")
	f.Add("not a cursor")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := decodeCursor(s)
		wantClientError(t, "decodeCursor", err)
		if err != nil {
			return
		}
		if s == "" {
			if id != nil {
				t.Fatalf("empty cursor decoded to %v", id)
			}
			return
		}
		again, err := decodeCursor(encodeCursor(*id))
		if err != nil || again == nil || *again != *id {
			t.Fatalf("cursor %q: id %v, encoded %q decodes to %v, %v", s, id, encodeCursor(*id), again, err)
		}
	})
}

// requestTypes are the types the API decodes request bodies into.
var requestTypes = []func() any{
	func() any { return new(api.IssuerRequest) },
	func() any { return new(api.TargetRequest) },
	func() any { return new(api.NotifierRequest) },
	func() any { return new(api.CertificateRequest) },
	func() any { return new(api.CSRRequest) },
	func() any { return new(api.RevokeRequest) },
	func() any { return new(api.BulkRenewRequest) },
	func() any { return new(api.BulkRevokeRequest) },
	func() any { return new(api.RenewalPolicyRequest) },
	func() any { return new(api.NotificationRuleRequest) },
	func() any { return new(api.EnrollmentTokenRequest) },
	func() any { return new(api.APIKeyRequest) },
	func() any { return new(api.AgentEnrollRequest) },
	func() any { return new(api.AgentFacts) },
	func() any { return new(api.AgentDeployResult) },
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"name":"a","type":"local","config":{"ttl":"90d","x":[1,{"y":null}]}}`,
		`{"name":"x","common_name":"x.example.com","sans":["a.example.com"],"labels":{"env":"prod"}}`,
		`{"labels":{"zone":"\u0000"}}`, `{"\u0000":1}`, `{"config":{"a":{"b":[1,"\u0000"]}}}`, `"\u0000"`,
		`{"name":"a"} {"x":1}`, `[1,2]`, ``, `{"name":5}`, `{"colour":"red"}`, `{"token":"cce_x","facts":{"os":"linux","plugins":[{"name":"n"}]}}`,
		`{"succeeded":true,"message":"ok","metadata":{"k":"v"}}`, `{"ttl":"1h\u0000"}`, `{"a":"\ud800"}`, "{\"name\":\"\xff\"}",
	} {
		for i := range requestTypes {
			f.Add(uint8(i), "application/json", []byte(s))
		}
	}
	f.Add(uint8(0), "text/plain", []byte(`{}`))
	f.Add(uint8(0), "application/merge-patch+json; charset=\"", []byte(`{}`))
	f.Fuzz(func(t *testing.T, which uint8, contentType string, body []byte) {
		v := requestTypes[int(which)%len(requestTypes)]()
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		err := decode(r, v)
		wantClientError(t, "decode", err)
		if err != nil {
			return
		}
		// What was accepted holds no NUL character in any string, at any depth.
		var doc any
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("decode accepted %q, which is not JSON: %v", body, err)
		}
		if path, ok := findNUL(doc, ""); ok {
			t.Fatalf("decode accepted %q with a NUL character at %q", body, path)
		}
	})
}

func findNUL(v any, path string) (string, bool) {
	switch v := v.(type) {
	case string:
		return path, strings.IndexByte(v, 0) >= 0
	case []any:
		for _, e := range v {
			if p, ok := findNUL(e, path+"[]"); ok {
				return p, true
			}
		}
	case map[string]any:
		for k, e := range v {
			if strings.IndexByte(k, 0) >= 0 {
				return path + "." + k, true
			}
			if p, ok := findNUL(e, path+"."+k); ok {
				return p, true
			}
		}
	}
	return "", false
}

func FuzzQueryParams(f *testing.F) {
	for _, q := range []string{"", "limit=50&cursor=AAAAAAAAAAAAAAAAAAAAAA", "limit=0", "limit=501", "limit=-1", "limit=1e3",
		"cursor=%%", "since=2026-01-02T15:04:05Z&until=2026-13-01T00:00:00Z", "agent_id=nope", "issuer_id=" + uuid.NewString(),
		"os=linux%00", "%00=x", "name_prefix=%FF", "os=%C3", "a=b;c=d", "wait=30s", "wait=-1s", "type=%E2%82"} {
		f.Add(q, "issuer")
	}
	f.Add("", "a\x00b")
	f.Add("", "a\xffb")
	f.Fuzz(func(t *testing.T, rawQuery, pathVar string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.RawQuery = rawQuery
		r = mux.SetURLVars(r, map[string]string{"issuer": pathVar})
		err := nulInParams(r)
		wantClientError(t, "nulInParams", err)
		if err == nil {
			// Every parameter the handlers may read is text PostgreSQL can store.
			for _, s := range append(paramStrings(r.URL.Query()), pathVar) {
				if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
					t.Fatalf("query %q, path variable %q: %q passed", rawQuery, pathVar, s)
				}
			}
		}
		p, err := queryPage(r)
		wantClientError(t, "queryPage", err)
		if err == nil && (p.Limit < 0 || p.Limit > core.MaxPageLimit) {
			t.Fatalf("query %q: limit %d accepted", rawQuery, p.Limit)
		}
		for _, name := range []string{"since", "until", "expiring_before"} {
			_, err := queryTime(r, name)
			wantClientError(t, "queryTime", err)
		}
		for _, name := range []string{"agent_id", "issuer_id", "target_id"} {
			_, err := queryID(r, name)
			wantClientError(t, "queryID", err)
		}
		d, err := queryWait(r)
		wantClientError(t, "queryWait", err)
		if d < 0 {
			t.Fatalf("query %q: wait %s accepted", rawQuery, d)
		}
	})
}

func paramStrings(q url.Values) []string {
	var out []string
	for k, vs := range q {
		out = append(append(out, k), vs...)
	}
	return out
}

func FuzzAgentFactsAndReport(f *testing.F) {
	f.Add(`{"os":"linux","arch":"amd64","ip_address":"10.0.0.5","hostname":"h","agent_version":"1.0","uptime_seconds":5,"plugins":[{"name":"nginx","kind":"target","version":"1"}]}`,
		`{"succeeded":true,"message":"deployed","metadata":{"path":"/etc/x"},"served_serial":"0A","verified":true}`)
	f.Add(`{"ip_address":"fe80::1%eth0"}`, `{"message":"é"}`)
	f.Add(`{"ip_address":"1.2.3.999","os":"`+strings.Repeat("x", 300)+`"}`, `{"succeeded":false}`)
	f.Fuzz(func(t *testing.T, factsJSON, reportJSON string) {
		var facts api.AgentFacts
		if err := decode(httptest.NewRequest("POST", "/", strings.NewReader(factsJSON)), &facts); err == nil {
			out, err := agentFacts(facts)
			wantClientError(t, "agentFacts", err)
			if err == nil {
				for _, s := range []string{out.OS, out.Arch, out.Hostname, out.AgentVersion} {
					if len(s) > 255 {
						t.Fatalf("facts %q: a %d-byte fact accepted", factsJSON, len(s))
					}
				}
				if (facts.IPAddress == "") != (out.IPAddress == nil) {
					t.Fatalf("facts %q: ip_address %q became %v", factsJSON, facts.IPAddress, out.IPAddress)
				}
			}
		}
		var rep api.AgentDeployResult
		if err := decode(httptest.NewRequest("POST", "/", strings.NewReader(reportJSON)), &rep); err == nil {
			checkDeployReport(t, rep)
		}
	})
}

// checkDeployReport checks what the server keeps of an agent's deployment
// report: a message of at most maxReportMessage bytes, valid UTF-8 (the
// database refuses anything else), that starts the agent's own.
func checkDeployReport(t *testing.T, rep api.AgentDeployResult) {
	t.Helper()
	out := deployReport(rep)
	if len(out.Message) > maxReportMessage || !utf8.ValidString(out.Message) || !strings.HasPrefix(rep.Message, out.Message) {
		t.Fatalf("report message of %d bytes kept as %d bytes (valid UTF-8: %v)", len(rep.Message), len(out.Message), utf8.ValidString(out.Message))
	}
	if len(rep.Message) <= maxReportMessage && out.Message != rep.Message {
		t.Fatalf("report message %q kept as %q", rep.Message, out.Message)
	}
}

// FuzzCutText drives the cut of long text (an agent's report message) at
// limits a fuzzer reaches, rather than only at 64 KiB.
func FuzzCutText(f *testing.F) {
	f.Add("é", uint8(1))
	f.Add("x€y", uint8(3))
	f.Add("plain", uint8(0))
	f.Fuzz(func(t *testing.T, s string, n uint8) {
		got := cutText(s, int(n))
		if len(got) > int(n) || !strings.HasPrefix(s, got) {
			t.Fatalf("cutText(%q, %d) = %q", s, n, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("cutText(%q, %d) = %q, not UTF-8", s, n, got)
		}
		if len(s) <= int(n) && got != s {
			t.Fatalf("cutText(%q, %d) = %q, want it whole", s, n, got)
		}
		if utf8.ValidString(s) && len(s) > int(n) && int(n)-len(got) >= utf8.UTFMax {
			t.Fatalf("cutText(%q, %d) = %q cut more than a character", s, n, got)
		}
	})
}
