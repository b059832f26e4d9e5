package httpapi_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
)

// resourceTables are the tables a bad request must leave as they were.
var resourceTables = []string{"issuers", "targets", "managed_certificates", "certificate_targets", "api_keys",
	"enrollment_tokens", "agents"}

func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{MaxBodyBytes: 4096})
	iss, tgt, cert := fixture(t, env, "keep")
	key := env.AdminKey
	counts := map[string]int{}
	for _, table := range resourceTables {
		counts[table] = env.Count(t, table)
	}
	missing := uuid.NewString()
	big := `{"name":"big","type":"local","config":{"pad":"` + strings.Repeat("x", 5000) + `"}}`

	cases := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"malformed JSON", "POST", "/api/v1/issuers", `{"name": "a",`, 400, "invalid"},
		{"not JSON", "POST", "/api/v1/issuers", `name=a`, 400, "invalid"},
		{"empty body", "POST", "/api/v1/issuers", ``, 400, "invalid"},
		{"array body", "POST", "/api/v1/issuers", `[1,2]`, 400, "invalid"},
		{"trailing data", "POST", "/api/v1/issuers", `{"name":"a","type":"local"} {"x":1}`, 400, "invalid"},
		{"unknown field", "POST", "/api/v1/issuers", `{"name":"a","type":"local","colour":"red"}`, 400, "invalid"},
		{"wrong field type", "POST", "/api/v1/issuers", `{"name":5,"type":"local"}`, 400, "invalid"},
		{"oversized body", "POST", "/api/v1/issuers", big, 413, "too_large"},
		{"bad name", "POST", "/api/v1/issuers", `{"name":"Bad Name!","type":"local"}`, 400, "invalid"},
		{"unknown issuer type", "POST", "/api/v1/issuers", `{"name":"x","type":"nope"}`, 400, "invalid"},
		{"duplicate name", "POST", "/api/v1/issuers", `{"name":"keep-ca","type":"local"}`, 409, "conflict"},
		{"unknown target type", "POST", "/api/v1/targets", `{"name":"x","type":"tomcat"}`, 400, "invalid"},
		{"target with missing agent", "POST", "/api/v1/targets", `{"name":"x","type":"nginx","agent_id":"` + missing + `"}`, 400, "invalid"},
		{"target with bad agent id", "POST", "/api/v1/targets", `{"name":"x","type":"nginx","agent_id":"nope"}`, 400, "invalid"},
		{"certificate without issuer", "POST", "/api/v1/certificates", `{"name":"x","common_name":"x.example.com"}`, 400, "invalid"},
		{"certificate with missing issuer", "POST", "/api/v1/certificates", `{"name":"x","common_name":"x.example.com","issuer_id":"` + missing + `"}`, 400, "invalid"},
		{"certificate with bad common name", "POST", "/api/v1/certificates", `{"name":"x","common_name":"not a host","issuer_id":"` + iss.ID + `"}`, 400, "invalid"},
		{"certificate with bad SAN", "POST", "/api/v1/certificates", `{"name":"x","common_name":"x.example.com","sans":["a..b"],"issuer_id":"` + iss.ID + `"}`, 400, "invalid"},
		{"certificate with bad key type", "POST", "/api/v1/certificates", `{"name":"x","common_name":"x.example.com","key_type":"dsa-1024","issuer_id":"` + iss.ID + `"}`, 400, "invalid"},
		{"certificate with bad key mode", "POST", "/api/v1/certificates", `{"name":"x","common_name":"x.example.com","key_mode":"cloud","issuer_id":"` + iss.ID + `"}`, 400, "invalid"},
		{"agent key mode without agent", "POST", "/api/v1/certificates", `{"name":"x","common_name":"x.example.com","key_mode":"agent","target_ids":["` + tgt.ID + `"],"issuer_id":"` + iss.ID + `"}`, 400, "invalid"},
		{"certificate with missing target", "POST", "/api/v1/certificates", `{"name":"x","common_name":"x.example.com","target_ids":["` + missing + `"],"issuer_id":"` + iss.ID + `"}`, 400, "invalid"},
		{"certificate with missing policy", "POST", "/api/v1/certificates", `{"name":"x","common_name":"x.example.com","renewal_policy_id":"` + missing + `","issuer_id":"` + iss.ID + `"}`, 400, "invalid"},
		{"certificate with bad label", "POST", "/api/v1/certificates", `{"name":"x","common_name":"x.example.com","labels":{"bad key":"v"},"issuer_id":"` + iss.ID + `"}`, 400, "invalid"},
		{"update with invalid value", "PUT", "/api/v1/certificates/" + cert.ID, `{"name":"keep","common_name":"-bad-","issuer_id":"` + iss.ID + `"}`, 400, "invalid"},
		{"update of missing certificate", "PUT", "/api/v1/certificates/" + missing, `{"name":"keep","common_name":"a.example.com","issuer_id":"` + iss.ID + `"}`, 404, "not_found"},
		{"bad id in path", "GET", "/api/v1/certificates/not-a-uuid", ``, 400, "invalid"},
		{"bad id in delete", "DELETE", "/api/v1/issuers/123", ``, 400, "invalid"},
		{"unknown id", "GET", "/api/v1/issuers/" + missing, ``, 404, "not_found"},
		{"delete unknown id", "DELETE", "/api/v1/targets/" + missing, ``, 404, "not_found"},
		{"retire unknown agent", "POST", "/api/v1/agents/" + missing + "/retire", ``, 404, "not_found"},
		{"bad limit", "GET", "/api/v1/certificates?limit=0", ``, 400, "invalid"},
		{"huge limit", "GET", "/api/v1/certificates?limit=100000", ``, 400, "invalid"},
		{"bad cursor", "GET", "/api/v1/certificates?cursor=@@@", ``, 400, "invalid"},
		{"bad time filter", "GET", "/api/v1/certificates?expiring_before=tomorrow", ``, 400, "invalid"},
		{"bad status filter", "GET", "/api/v1/certificates?status=sleeping", ``, 400, "invalid"},
		{"bad id filter", "GET", "/api/v1/certificates?issuer_id=7", ``, 400, "invalid"},
		{"bad agent status filter", "GET", "/api/v1/agents?status=asleep", ``, 400, "invalid"},
		{"bad audit outcome", "GET", "/api/v1/audit-events?outcome=maybe", ``, 400, "invalid"},
		{"unknown route", "GET", "/api/v1/nothing-here", ``, 404, "not_found"},
		{"wrong method", "PATCH", "/api/v1/issuers", ``, 405, "method_not_allowed"},
		{"api key without role", "POST", "/api/v1/api-keys", `{"name":"k"}`, 400, "invalid"},
		{"api key already expired", "POST", "/api/v1/api-keys", `{"name":"k","role":"viewer","expires_at":"2001-01-01T00:00:00Z"}`, 400, "invalid"},
		{"token with bad ttl", "POST", "/api/v1/enrollment-tokens", `{"ttl":"forever"}`, 400, "invalid"},
		{"token with too long ttl", "POST", "/api/v1/enrollment-tokens", `{"ttl":"10000h"}`, 400, "invalid"},
		{"wrong content type", "POST", "/api/v1/issuers", `<issuer/>`, 415, "unsupported_media_type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body any
			if c.body != "" {
				body = c.body
			}
			resp := env.Do(t, c.method, c.path, key, body)
			if c.name == "wrong content type" {
				resp = env.DoWithContentType(t, c.method, c.path, key, c.body, "application/xml")
			}
			if resp.Status != c.status || resp.ErrorCode() != c.code {
				t.Fatalf("%s %s: %d %s, want %d %s", c.method, c.path, resp.Status, resp.Body, c.status, c.code)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("error content type %q", ct)
			}
			if strings.Contains(string(resp.Body), "goroutine") || strings.Contains(string(resp.Body), "SQLSTATE") {
				t.Errorf("error leaks internals: %s", resp.Body)
			}
		})
	}
	for _, table := range resourceTables {
		if n := env.Count(t, table); n != counts[table] {
			t.Errorf("table %s has %d rows after bad requests, had %d", table, n, counts[table])
		}
	}
	var got api.Certificate
	env.MustDo(t, "GET", "/api/v1/certificates/"+cert.ID, key, nil, 200).Decode(t, &got)
	if got.CommonName != cert.CommonName || got.UpdatedAt != cert.UpdatedAt {
		t.Errorf("certificate changed by bad updates: %+v", got)
	}
}

func TestMutationsAreAudited(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{})
	_, _, cert := fixture(t, env, "aud")
	events := func(query string) []api.AuditEvent {
		var page api.List[api.AuditEvent]
		env.MustDo(t, "GET", "/api/v1/audit-events?"+query, env.AdminKey, nil, 200).Decode(t, &page)
		return page.Items
	}
	got := events("resource_type=certificate&resource_id=" + cert.ID)
	if len(got) != 1 || got[0].Action != "certificate.create" || got[0].Outcome != "success" ||
		got[0].ActorType != "api_key" || got[0].ActorName != "bootstrap-admin" || got[0].RequestID == "" {
		t.Fatalf("audit of create = %+v", got)
	}

	// A failed change is recorded as a failure, with the request's ID.
	resp := env.Do(t, "PUT", "/api/v1/certificates/"+cert.ID, env.AdminKey, `{"name":"aud","common_name":"bad name","issuer_id":"`+cert.IssuerID+`"}`)
	if resp.Status != 400 {
		t.Fatalf("bad update: %d", resp.Status)
	}
	got = events("resource_id=" + cert.ID + "&outcome=failure")
	if len(got) != 1 || got[0].Action != "certificate.update" || got[0].RequestID != resp.Header.Get("X-Request-ID") {
		t.Errorf("audit of failed update = %+v (request id %s)", got, resp.Header.Get("X-Request-ID"))
	}
	env.MustDo(t, "DELETE", "/api/v1/certificates/"+cert.ID, env.AdminKey, nil, 204)
	if got := events("action=certificate.delete&resource_id=" + cert.ID); len(got) != 1 || got[0].Outcome != "success" {
		t.Errorf("audit of delete = %+v", got)
	}
	// Filters by time and actor work; newest first.
	since := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	all := events("since=" + since + "&limit=500")
	if len(all) < 5 {
		t.Fatalf("only %d events", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID {
			t.Fatalf("audit events not newest first")
		}
	}
	if got := events("actor=" + all[0].Actor + "&limit=500"); len(got) == 0 {
		t.Error("filter by actor found nothing")
	}
	if got := events("until=2000-01-01T00:00:00Z"); len(got) != 0 {
		t.Errorf("until filter: %d events", len(got))
	}
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{})
	var created api.APIKey
	env.MustDo(t, "POST", "/api/v1/api-keys", env.AdminKey, api.APIKeyRequest{Name: "ci", Role: "operator"}, 201).Decode(t, &created)
	if !strings.HasPrefix(created.Key, "cck_") || created.Prefix != created.Key[:12] {
		t.Fatalf("created key = %+v", created)
	}
	// The secret is shown once and never stored.
	var again api.APIKey
	r := env.MustDo(t, "GET", "/api/v1/api-keys/"+created.ID, env.AdminKey, nil, 200)
	r.Decode(t, &again)
	if again.Key != "" || strings.Contains(string(r.Body), created.Key) {
		t.Errorf("key secret returned again: %s", r.Body)
	}
	var stored int
	if err := env.Pool.QueryRow(context.Background(), `SELECT count(*) FROM api_keys WHERE key_hash::text LIKE '%' || $1 || '%'
		OR key_prefix = $2`, created.Key, created.Key).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != 0 {
		t.Error("the key's secret is stored in the clear")
	}
	env.MustDo(t, "POST", "/api/v1/issuers", created.Key, api.IssuerRequest{Name: "by-operator", Type: "local"}, 201)
	env.MustDo(t, "GET", "/api/v1/api-keys", created.Key, nil, 403)

	env.MustDo(t, "DELETE", "/api/v1/api-keys/"+created.ID, env.AdminKey, nil, 200)
	if r := env.Do(t, "GET", "/api/v1/issuers", created.Key, nil); r.Status != 401 {
		t.Errorf("revoked key: %d, want 401", r.Status)
	}

	// The last usable admin key cannot be revoked.
	var keys api.List[api.APIKey]
	env.MustDo(t, "GET", "/api/v1/api-keys", env.AdminKey, nil, 200).Decode(t, &keys)
	var adminID string
	for _, k := range keys.Items {
		if k.Role == "admin" && k.RevokedAt == nil {
			adminID = k.ID
		}
	}
	env.MustDo(t, "DELETE", "/api/v1/api-keys/"+adminID, env.AdminKey, nil, 409)
	env.MustDo(t, "GET", "/api/v1/issuers", env.AdminKey, nil, 200)
}

func TestAgentsAndEnrollmentTokens(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{})
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	ip := netip.MustParseAddr("10.1.2.3")
	var ids []uuid.UUID
	for i, os := range []string{"linux", "linux", "windows"} {
		a := core.Agent{ID: uuid.Must(uuid.NewV7()), Name: "host" + string(rune('a'+i)), Status: core.AgentOnline,
			Labels: map[string]string{"zone": "eu"}, OS: os, Arch: "amd64", IPAddress: &ip, Hostname: "h", AgentVersion: "1.0.0",
			LastHeartbeatAt: &now, EnrolledAt: now, CreatedAt: now, UpdatedAt: now}
		if err := env.Store.Q().CreateAgent(ctx, a); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	var list api.List[api.Agent]
	env.MustDo(t, "GET", "/api/v1/agents?os=linux", env.AdminKey, nil, 200).Decode(t, &list)
	if len(list.Items) != 2 || list.Items[0].IPAddress == nil || *list.Items[0].IPAddress != "10.1.2.3" {
		t.Fatalf("agents?os=linux = %+v", list.Items)
	}
	var agent api.Agent
	env.MustDo(t, "POST", "/api/v1/agents/"+ids[2].String()+"/retire", env.AdminKey, nil, 200).Decode(t, &agent)
	if agent.Status != "retired" || agent.RetiredAt == nil {
		t.Errorf("retired agent = %+v", agent)
	}
	env.MustDo(t, "GET", "/api/v1/agents?status=retired", env.AdminKey, nil, 200).Decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != ids[2].String() {
		t.Errorf("agents?status=retired = %+v", list.Items)
	}
	// A target cannot be bound to a retired agent; to a live one it can.
	if r := env.Do(t, "POST", "/api/v1/targets", env.AdminKey, api.TargetRequest{Name: "t", Type: "iis", AgentID: ptr(ids[2].String())}); r.Status != 400 {
		t.Errorf("target on retired agent: %d", r.Status)
	}
	var tgt api.Target
	env.MustDo(t, "POST", "/api/v1/targets", env.AdminKey, api.TargetRequest{Name: "t", Type: "nginx", AgentID: ptr(ids[0].String())}, 201).Decode(t, &tgt)
	// Such a certificate defaults to agent key mode.
	var iss api.Issuer
	env.MustDo(t, "POST", "/api/v1/issuers", env.AdminKey, api.IssuerRequest{Name: "ca", Type: "local"}, 201).Decode(t, &iss)
	var cert api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "a", CommonName: "a.example.com",
		IssuerID: iss.ID, TargetIDs: []string{tgt.ID}}, 201).Decode(t, &cert)
	if cert.KeyMode != "agent" {
		t.Errorf("key_mode = %q, want agent", cert.KeyMode)
	}

	var tok api.EnrollmentToken
	env.MustDo(t, "POST", "/api/v1/enrollment-tokens", env.AdminKey, api.EnrollmentTokenRequest{AgentName: "web-01",
		Labels: map[string]string{"env": "prod"}, TTL: "2h"}, 201).Decode(t, &tok)
	if !strings.HasPrefix(tok.Token, "cce_") || tok.ExpiresAt.Sub(tok.CreatedAt) != 2*time.Hour {
		t.Errorf("token = %+v", tok)
	}
	var toks api.List[api.EnrollmentToken]
	r := env.MustDo(t, "GET", "/api/v1/enrollment-tokens", env.AdminKey, nil, 200)
	r.Decode(t, &toks)
	if len(toks.Items) != 1 || toks.Items[0].Token != "" || strings.Contains(string(r.Body), tok.Token) {
		t.Errorf("token list shows the secret: %s", r.Body)
	}
	env.MustDo(t, "DELETE", "/api/v1/enrollment-tokens/"+tok.ID, env.AdminKey, nil, 200).Decode(t, &tok)
	if tok.RevokedAt == nil {
		t.Error("revoked token has no revoked_at")
	}
}

func ptr[T any](v T) *T { return &v }
