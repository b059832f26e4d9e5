package console_test

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/console"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/httpapi"
	"github.com/certctl/certctl/server/service"
)

var pluginDir string

func TestMain(m *testing.M) {
	os.Exit(apitest.MainWithPlugins(m, &pluginDir, "issuer/local", "target/nginx", "notifier/webhook"))
}

// site is a server with the console and the API, on a database with data.
type site struct {
	*apitest.Env
	URL    string
	Cert   core.Certificate
	Agent  core.Agent
	Issuer core.Issuer
}

// startSite starts the API and the console (as the server assembles them)
// on a fresh database holding a local CA issuer, an issued certificate
// and an agent that has sent a heartbeat.
func startSite(t testing.TB, opts ...func(*console.Options)) *site {
	t.Helper()
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir})
	o := console.Options{Service: env.Service, PollInterval: 300 * time.Millisecond}
	for _, f := range opts {
		f(&o)
	}
	ui, err := console.New(o)
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpapi.New(httpapi.Options{Service: env.Service, Registry: prometheus.NewRegistry(), Console: ui})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s := &site{Env: env, URL: srv.URL}
	ctx := core.WithActor(context.Background(), core.SystemActor)
	s.Issuer, err = env.Service.CreateIssuer(ctx, service.IssuerInput{Name: "local-ca", Type: "local",
		Config: map[string]any{"validity": "90d"}})
	if err != nil {
		t.Fatalf("create issuer: %v", err)
	}
	for _, name := range []string{"www-example-com", "api-example-com", "mail-example-com"} {
		c, err := env.Service.CreateCertificate(ctx, service.CertificateInput{Name: name,
			CommonName: strings.ReplaceAll(name, "-", "."), SANs: []string{strings.ReplaceAll(name, "-example-com", ".example.org")},
			IssuerID: s.Issuer.ID, KeyType: "ecdsa-p256", KeyMode: core.KeyModeServer})
		if err != nil {
			t.Fatalf("create certificate: %v", err)
		}
		if name == "api-example-com" {
			s.Cert = c
		}
	}
	env.RunJobs(t)
	if s.Cert, err = env.Service.GetCertificate(ctx, s.Cert.ID); err != nil || s.Cert.Status != core.CertActive {
		t.Fatalf("certificate after issuance: %+v, %v", s.Cert, err)
	}
	tok, err := env.Service.CreateEnrollmentToken(ctx, service.EnrollmentTokenInput{AgentName: "web-1"})
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("192.0.2.17")
	facts := service.AgentFacts{OS: "linux", Arch: "arm64", Hostname: "web-1.example.net", AgentVersion: "1.4.2",
		IPAddress: &ip, UptimeSeconds: 90061, Plugins: []core.AgentPlugin{{Name: "nginx", Kind: "target", Version: "1.0.0"}}}
	a, _, err := env.Service.Enroll(context.Background(), tok.Secret, "", facts)
	if err != nil {
		t.Fatal(err)
	}
	if s.Agent, err = env.Service.Heartbeat(core.WithActor(context.Background(), core.AgentActor(a.ID, a.Name)), facts); err != nil {
		t.Fatal(err)
	}
	// A target on the agent, a notifier and a rule, written directly: their
	// plugins (nginx, webhook) are not running in these tests.
	for _, q := range []string{
		`INSERT INTO targets (id, name, type, agent_id, config, created_at, updated_at)
			VALUES (gen_random_uuid(), 'web-1-nginx', 'nginx', '` + a.ID.String() + `', '{"cert_path": "/etc/nginx/tls/www.pem"}', now(), now())`,
		`INSERT INTO notifiers (id, name, type, config, created_at, updated_at)
			VALUES ('0190a7c4-0000-7000-8000-0000000000aa', 'ops-webhook', 'webhook', '{"url": "https://hooks.example.com/x"}', now(), now())`,
		`INSERT INTO notification_rules (id, name, notifier_id, events, created_at, updated_at)
			VALUES (gen_random_uuid(), 'expiring-to-ops', '0190a7c4-0000-7000-8000-0000000000aa', '{certificate.expiring,certificate.renewal_failed}', now(), now())`,
	} {
		if _, err := env.Pool.Exec(context.Background(), q); err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	return s
}

// browser is a plain HTTP client with cookies, which does not follow redirects.
func (s *site) browser(t testing.TB) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type page struct {
	Status int
	Header http.Header
	Body   string
}

func get(t testing.TB, c *http.Client, u string) page {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header, string(b)}
}

func post(t testing.TB, c *http.Client, u string, form url.Values) page {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header, string(b)}
}

var flashPattern = regexp.MustCompile(`<p class="flash" role="status">([^<]*)</p>`)

// flashAfter follows a redirect and returns the message the page shows.
func (s *site) flashAfter(t testing.TB, c *http.Client, r page) string {
	t.Helper()
	if r.Status != http.StatusSeeOther {
		t.Fatalf("want a redirect, got %d\n%s", r.Status, r.Body)
	}
	p := get(t, c, s.URL+r.Header.Get("Location"))
	m := flashPattern.FindStringSubmatch(p.Body)
	if m == nil {
		return ""
	}
	return m[1]
}

var csrfPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func csrfOf(t testing.TB, body string) string {
	t.Helper()
	m := csrfPattern.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in page:\n%s", body)
	}
	return m[1]
}

// signIn signs c in with key and returns the CSRF token of its session.
func (s *site) signIn(t testing.TB, c *http.Client, key string) string {
	t.Helper()
	p := get(t, c, s.URL+"/signin")
	r := post(t, c, s.URL+"/signin", url.Values{"csrf_token": {csrfOf(t, p.Body)}, "api_key": {key}, "next": {"/"}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("sign in: %d %s\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
	d := get(t, c, s.URL+"/")
	if d.Status != http.StatusOK || !strings.Contains(d.Body, "<h1>Dashboard</h1>") {
		t.Fatalf("dashboard after sign-in: %d\n%s", d.Status, d.Body)
	}
	return csrfOf(t, d.Body)
}

func TestSignInSessionAndSignOut(t *testing.T) {
	s := startSite(t)
	c := s.browser(t)

	// Signed out, pages lead to the sign-in page, keeping where the user was going.
	r := get(t, c, s.URL+"/certificates?status=active")
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/signin?next="+url.QueryEscape("/certificates?status=active") {
		t.Fatalf("signed-out page: %d %q", r.Status, r.Header.Get("Location"))
	}

	// A wrong key is refused with a message, and no session is made.
	p := get(t, c, s.URL+"/signin")
	r = post(t, c, s.URL+"/signin", url.Values{"csrf_token": {csrfOf(t, p.Body)}, "api_key": {"cck_wrong"}})
	if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, "That API key was not accepted: invalid API key") {
		t.Fatalf("wrong key: %d\n%s", r.Status, r.Body)
	}
	// A sign-in form without its token is refused (login CSRF).
	r = post(t, c, s.URL+"/signin", url.Values{"api_key": {s.AdminKey}})
	if r.Status != http.StatusForbidden {
		t.Fatalf("sign-in without token: %d", r.Status)
	}
	if n := s.Count(t, "console_sessions"); n != 0 {
		t.Fatalf("%d sessions after failed sign-ins", n)
	}

	// Signing in: the cookie is HttpOnly and SameSite, holds no API key,
	// and the database keeps only its hash.
	p = get(t, c, s.URL+"/signin")
	resp, err := c.PostForm(s.URL+"/signin", url.Values{"csrf_token": {csrfOf(t, p.Body)}, "api_key": {s.AdminKey},
		"next": {"//evil.example/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign in: %d, redirect to %q (an off-site next must not be followed)", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "certctl_session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, not Secure over plain HTTP", session)
	}
	if strings.Contains(session.Value, s.AdminKey) || len(session.Value) < 40 {
		t.Fatalf("session cookie %q", session.Value)
	}
	var stored int
	if err := s.Pool.QueryRow(context.Background(), `SELECT count(*) FROM console_sessions WHERE token_hash = sha256($1::bytea)`,
		[]byte(session.Value)).Scan(&stored); err != nil || stored != 1 {
		t.Fatalf("stored sessions with the cookie's hash: %d, %v", stored, err)
	}
	d := get(t, c, s.URL+"/")
	if d.Status != http.StatusOK || !strings.Contains(d.Body, "Sign out") {
		t.Fatalf("dashboard: %d\n%s", d.Status, d.Body)
	}

	// A second replica (another console over the same database) serves the session.
	other, err := console.New(console.Options{Service: s.Service})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/agents", nil)
	req.AddCookie(session)
	rec := httptest.NewRecorder()
	other.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "web-1") {
		t.Fatalf("other replica: %d", rec.Code)
	}

	// Signing out ends the session in the database: the old cookie no longer works.
	r = post(t, c, s.URL+"/signout", url.Values{"csrf_token": {csrfOf(t, d.Body)}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/signin" {
		t.Fatalf("sign out: %d %q", r.Status, r.Header.Get("Location"))
	}
	if n := s.Count(t, "console_sessions"); n != 0 {
		t.Fatalf("%d sessions after sign-out", n)
	}
	replay := &http.Client{CheckRedirect: c.CheckRedirect}
	req2, _ := http.NewRequest("GET", s.URL+"/", nil)
	req2.AddCookie(session)
	resp, err = replay.Do(req2)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("old cookie after sign-out: %d", resp.StatusCode)
	}
}

func TestRevokedKeyEndsSession(t *testing.T) {
	s := startSite(t)
	c := s.browser(t)
	key, err := s.Service.CreateAPIKey(core.WithActor(context.Background(), core.SystemActor),
		service.APIKeyInput{Name: "ops", Role: core.RoleOperator})
	if err != nil {
		t.Fatal(err)
	}
	s.signIn(t, c, key.Secret)
	if _, err := s.Service.RevokeAPIKey(core.WithActor(context.Background(), core.SystemActor), key.ID); err != nil {
		t.Fatal(err)
	}
	if r := get(t, c, s.URL+"/"); r.Status != http.StatusSeeOther {
		t.Fatalf("page after the key was revoked: %d", r.Status)
	}
}

func TestCSRF(t *testing.T) {
	s := startSite(t)
	c := s.browser(t)
	token := s.signIn(t, c, s.AdminKey)
	jobs := func() int { return s.Count(t, "jobs") }
	before := jobs()
	renew := s.URL + "/certificates/" + s.Cert.ID.String() + "/renew"
	for name, form := range map[string]url.Values{"none": {}, "wrong": {"csrf_token": {"x" + token}}} {
		r := post(t, c, renew, form)
		if r.Status != http.StatusForbidden || !strings.Contains(r.Body, "security token is missing or wrong") {
			t.Errorf("renew with %s token: %d\n%s", name, r.Status, r.Body)
		}
	}
	// The right token but another site's Origin is refused too.
	req, _ := http.NewRequest("POST", renew, strings.NewReader(url.Values{"csrf_token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("renew from another origin: %d", resp.StatusCode)
	}
	if n := jobs(); n != before {
		t.Fatalf("forged requests made %d jobs", n-before)
	}
	r := post(t, c, renew, url.Values{"csrf_token": {token}})
	if f := s.flashAfter(t, c, r); !strings.HasPrefix(f, "Renewal started (job ") {
		t.Fatalf("renew with token: flash %q", f)
	}
	if jobs() != before+1 {
		t.Fatalf("renew made no job")
	}
}

func TestViewerSeesNoActionsAndIsRefused(t *testing.T) {
	s := startSite(t)
	c := s.browser(t)
	token := s.signIn(t, c, s.NewKey(t, core.RoleViewer))
	p := get(t, c, s.URL+"/certificates/"+s.Cert.ID.String())
	if p.Status != http.StatusOK || strings.Contains(p.Body, "/renew") || strings.Contains(p.Body, "/revoke") {
		t.Fatalf("viewer's certificate page: %d, shows actions:\n%s", p.Status, p.Body)
	}
	p = get(t, c, s.URL+"/agents/"+s.Agent.ID.String())
	if strings.Contains(p.Body, "/retire") {
		t.Fatalf("viewer's agent page shows retire")
	}
	// The service refuses a viewer even with a valid form.
	r := post(t, c, s.URL+"/certificates/"+s.Cert.ID.String()+"/renew", url.Values{"csrf_token": {token}})
	if r.Status != http.StatusForbidden || !strings.Contains(r.Body, `role &#34;viewer&#34; may not do this`) {
		t.Fatalf("viewer renew: %d\n%s", r.Status, r.Body)
	}
}

func TestSecurityHeadersAndRouting(t *testing.T) {
	s := startSite(t)
	c := s.browser(t)
	p := get(t, c, s.URL+"/signin")
	csp := p.Header.Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(p.Body, "<script>") || strings.Contains(p.Body, " style=") {
		t.Errorf("inline script or style")
	}
	if p.Header.Get("X-Frame-Options") != "DENY" || p.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v", p.Header)
	}
	// The API and the operations endpoints keep their own answers.
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/healthz", 200, ""},
		{"GET", "/api/v1/nothing", 404, `"code":"not_found"`},
		{"POST", "/healthz", 405, `"code":"method_not_allowed"`},
		{"GET", "/api/v1/certificates", 401, `"code":"unauthorized"`},
		{"GET", "/.well-known/acme-challenge/nothing", 404, `"code":"not_found"`},
		{"GET", "/static/console.css", 200, "--accent"},
	} {
		req, _ := http.NewRequest(tc.method, s.URL+tc.path, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.body) {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, resp.StatusCode, b)
		}
	}
	s.signIn(t, c, s.AdminKey)
	if r := get(t, c, s.URL+"/?flash=Call+555-0100+now"); strings.Contains(r.Body, "555-0100") {
		t.Errorf("the address put words on the page")
	}
	if r := get(t, c, s.URL+"/no/such/page"); r.Status != 404 || !strings.Contains(r.Body, "There is no page at /no/such/page") {
		t.Errorf("unknown page: %d", r.Status)
	}
	if r := get(t, c, s.URL+"/certificates/0190a7c4-0000-7000-8000-000000000000"); r.Status != 404 {
		t.Errorf("unknown certificate: %d", r.Status)
	}
}

func TestPages(t *testing.T) {
	s := startSite(t)
	c := s.browser(t)
	s.signIn(t, c, s.AdminKey)
	// A failed renewal, for the dashboard's list of failures.
	if _, err := s.Pool.Exec(context.Background(), `INSERT INTO jobs (id, kind, state, certificate_id, run_at,
		created_at, updated_at, finished_at, last_error) VALUES (gen_random_uuid(), 'renew', 'failed', $1, now(), now(),
		now(), now(), 'the CA said no')`, s.Cert.ID); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{"/", "Certificates by status"},
		{"/", `<a href="/certificates/` + s.Cert.ID.String() + `">api-example-com</a>`},
		{"/", "the CA said no"},
		{"/certificates", "www-example-com"},
		{"/certificates?q=api", "api-example-com"},
		{"/certificates?q=api.example", "api-example-com"},
		{"/certificates?sort=name", "mail-example-com"},
		{"/certificates?sort=not_after&expiring=90", "www-example-com"},
		{"/certificates?status=failed", "No certificate matches these filters"},
		{"/certificates/" + s.Cert.ID.String(), "api.example.org"},
		{"/certificates/" + s.Cert.ID.String() + "/live", `data-settled="true"`},
		{"/agents", "linux/arm64"},
		{"/agents?os=windows", "No agent matches"},
		{"/agents/" + s.Agent.ID.String(), "192.0.2.17"},
		{"/jobs", "issue"},
		{"/targets", "web-1-nginx"},
		{"/targets", `">web-1</a>`},
		{"/agents/" + s.Agent.ID.String(), "web-1-nginx"},
		{"/notifiers", "ops-webhook"},
		{"/notifiers", "certificate.expiring, certificate.renewal_failed"},
		{"/audit", "certificate.create"},
		{"/audit?since=nonsense", "is not a date"},
	} {
		p := get(t, c, s.URL+tc.path)
		if !strings.Contains(p.Body, tc.want) {
			t.Errorf("GET %s: %d, no %q in\n%s", tc.path, p.Status, tc.want, p.Body)
		}
	}
	// Search by name prefix finds only the one certificate.
	p := get(t, c, s.URL+"/certificates?q=api")
	if strings.Contains(p.Body, "www-example-com") {
		t.Errorf("search for api shows www")
	}
	// The chain downloads as PEM.
	p = get(t, c, s.URL+"/certificates/"+s.Cert.ID.String()+"/chain.pem")
	if p.Status != 200 || strings.Count(p.Body, "BEGIN CERTIFICATE") < 2 {
		t.Errorf("chain: %d\n%s", p.Status, p.Body)
	}
}

func TestCertificatePages(t *testing.T) {
	s := startSite(t, func(o *console.Options) { o.PageSize = 3 })
	c := s.browser(t)
	s.signIn(t, c, s.AdminKey)
	ctx := core.WithActor(context.Background(), core.SystemActor)
	for i := range 7 {
		if _, err := s.Service.CreateCertificate(ctx, service.CertificateInput{Name: fmt.Sprintf("page-%02d", i),
			CommonName: fmt.Sprintf("p%d.example.com", i), IssuerID: s.Issuer.ID, KeyType: "ecdsa-p256",
			KeyMode: core.KeyModeServer}); err != nil {
			t.Fatal(err)
		}
	}
	// Walk every page of 3 in each order: every certificate exactly once.
	for _, order := range []string{"", "name", "not_after"} {
		seen := map[string]int{}
		next := "/certificates?sort=" + order
		for next != "" {
			p := get(t, c, s.URL+strings.ReplaceAll(next, "&amp;", "&"))
			for _, m := range regexp.MustCompile(`href="/certificates/([0-9a-f-]{36})"`).FindAllStringSubmatch(p.Body, -1) {
				seen[m[1]]++
			}
			m := regexp.MustCompile(`href="([^"]+)" rel="next"`).FindStringSubmatch(p.Body)
			next = ""
			if m != nil {
				next = m[1]
			}
		}
		if len(seen) != 10 {
			t.Errorf("order %q: %d certificates seen", order, len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("order %q: %s seen %d times", order, id, n)
			}
		}
	}
}

func TestIssuerSchemaForm(t *testing.T) {
	s := startSite(t)
	c := s.browser(t)
	token := s.signIn(t, c, s.AdminKey)
	p := get(t, c, s.URL+"/issuers/new?type=local")
	for _, want := range []string{`id="cfg-validity" name="cfg.validity" value="90d"`, `<select id="cfg-ca_key_type"`,
		`<textarea id="cfg-ca_private_key_pem"`, "Secret: stored encrypted, never shown again.", `<textarea id="cfg-allowed_domains"`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("form lacks %q", want)
		}
	}
	// A refused value says which field and why; the secret typed is not sent back.
	form := url.Values{"csrf_token": {token}, "type": {"local"}, "name": {"form-ca"}, "cfg.validity": {"400d"},
		"cfg.ca_private_key_pem": {"SECRET-VALUE-123"}, "cfg.allowed_domains": {"example.com\n\nexample.org"}}
	r := post(t, c, s.URL+"/issuers", form)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "validity") || strings.Contains(r.Body, "SECRET-VALUE-123") {
		t.Fatalf("invalid issuer: %d\n%s", r.Status, r.Body)
	}
	if !strings.Contains(r.Body, `value="400d"`) || !strings.Contains(r.Body, "example.org</textarea>") {
		t.Errorf("the form lost what was typed:\n%s", r.Body)
	}
	form.Set("cfg.validity", "30d")
	form.Del("cfg.ca_private_key_pem")
	r = post(t, c, s.URL+"/issuers", form)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create issuer: %d\n%s", r.Status, r.Body)
	}
	iss, _, err := s.Service.ListIssuers(core.WithActor(context.Background(), core.SystemActor), core.IssuerFilter{Type: "local"})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, i := range iss {
		if i.Name == "form-ca" {
			found = true
			if i.Config["validity"] != "30d" || fmt.Sprint(i.Config["allowed_domains"]) != "[example.com example.org]" {
				t.Errorf("config %v", i.Config)
			}
		}
	}
	if !found {
		t.Fatal("issuer form-ca not created")
	}
	if p := get(t, c, s.URL+"/issuers"); !strings.Contains(p.Body, "form-ca") {
		t.Errorf("issuers page lacks the new issuer")
	}
	if p := get(t, c, s.URL+"/plugins"); !strings.Contains(p.Body, "local") || !strings.Contains(p.Body, "issuer") {
		t.Errorf("plugins page:\n%s", p.Body)
	}
}

func TestAccessShowsSecretsOnce(t *testing.T) {
	s := startSite(t)
	c := s.browser(t)
	token := s.signIn(t, c, s.AdminKey)
	r := post(t, c, s.URL+"/access/api-keys", url.Values{"csrf_token": {token}, "name": {"ci"}, "role": {"operator"},
		"expires_days": {"30"}})
	m := regexp.MustCompile(`id="new-secret" class="mono" readonly value="(cck_[^"]+)"`).FindStringSubmatch(r.Body)
	if r.Status != http.StatusCreated || m == nil {
		t.Fatalf("create key: %d\n%s", r.Status, r.Body)
	}
	if _, err := s.Service.Authenticate(context.Background(), m[1]); err != nil {
		t.Fatalf("the shown key does not work: %v", err)
	}
	if p := get(t, c, s.URL+"/access"); strings.Contains(p.Body, m[1]) || !strings.Contains(p.Body, ">ci<") {
		t.Fatalf("the access page shows the secret again, or not the key")
	}
	r = post(t, c, s.URL+"/access/enrollment-tokens", url.Values{"csrf_token": {token}, "agent_name": {"db-1"}, "ttl_hours": {"2"}})
	if r.Status != http.StatusCreated || !strings.Contains(r.Body, "New enrollment token for db-1") {
		t.Fatalf("create token: %d\n%s", r.Status, r.Body)
	}
	r = post(t, c, s.URL+"/access/api-keys", url.Values{"csrf_token": {token}, "name": {""}, "role": {"operator"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "is required") {
		t.Errorf("key without a name: %d", r.Status)
	}
	// An operator is not an admin: no menu entry, and the page is refused.
	o := s.browser(t)
	s.signIn(t, o, s.NewKey(t, core.RoleOperator))
	if p := get(t, o, s.URL+"/"); strings.Contains(p.Body, `href="/access"`) {
		t.Errorf("operator sees the Access menu entry")
	}
	if p := get(t, o, s.URL+"/access"); p.Status != http.StatusForbidden {
		t.Errorf("operator on /access: %d", p.Status)
	}
}

func TestCreateCertificateForm(t *testing.T) {
	s := startSite(t)
	c := s.browser(t)
	token := s.signIn(t, c, s.AdminKey)
	p := get(t, c, s.URL+"/certificates/new")
	if !strings.Contains(p.Body, `value="`+s.Issuer.ID.String()+`"`) || !strings.Contains(p.Body, "web-1-nginx (nginx)") {
		t.Fatalf("form:\n%s", p.Body)
	}
	form := url.Values{"csrf_token": {token}, "name": {"Not A Name"}, "common_name": {"shop.example.com"},
		"sans": {"shop.example.org\n\n192.0.2.9"}, "issuer_id": {s.Issuer.ID.String()}, "key_type": {"ecdsa-p384"}, "key_mode": {""}}
	r := post(t, c, s.URL+"/certificates", form)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "name:") || !strings.Contains(r.Body, "192.0.2.9</textarea>") {
		t.Fatalf("bad name: %d\n%s", r.Status, r.Body)
	}
	// A label the API refuses is refused here too, naming the field, and
	// the form keeps what was typed.
	form.Set("name", "shop-example-com")
	for _, bad := range []string{"team=payments\nno pair here", "team=payments\nBad Key!=x"} {
		form.Set("labels", bad)
		r = post(t, c, s.URL+"/certificates", form)
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "labels: ") || !strings.Contains(r.Body, "team=payments\n") {
			t.Fatalf("bad labels %q: %d\n%s", bad, r.Status, r.Body)
		}
	}
	// Created with a renewal policy, labels and a profile: all three are stored.
	ctx := core.WithActor(context.Background(), core.SystemActor)
	fast, err := s.Service.CreatePolicy(ctx, service.RenewalPolicyInput{Name: "fast", Mode: core.PolicyDaysBefore, DaysBeforeExpiry: 20})
	if err != nil {
		t.Fatal(err)
	}
	if p = get(t, c, s.URL+"/certificates/new"); !strings.Contains(p.Body, `<option value="`+fast.ID.String()+`">fast</option>`) ||
		!strings.Contains(p.Body, `<label for="c-labels">`) || !strings.Contains(p.Body, `<label for="c-profile">`) || !strings.Contains(p.Body, `<label for="c-policy">`) {
		t.Fatalf("form lacks the policy, labels or profile:\n%s", p.Body)
	}
	form.Set("labels", "team=payments\n\n env = prod ")
	form.Set("profile", "server")
	form.Set("renewal_policy_id", fast.ID.String())
	r = post(t, c, s.URL+"/certificates", form)
	if r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "/certificates/") {
		t.Fatalf("create: %d\n%s", r.Status, r.Body)
	}
	path := r.Header.Get("Location")
	stored := func() core.Certificate {
		t.Helper()
		cert, err := s.Service.GetCertificate(ctx, uuid.MustParse(strings.TrimPrefix(path, "/certificates/")))
		if err != nil {
			t.Fatal(err)
		}
		return cert
	}
	if cert := stored(); cert.RenewalPolicyID == nil || *cert.RenewalPolicyID != fast.ID || cert.Profile != "server" ||
		!maps.Equal(cert.Labels, map[string]string{"team": "payments", "env": "prod"}) {
		t.Fatalf("stored: policy %v, profile %q, labels %v", cert.RenewalPolicyID, cert.Profile, cert.Labels)
	}
	s.RunJobs(t)
	p = get(t, c, s.URL+path)
	for _, want := range []string{"shop.example.org, 192.0.2.9", "ecdsa-p384", `<span class="badge s-active">active</span>`,
		"<dt>Profile</dt><dd>server</dd>", `<span class="tag">env=prod</span> <span class="tag">team=payments</span>`, "<dt>Policy</dt><dd>fast</dd>"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("new certificate's page lacks %q", want)
		}
	}
	// Edit it: the form comes filled in; a new SAN is saved (and issues again).
	p = get(t, c, s.URL+path+"/edit")
	if !strings.Contains(p.Body, `value="shop-example-com"`) || !strings.Contains(p.Body, "192.0.2.9</textarea>") ||
		!strings.Contains(p.Body, `value="`+fast.ID.String()+`" selected>fast`) || !strings.Contains(p.Body, ">env=prod\nteam=payments</textarea>") ||
		!strings.Contains(p.Body, `name="profile" value="server"`) {
		t.Fatalf("edit form:\n%s", p.Body)
	}
	form.Set("sans", "shop.example.org\nshop.example.net")
	form.Set("labels", "team=checkout")
	if f := s.flashAfter(t, c, post(t, c, s.URL+path, form)); f != "Certificate shop-example-com saved." {
		t.Fatalf("save: flash %q", f)
	}
	if p = get(t, c, s.URL+path); !strings.Contains(p.Body, "shop.example.org, shop.example.net") {
		t.Errorf("after editing:\n%s", p.Body)
	}
	if cert := stored(); !maps.Equal(cert.Labels, map[string]string{"team": "checkout"}) || cert.Profile != "server" ||
		cert.RenewalPolicyID == nil || *cert.RenewalPolicyID != fast.ID {
		t.Fatalf("after changing the labels: policy %v, profile %q, labels %v", cert.RenewalPolicyID, cert.Profile, cert.Labels)
	}
	// A request without the three fields keeps them; empty ones clear them
	// (the policy back to the default).
	kept := url.Values{}
	for k, v := range form {
		if k != "labels" && k != "profile" && k != "renewal_policy_id" {
			kept[k] = v
		}
	}
	if f := s.flashAfter(t, c, post(t, c, s.URL+path, kept)); f != "Certificate shop-example-com saved." {
		t.Fatalf("save without the fields: flash %q", f)
	}
	if cert := stored(); !maps.Equal(cert.Labels, map[string]string{"team": "checkout"}) || cert.Profile != "server" || cert.RenewalPolicyID == nil {
		t.Fatalf("not kept: policy %v, profile %q, labels %v", cert.RenewalPolicyID, cert.Profile, cert.Labels)
	}
	form.Set("labels", "")
	form.Set("profile", "")
	form.Set("renewal_policy_id", "")
	if f := s.flashAfter(t, c, post(t, c, s.URL+path, form)); f != "Certificate shop-example-com saved." {
		t.Fatalf("clear: flash %q", f)
	}
	if cert := stored(); len(cert.Labels) != 0 || cert.Profile != "" || cert.RenewalPolicyID != nil {
		t.Fatalf("not cleared: policy %v, profile %q, labels %v", cert.RenewalPolicyID, cert.Profile, cert.Labels)
	}
	if p = get(t, c, s.URL+path); !strings.Contains(p.Body, "<dt>Labels</dt><dd>none</dd>") || !strings.Contains(p.Body, "<dt>Profile</dt><dd>the issuer's default</dd>") {
		t.Errorf("after clearing:\n%s", p.Body)
	}
	// Delete it.
	if r = post(t, c, s.URL+path+"/delete", url.Values{"csrf_token": {token}}); r.Status != http.StatusSeeOther {
		t.Fatalf("delete: %d\n%s", r.Status, r.Body)
	}
	if p = get(t, c, s.URL+path); p.Status != http.StatusNotFound {
		t.Errorf("deleted certificate: %d", p.Status)
	}
}

func TestTargetAndNotifierForms(t *testing.T) {
	s := startSite(t)
	c := s.browser(t)
	token := s.signIn(t, c, s.AdminKey)
	p := get(t, c, s.URL+"/targets/new?type=nginx")
	if !strings.Contains(p.Body, `id="cfg-certificate_path"`) || !strings.Contains(p.Body, `<option value="`+s.Agent.ID.String()+`"`) {
		t.Fatalf("target form:\n%s", p.Body)
	}
	r := post(t, c, s.URL+"/targets", url.Values{"csrf_token": {token}, "type": {"nginx"}, "name": {"web-2-nginx"},
		"agent_id": {s.Agent.ID.String()}, "cfg.certificate_path": {"/etc/nginx/tls/a.pem"}, "cfg.key_path": {"/etc/nginx/tls/a.key"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create target: %d\n%s", r.Status, r.Body)
	}
	if p := get(t, c, s.URL+"/agents/"+s.Agent.ID.String()); !strings.Contains(p.Body, "web-2-nginx") {
		t.Errorf("the agent's page lacks its new target")
	}
	// The webhook's URL is sensitive: a password input, never sent back.
	p = get(t, c, s.URL+"/notifiers/new?type=webhook")
	if !strings.Contains(p.Body, `<input type="password" id="cfg-url" name="cfg.url"`) {
		t.Fatalf("notifier form:\n%s", p.Body)
	}
	form := url.Values{"csrf_token": {token}, "type": {"webhook"}, "name": {"Bad Name"}, "enabled": {"true"},
		"cfg.url": {"https://hooks.example.com/T0PSECRET"}}
	r = post(t, c, s.URL+"/notifiers", form)
	if r.Status != http.StatusUnprocessableEntity || strings.Contains(r.Body, "T0PSECRET") {
		t.Fatalf("bad notifier: %d\n%s", r.Status, r.Body)
	}
	form.Set("name", "team-hook")
	if r = post(t, c, s.URL+"/notifiers", form); r.Status != http.StatusSeeOther {
		t.Fatalf("create notifier: %d\n%s", r.Status, r.Body)
	}
	p = get(t, c, s.URL+"/notifiers")
	if !strings.Contains(p.Body, "team-hook") || strings.Contains(p.Body, "T0PSECRET") {
		t.Errorf("notifiers page:\n%s", p.Body)
	}
}

func TestEditConnectorKeepsSecrets(t *testing.T) {
	s := startSite(t)
	c := s.browser(t)
	token := s.signIn(t, c, s.AdminKey)
	form := url.Values{"csrf_token": {token}, "type": {"webhook"}, "name": {"team-hook"}, "enabled": {"true"},
		"cfg.url": {"https://hooks.example.com/T0PSECRET"}, "cfg.timeout": {"5s"}}
	if r := post(t, c, s.URL+"/notifiers", form); r.Status != http.StatusSeeOther {
		t.Fatalf("create notifier: %d\n%s", r.Status, r.Body)
	}
	ctx := core.WithActor(context.Background(), core.SystemActor)
	ns, _, err := s.Service.ListNotifiers(ctx, core.NotifierFilter{Type: "webhook"})
	i := slices.IndexFunc(ns, func(n core.Notifier) bool { return n.Name == "team-hook" })
	if err != nil || i < 0 {
		t.Fatalf("notifiers: %v %v", ns, err)
	}
	n := ns[i]
	p := get(t, c, s.URL+"/notifiers/"+n.ID.String()+"/edit")
	if p.Status != 200 || strings.Contains(p.Body, "T0PSECRET") || !strings.Contains(p.Body, "A value is stored: leave this empty to keep it.") ||
		!strings.Contains(p.Body, `value="team-hook"`) {
		t.Fatalf("edit form: %d\n%s", p.Status, p.Body)
	}
	// Saved with the secret left empty and the notifier disabled: the URL stays.
	r := post(t, c, s.URL+"/notifiers/"+n.ID.String(), url.Values{"csrf_token": {token}, "name": {"team-hook"}, "cfg.url": {""}})
	if f := s.flashAfter(t, c, r); f != "Notifier team-hook saved." {
		t.Fatalf("save: flash %q", f)
	}
	got, err := s.Service.GetNotifier(ctx, n.ID)
	if err != nil || got.Enabled || !slices.Contains(got.Secret.Fields, "url") {
		t.Fatalf("after saving: enabled %v, sealed %v, %v", got.Enabled, got.Secret.Fields, err)
	}
	// Deleting: the notifier goes; the issuer, which has certificates, stays, and the page says why.
	if r := post(t, c, s.URL+"/notifiers/"+n.ID.String()+"/delete", url.Values{"csrf_token": {token}}); r.Status != http.StatusSeeOther {
		t.Fatalf("delete notifier: %d\n%s", r.Status, r.Body)
	}
	if _, err := s.Service.GetNotifier(ctx, n.ID); core.ErrorCode(err) != core.ENOTFOUND {
		t.Fatalf("notifier after delete: %v", err)
	}
	if r := post(t, c, s.URL+"/issuers/"+s.Issuer.ID.String()+"/delete", url.Values{"csrf_token": {token}}); r.Status != http.StatusConflict {
		t.Errorf("delete an issuer in use: %d\n%s", r.Status, r.Body)
	}
	// Editing the issuer keeps its generated CA key.
	p = get(t, c, s.URL+"/issuers/"+s.Issuer.ID.String()+"/edit")
	if !strings.Contains(p.Body, `value="90d"`) || strings.Contains(p.Body, "PRIVATE KEY") {
		t.Fatalf("issuer edit form:\n%s", p.Body)
	}
}

func TestJobActions(t *testing.T) {
	s := startSite(t)
	c := s.browser(t)
	token := s.signIn(t, c, s.AdminKey)
	var jobID string
	if err := s.Pool.QueryRow(context.Background(), `INSERT INTO jobs (id, kind, state, certificate_id, run_at, created_at,
		updated_at, finished_at, last_error) VALUES (gen_random_uuid(), 'renew', 'failed', $1, now(), now(), now(), now(),
		'the CA said no') RETURNING id`, s.Cert.ID).Scan(&jobID); err != nil {
		t.Fatal(err)
	}
	p := get(t, c, s.URL+"/jobs?state=failed")
	if !strings.Contains(p.Body, `action="/jobs/`+jobID+`/retry"`) {
		t.Fatalf("failed job without Retry:\n%s", p.Body)
	}
	r := post(t, c, s.URL+"/jobs/"+jobID+"/retry", url.Values{"csrf_token": {token}})
	if f := s.flashAfter(t, c, r); !strings.HasSuffix(f, "(renew) is now queued.") {
		t.Fatalf("retry: flash %q", f)
	}
	// A live job makes the page refresh itself; none left, it stops.
	if p := get(t, c, s.URL+"/jobs"); !strings.Contains(p.Body, `<main id="main" tabindex="-1" data-refresh="300">`) {
		t.Errorf("jobs page with a queued job does not refresh itself")
	}
	r = post(t, c, s.URL+"/jobs/"+jobID+"/cancel", url.Values{"csrf_token": {token}})
	if f := s.flashAfter(t, c, r); !strings.HasSuffix(f, "(renew) is now cancelled.") {
		t.Fatalf("cancel: flash %q", f)
	}
	if p := get(t, c, s.URL+"/jobs"); strings.Contains(p.Body, "data-refresh") {
		t.Errorf("jobs page without live jobs refreshes itself")
	}
}

func TestNotificationRuleForm(t *testing.T) {
	s := startSite(t)
	c := s.browser(t)
	token := s.signIn(t, c, s.AdminKey)
	form := url.Values{"csrf_token": {token}, "name": {"failures-to-ops"}, "notifier_id": {"0190a7c4-0000-7000-8000-0000000000aa"},
		"expiry_days": {"20, 5"}, "enabled": {"true"}}
	r := post(t, c, s.URL+"/notification-rules", form)
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "name at least one event") {
		t.Fatalf("rule without events: %d\n%s", r.Status, r.Body)
	}
	form["events"] = []string{"certificate.expiring"}
	if r = post(t, c, s.URL+"/notification-rules", form); r.Status != http.StatusSeeOther {
		t.Fatalf("create rule: %d\n%s", r.Status, r.Body)
	}
	p := get(t, c, s.URL+"/notifiers")
	if !strings.Contains(p.Body, "failures-to-ops") || !strings.Contains(p.Body, "<td>20, 5</td>") {
		t.Fatalf("notifiers page:\n%s", p.Body)
	}
	m := regexp.MustCompile(`action="(/notification-rules/[0-9a-f-]+/delete)"`).FindAllStringSubmatch(p.Body, -1)
	if len(m) != 2 {
		t.Fatalf("%d delete buttons", len(m))
	}
	if r = post(t, c, s.URL+m[0][1], url.Values{"csrf_token": {token}}); r.Status != http.StatusSeeOther {
		t.Fatalf("delete rule: %d\n%s", r.Status, r.Body)
	}
	if n := s.Count(t, "notification_rules"); n != 1 {
		t.Errorf("%d rules after deleting one of two", n)
	}
}

func TestExpiredSessionEnds(t *testing.T) {
	s := startSite(t)
	c := s.browser(t)
	s.signIn(t, c, s.AdminKey)
	if _, err := s.Pool.Exec(context.Background(), `UPDATE console_sessions SET expires_at = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if r := get(t, c, s.URL+"/agents"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/signin") {
		t.Fatalf("page with an expired session: %d %q", r.Status, r.Header.Get("Location"))
	}
	// The next sign-in sweeps the expired session away.
	s.signIn(t, s.browser(t), s.AdminKey)
	if n := s.Count(t, "console_sessions"); n != 1 {
		t.Errorf("%d sessions, want the new one only", n)
	}
}
