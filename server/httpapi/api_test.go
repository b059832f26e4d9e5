package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
)

// pluginDir holds built-in plugins for the tests that run real plugins.
var pluginDir string

func TestMain(m *testing.M) {
	os.Exit(apitest.MainWithPlugins(m, &pluginDir, "issuer/local", "notifier/webhook"))
}

// testClock is a clock tests move by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// route is one method of one route: its path template and, in path, the
// template with its variables filled in.
type route struct{ method, template, path string }

// walkRoutes lists every method of every route of the router, HEAD
// included, with the path variables filled in with ids that exist nowhere.
func walkRoutes(t *testing.T, env *apitest.Env) []route {
	t.Helper()
	var out []route
	err := env.Handler.Router().Walk(func(r *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := r.GetPathTemplate()
		if err != nil {
			return nil
		}
		methods, err := r.GetMethods()
		if err != nil {
			return nil
		}
		path := strings.NewReplacer("{id}", uuid.NewString(), "{version_id}", uuid.NewString(), "{issuer}", "no-such-issuer").Replace(tpl)
		for _, m := range methods {
			out = append(out, route{m, tpl, path})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 30 {
		t.Fatalf("walked only %d routes", len(out))
	}
	return out
}

// routes lists every route of the API but HEAD, with its path variables filled in.
func routes(t *testing.T, env *apitest.Env) []route {
	t.Helper()
	var out []route
	for _, r := range walkRoutes(t, env) {
		if r.method != http.MethodHead {
			out = append(out, r)
		}
	}
	return out
}

func TestViewersCannotMutate(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{})
	viewer := env.NewKey(t, core.RoleViewer)
	operator := env.NewKey(t, core.RoleOperator)
	before := env.Count(t, "audit_events")
	mutations := 0 // refusals the audit trail records: changes, and reads only admins may make that are audited
	for _, r := range routes(t, env) {
		if !strings.HasPrefix(r.path, "/api/v1/") || strings.HasPrefix(r.path, "/api/v1/agent/") {
			continue // agent routes take agent credentials, never API keys (agent_api_test.go)
		}
		resp := env.Do(t, r.method, r.path, viewer, "{}")
		switch {
		case r.method != http.MethodGet:
			mutations++
			if resp.Status != 403 || resp.ErrorCode() != api.CodeForbidden {
				t.Errorf("viewer %s %s: %d %s, want 403 forbidden", r.method, r.path, resp.Status, resp.Body)
			}
		case strings.HasSuffix(r.path, "/private-key"):
			mutations++ // a key export is audited, refusals included
			if resp.Status != 403 {
				t.Errorf("viewer %s %s: %d, want 403 (admin only)", r.method, r.path, resp.Status)
			}
		case strings.Contains(r.path, "/api-keys") || strings.Contains(r.path, "/enrollment-tokens"):
			if resp.Status != 403 {
				t.Errorf("viewer %s %s: %d, want 403 (admin only)", r.method, r.path, resp.Status)
			}
		default:
			if resp.Status == 401 || resp.Status == 403 {
				t.Errorf("viewer %s %s: %d, want reads allowed", r.method, r.path, resp.Status)
			}
		}
		if strings.Contains(r.path, "/api-keys") || strings.Contains(r.path, "/enrollment-tokens") || strings.HasSuffix(r.path, "/private-key") {
			resp := env.Do(t, r.method, r.path, operator, "{}")
			if resp.Status != 403 {
				t.Errorf("operator %s %s: %d, want 403 (admin only)", r.method, r.path, resp.Status)
			}
		}
	}
	// Every refused mutation is in the audit trail as denied.
	var denied int
	if err := env.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM audit_events WHERE outcome = 'denied' AND actor_name = 'test-viewer'
		 AND action ~ '^[a-z_]+\.[a-z_]+$' AND action LIKE resource_type || '.%'`).Scan(&denied); err != nil {
		t.Fatal(err)
	}
	if denied != mutations {
		t.Errorf("denied audit events for the viewer: %d, want %d", denied, mutations)
	}
	if env.Count(t, "audit_events") <= before {
		t.Error("no audit events written for refusals")
	}
}

// fixture creates an issuer, a target and a certificate and returns them.
func fixture(t *testing.T, env *apitest.Env, name string) (api.Issuer, api.Target, api.Certificate) {
	t.Helper()
	var iss api.Issuer
	env.MustDo(t, "POST", "/api/v1/issuers", env.AdminKey,
		api.IssuerRequest{Name: name + "-ca", Type: "local", Config: map[string]any{"validity": "90d"}}, 201).Decode(t, &iss)
	var tgt api.Target
	env.MustDo(t, "POST", "/api/v1/targets", env.AdminKey,
		api.TargetRequest{Name: name + "-web", Type: "nginx", Config: map[string]any{"cert_path": "/etc/ssl/a.pem"}}, 201).Decode(t, &tgt)
	var cert api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{
		Name: name, CommonName: name + ".example.com", SANs: []string{name + ".example.com", "WWW." + name + ".example.com"},
		IssuerID: iss.ID, TargetIDs: []string{tgt.ID},
	}, 201).Decode(t, &cert)
	return iss, tgt, cert
}

func TestResourceLifecycle(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{})
	iss, tgt, cert := fixture(t, env, "shop")

	if cert.Status != "issuing" || cert.KeyType != "ecdsa-p256" || cert.KeyMode != "server" {
		t.Errorf("defaults: status %q key_type %q key_mode %q", cert.Status, cert.KeyType, cert.KeyMode)
	}
	if want := []string{"shop.example.com", "www.shop.example.com"}; fmt.Sprint(cert.SANs) != fmt.Sprint(want) {
		t.Errorf("sans = %v, want %v", cert.SANs, want)
	}
	var got api.Certificate
	env.MustDo(t, "GET", "/api/v1/certificates/"+cert.ID, env.AdminKey, nil, 200).Decode(t, &got)
	if got.ID != cert.ID || got.IssuerID != iss.ID || len(got.TargetIDs) != 1 || got.TargetIDs[0] != tgt.ID {
		t.Errorf("get certificate = %+v", got)
	}

	// Replace: rename, drop the target, change the key type.
	var upd api.Certificate
	env.MustDo(t, "PUT", "/api/v1/certificates/"+cert.ID, env.AdminKey, api.CertificateRequest{
		Name: "shop2", CommonName: "shop.example.com", IssuerID: iss.ID, KeyType: "rsa-3072",
	}, 200).Decode(t, &upd)
	if upd.Name != "shop2" || upd.KeyType != "rsa-3072" || len(upd.TargetIDs) != 0 || len(upd.SANs) != 0 {
		t.Errorf("updated certificate = %+v", upd)
	}
	var iss2 api.Issuer
	env.MustDo(t, "PUT", "/api/v1/issuers/"+iss.ID, env.AdminKey, api.IssuerRequest{Name: "renamed", Config: map[string]any{}}, 200).Decode(t, &iss2)
	if iss2.Name != "renamed" || iss2.Type != "local" {
		t.Errorf("updated issuer = %+v", iss2)
	}
	if r := env.Do(t, "PUT", "/api/v1/issuers/"+iss.ID, env.AdminKey, api.IssuerRequest{Name: "renamed", Type: "acme"}); r.Status != 400 {
		t.Errorf("changing an issuer's type: %d, want 400", r.Status)
	}

	// An issuer in use cannot go; once the certificate is gone it can.
	env.MustDo(t, "DELETE", "/api/v1/issuers/"+iss.ID, env.AdminKey, nil, 409)
	env.MustDo(t, "DELETE", "/api/v1/certificates/"+cert.ID, env.AdminKey, nil, 204)
	env.MustDo(t, "GET", "/api/v1/certificates/"+cert.ID, env.AdminKey, nil, 404)
	env.MustDo(t, "DELETE", "/api/v1/issuers/"+iss.ID, env.AdminKey, nil, 204)
	env.MustDo(t, "DELETE", "/api/v1/targets/"+tgt.ID, env.AdminKey, nil, 204)
	env.MustDo(t, "DELETE", "/api/v1/targets/"+tgt.ID, env.AdminKey, nil, 404)

	// Versions and deployments of a missing certificate are 404, of an existing one empty lists.
	env.MustDo(t, "GET", "/api/v1/certificates/"+uuid.NewString()+"/versions", env.AdminKey, nil, 404)
	_, _, c3 := fixture(t, env, "other")
	var versions api.List[api.CertificateVersion]
	env.MustDo(t, "GET", "/api/v1/certificates/"+c3.ID+"/versions", env.AdminKey, nil, 200).Decode(t, &versions)
	if len(versions.Items) != 0 || versions.NextCursor != nil {
		t.Errorf("versions of a new certificate = %+v", versions)
	}
	env.MustDo(t, "GET", "/api/v1/certificates/"+c3.ID+"/deployments", env.AdminKey, nil, 200)
}

func TestListsPageAndFilter(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{})
	iss, tgt, _ := fixture(t, env, "base")
	var other api.Issuer
	env.MustDo(t, "POST", "/api/v1/issuers", env.AdminKey, api.IssuerRequest{Name: "other", Type: "acme"}, 201).Decode(t, &other)
	for i := range 11 {
		req := api.CertificateRequest{Name: fmt.Sprintf("c%02d", i), CommonName: fmt.Sprintf("c%d.example.com", i), IssuerID: iss.ID}
		if i%2 == 1 {
			req.IssuerID = other.ID
		}
		env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, req, 201)
	}
	// 12 certificates in all: page through them 5 at a time.
	seen := map[string]bool{}
	var last string
	cursor := ""
	pages := 0
	for {
		var page api.List[api.Certificate]
		env.MustDo(t, "GET", "/api/v1/certificates?limit=5&cursor="+cursor, env.AdminKey, nil, 200).Decode(t, &page)
		pages++
		for _, c := range page.Items {
			if seen[c.ID] {
				t.Fatalf("certificate %s listed twice", c.ID)
			}
			if c.ID <= last {
				t.Fatalf("list not in id order: %s after %s", c.ID, last)
			}
			seen[c.ID], last = true, c.ID
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if len(seen) != 12 || pages != 3 {
		t.Errorf("paged %d certificates in %d pages, want 12 in 3", len(seen), pages)
	}

	count := func(query string) int {
		var page api.List[api.Certificate]
		env.MustDo(t, "GET", "/api/v1/certificates?limit=500&"+query, env.AdminKey, nil, 200).Decode(t, &page)
		return len(page.Items)
	}
	for query, want := range map[string]int{
		"issuer_id=" + other.ID:                  5,
		"issuer_id=" + iss.ID:                    7,
		"status=issuing":                         12,
		"status=active":                          0,
		"target_id=" + tgt.ID:                    1,
		"name_prefix=c0":                         10,
		"name_prefix=c1":                         1,
		"expiring_before=2030-01-01T00:00:00Z":   0,
		"issuer_id=" + iss.ID + "&name_prefix=c": 6,
	} {
		if got := count(query); got != want {
			t.Errorf("certificates?%s: %d items, want %d", query, got, want)
		}
	}
	var issuers api.List[api.Issuer]
	env.MustDo(t, "GET", "/api/v1/issuers?type=acme", env.AdminKey, nil, 200).Decode(t, &issuers)
	if len(issuers.Items) != 1 || issuers.Items[0].ID != other.ID {
		t.Errorf("issuers?type=acme = %+v", issuers.Items)
	}
}
