package httpapi_test

import (
	"encoding/json"
	"testing"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
)

// PostgreSQL text cannot hold a NUL character, so a string holding one must be
// refused at the edge, naming the field, before it reaches the database.
func TestNULInAStringIsRefused(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{})
	iss, _, cert := fixture(t, env, "nul")
	_, agentCred := enroll(t, env, "nul-agent")
	var tok api.EnrollmentToken
	env.MustDo(t, "POST", "/api/v1/enrollment-tokens", env.AdminKey, api.EnrollmentTokenRequest{}, 201).Decode(t, &tok)
	admin, viewer := env.AdminKey, env.NewKey(t, core.RoleViewer)
	tables := append([]string{"audit_events", "jobs"}, resourceTables...)
	counts := map[string]int{}
	for _, table := range tables {
		counts[table] = env.Count(t, table)
	}

	cases := []struct {
		name, method, path, key, body, field string
	}{
		{"api key name", "POST", "/api/v1/api-keys", admin, `{"name":"k\u0000","role":"viewer"}`, "name"},
		{"certificate label value", "POST", "/api/v1/certificates", admin,
			`{"name":"x","common_name":"x.example.com","issuer_id":"` + iss.ID + `","labels":{"env":"a\u0000b"}}`, "labels.env"},
		{"certificate label key", "POST", "/api/v1/certificates", admin,
			`{"name":"x","common_name":"x.example.com","issuer_id":"` + iss.ID + `","labels":{"e\u0000nv":"a"}}`, "labels"},
		{"certificate update SAN", "PUT", "/api/v1/certificates/" + cert.ID, admin,
			`{"name":"nul","common_name":"nul.example.com","sans":["a.example.com","b\u0000.example.com"],"issuer_id":"` + iss.ID + `"}`, "sans[1]"},
		{"enrollment token label", "POST", "/api/v1/enrollment-tokens", admin, `{"labels":{"zone":"\u0000"}}`, "labels.zone"},
		{"enrollment token ttl", "POST", "/api/v1/enrollment-tokens", admin, `{"ttl":"1h\u0000"}`, "ttl"},
		{"issuer config", "POST", "/api/v1/issuers", admin, `{"name":"x","type":"local","config":{"common_name":"CA\u0000"}}`, "config.common_name"},
		{"issuer nested config", "POST", "/api/v1/issuers", admin, `{"name":"x","type":"local","config":{"a":{"b":[1,"\u0000"]}}}`, "config.a.b[1]"},
		{"issuer config key", "POST", "/api/v1/issuers", admin, `{"name":"x","type":"local","config":{"\u0000":"v"}}`, "config"},
		{"agent enroll token", "POST", "/api/v1/agent/enroll", "", `{"token":"cce_\u0000"}`, "token"},
		{"agent enroll facts", "POST", "/api/v1/agent/enroll", "", `{"token":"` + tok.Token + `","name":"n","facts":{"hostname":"h\u0000"}}`, "facts.hostname"},
		{"agent heartbeat", "POST", "/api/v1/agent/heartbeat", agentCred, `{"os":"linux\u0000","arch":"amd64"}`, "os"},
		{"bulk renew", "POST", "/api/v1/certificates/renew", admin, `{"name_prefix":"n\u0000"}`, "name_prefix"},
		{"certificates name_prefix", "GET", "/api/v1/certificates?name_prefix=n%00", viewer, "", "name_prefix"},
		{"audit actor", "GET", "/api/v1/audit-events?actor=%00", viewer, "", "actor"},
		{"audit action", "GET", "/api/v1/audit-events?action=a%00b", viewer, "", "action"},
		{"agents os", "GET", "/api/v1/agents?os=linux%00", viewer, "", "os"},
		{"issuers type", "GET", "/api/v1/issuers?type=local%00", viewer, "", "type"},
		{"targets type", "GET", "/api/v1/targets?type=%00", viewer, "", "type"},
		{"notifiers type", "GET", "/api/v1/notifiers?type=%00", viewer, "", "type"},
		{"notifications event", "GET", "/api/v1/notifications?event=%00", viewer, "", "event"},
		{"agent work parameter", "GET", "/api/v1/agent/work?wait=%00", agentCred, "", "wait"},
		{"unknown query parameter", "GET", "/api/v1/certificates?colour=%00", viewer, "", "colour"},
		{"CRL issuer in the path", "GET", "/crl/a%00b.crl", "", "", "issuer"},
		{"plugin name in the path", "POST", "/api/v1/plugins/issuer/a%00b/register", admin, "", "name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body any
			if c.body != "" {
				body = c.body
			}
			r := env.Do(t, c.method, c.path, c.key, body)
			var e api.ErrorResponse
			if err := json.Unmarshal(r.Body, &e); err != nil {
				t.Fatalf("%s %s: %d, body not a JSON error: %q", c.method, c.path, r.Status, r.Body)
			}
			if r.Status != 400 || e.Error.Code != api.CodeInvalid || e.Error.Field != c.field {
				t.Errorf("%s %s: %d %s, want 400 invalid on %q", c.method, c.path, r.Status, r.Body, c.field)
			}
		})
	}
	for _, table := range tables {
		if n := env.Count(t, table); n != counts[table] {
			t.Errorf("%s: %d rows, want %d: a refused request changed it", table, n, counts[table])
		}
	}

	// A backslash followed by "u0000" is not a NUL character: it is kept.
	var c api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", admin, `{"name":"escaped","common_name":"escaped.example.com","issuer_id":"`+
		iss.ID+`","labels":{"note":"a\\u0000b"}}`, 201).Decode(t, &c)
	if c.Labels["note"] != `a\u0000b` {
		t.Errorf("label = %q, want %q", c.Labels["note"], `a\u0000b`)
	}
}
