package httpapi_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/host"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/app"
	"github.com/certctl/certctl/server/service"
)

func TestPluginsAreListed(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir})
	var list api.List[api.Plugin]
	env.MustDo(t, "GET", "/api/v1/plugins", env.NewKey(t, "viewer"), nil, 200).Decode(t, &list)
	found := map[string]api.Plugin{}
	for _, p := range list.Items {
		found[p.Kind+"/"+p.Name] = p
	}
	local, ok := found["issuer/local"]
	if !ok || len(local.SHA256) != 64 || local.Version == "" || local.Status != host.StatusReady || local.RegisteredAt == nil {
		t.Fatalf("issuer/local = %+v", local)
	}
	var sensitive []string
	for _, f := range local.Schema.Fields {
		if f.Sensitive {
			sensitive = append(sensitive, f.Name)
		}
	}
	if len(sensitive) != 1 || sensitive[0] != "ca_private_key_pem" {
		t.Errorf("local CA sensitive fields = %v", sensitive)
	}
	if _, ok := found["notifier/webhook"]; !ok {
		t.Errorf("notifier/webhook not listed: %v", found)
	}
	// Only admins re-register.
	env.MustDo(t, "POST", "/api/v1/plugins/issuer/local/register", env.NewKey(t, "operator"), nil, 403)
	var reg api.Plugin
	env.MustDo(t, "POST", "/api/v1/plugins/issuer/local/register", env.AdminKey, nil, 200).Decode(t, &reg)
	// The registered binary runs: new calls go to the process register started.
	if reg.SHA256 != local.SHA256 || reg.Status != host.StatusRunning {
		t.Errorf("re-registered = %+v", reg)
	}
	env.MustDo(t, "POST", "/api/v1/plugins/issuer/nope/register", env.AdminKey, nil, 404)
}

// syncBuffer collects log output from concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSensitiveFieldsAreEncryptedAndNeverShown(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir, Logger: logger})
	const secret = "whsec-do-not-leak-4f9a"

	// A receiver that checks the webhook's HMAC signature with the secret.
	var mu sync.Mutex
	var verified int
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(r.Header.Get("X-Certctl-Timestamp") + "." + string(body)))
		if r.Header.Get("X-Certctl-Signature") == "sha256="+hex.EncodeToString(mac.Sum(nil)) {
			mu.Lock()
			verified++
			mu.Unlock()
		}
		w.WriteHeader(200)
	}))
	t.Cleanup(receiver.Close)

	var n api.Notifier
	r := env.MustDo(t, "POST", "/api/v1/notifiers", env.AdminKey, api.NotifierRequest{Name: "hook", Type: "webhook",
		Config: map[string]any{"url": receiver.URL, "secret": secret}}, 201)
	r.Decode(t, &n)
	if strings.Contains(string(r.Body), secret) || n.Config["secret"] != nil || !slices.Contains(n.SecretFields, "secret") {
		t.Fatalf("create answer shows the secret or misses its name: %s", r.Body)
	}
	for _, path := range []string{"/api/v1/notifiers/" + n.ID, "/api/v1/notifiers", "/api/v1/audit-events?limit=500"} {
		if body := env.MustDo(t, "GET", path, env.AdminKey, nil, 200).Body; strings.Contains(string(body), secret) {
			t.Errorf("GET %s shows the secret", path)
		}
	}
	// In the database the value is sealed: not in config, not in clear anywhere in the row.
	var cfg, sealed []byte
	if err := env.Pool.QueryRow(context.Background(), `SELECT config::text, config_secret FROM notifiers WHERE id = $1`,
		n.ID).Scan(&cfg, &sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(cfg, []byte(secret)) || len(sealed) == 0 || bytes.Contains(sealed, []byte(secret)) {
		t.Fatalf("row: config %s, sealed %d bytes (contains secret: %v)", cfg, len(sealed), bytes.Contains(sealed, []byte(secret)))
	}

	// An update that leaves the secret out keeps it: the test delivery is
	// still signed with it.
	env.MustDo(t, "PUT", "/api/v1/notifiers/"+n.ID, env.AdminKey, api.NotifierRequest{Name: "hook2",
		Config: map[string]any{"timeout": "5s"}}, 200)
	var res api.NotifierTestResult
	env.MustDo(t, "POST", "/api/v1/notifiers/"+n.ID+"/test", env.AdminKey, nil, 200).Decode(t, &res)
	mu.Lock()
	if !res.Delivered || verified != 1 {
		t.Errorf("test delivery: %+v, verified signatures %d", res, verified)
	}
	mu.Unlock()

	// The local CA's private key is sealed the same way.
	var iss api.Issuer
	r = env.MustDo(t, "POST", "/api/v1/issuers", env.AdminKey, api.IssuerRequest{Name: "ca", Type: "local",
		Config: map[string]any{"ca_key_type": "ecdsa-p256"}}, 201)
	r.Decode(t, &iss)
	if strings.Contains(string(r.Body), "PRIVATE KEY") || iss.Config["ca_certificate_pem"] == nil ||
		len(iss.SecretFields) != 1 || iss.SecretFields[0] != "ca_private_key_pem" {
		t.Fatalf("issuer answer: %s", r.Body)
	}
	if err := env.Pool.QueryRow(context.Background(), `SELECT config::text, config_secret FROM issuers WHERE id = $1`,
		iss.ID).Scan(&cfg, &sealed); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(cfg, []byte("PRIVATE KEY")) || bytes.Contains(sealed, []byte("PRIVATE KEY")) || len(sealed) == 0 {
		t.Fatalf("issuer row holds the CA key in clear")
	}
	if strings.Contains(logs.String(), secret) || strings.Contains(logs.String(), "PRIVATE KEY") {
		t.Error("a secret reached the logs")
	}
}

func TestPluginsValidateConfiguration(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir})
	before := env.Count(t, "notifiers") + env.Count(t, "issuers")
	for _, c := range []struct {
		path  string
		body  any
		field string
	}{
		{"/api/v1/notifiers", api.NotifierRequest{Name: "a", Type: "webhook", Config: map[string]any{"url": "ftp://example.com"}}, "config.url"},
		{"/api/v1/notifiers", api.NotifierRequest{Name: "a", Type: "webhook", Config: map[string]any{}}, "config.url"},
		{"/api/v1/notifiers", api.NotifierRequest{Name: "a", Type: "webhook", Config: map[string]any{"url": "https://x.example", "colour": "red"}}, "config.colour"},
		{"/api/v1/notifiers", api.NotifierRequest{Name: "a", Type: "smoke-signal", Config: map[string]any{}}, "type"},
		{"/api/v1/issuers", api.IssuerRequest{Name: "a", Type: "local", Config: map[string]any{"validity": "-3d"}}, "config.validity"},
		{"/api/v1/issuers", api.IssuerRequest{Name: "a", Type: "local", Config: map[string]any{"ca_key_type": "dsa"}}, "config.ca_key_type"},
		{"/api/v1/issuers", api.IssuerRequest{Name: "a", Type: "local", Config: map[string]any{"ca_certificate_pem": "junk"}}, ""},
	} {
		r := env.Do(t, "POST", c.path, env.AdminKey, c.body)
		var e api.ErrorResponse
		r.Decode(t, &e)
		if r.Status != 400 || (c.field != "" && e.Error.Field != c.field) {
			t.Errorf("POST %s %+v: %d %s, want 400 on %s", c.path, c.body, r.Status, r.Body, c.field)
		}
	}
	if after := env.Count(t, "notifiers") + env.Count(t, "issuers"); after != before {
		t.Errorf("refused configurations stored rows: %d → %d", before, after)
	}
}

// newCSR returns a DER CSR for name.
func newCSR(t *testing.T, name string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: name},
		DNSNames: []string{name}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestLocalCASurvivesPluginAndServerRestart(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir})
	var created api.Issuer
	env.MustDo(t, "POST", "/api/v1/issuers", env.AdminKey, api.IssuerRequest{Name: "ca", Type: "local",
		Config: map[string]any{"ca_key_type": "ecdsa-p256"}}, 201).Decode(t, &created)
	block, _ := pem.Decode([]byte(created.Config["ca_certificate_pem"].(string)))
	caCert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(caCert)

	// issueWith issues through a given host and service and checks that the
	// leaf chains to the CA created above.
	issueWith := func(h *host.Host, svc *service.Service) {
		t.Helper()
		ctx := context.Background()
		iss, err := env.Store.Q().GetIssuer(ctx, uuid.MustParse(created.ID))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := svc.IssuerConfig(iss)
		if err != nil {
			t.Fatal(err)
		}
		p, err := h.Issuer("local")
		if err != nil {
			t.Fatal(err)
		}
		req := plugin.IssueRequest{Config: cfg, CSR: newCSR(t, "app.example.com"), CommonName: "app.example.com",
			SANs: []string{"app.example.com"}}
		res, err := p.IssueCertificate(ctx, req)
		if plugin.Retryable(err) { // the call that finds the process dead fails; the next one restarts it
			res, err = p.IssueCertificate(ctx, req)
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := pem.Decode([]byte(res.CertificatePEM))
		leaf, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "app.example.com"}); err != nil {
			t.Fatalf("leaf does not chain to the CA made at creation: %v", err)
		}
	}
	issueWith(env.Plugins, env.Service)

	// Restart the plugin: kill its process; the next call starts a new one.
	for _, p := range env.Plugins.Plugins() {
		if p.Kind == plugin.KindIssuer && p.Name == "local" && p.Pid > 0 {
			if err := syscall.Kill(p.Pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}
	}
	issueWith(env.Plugins, env.Service)

	// Restart "the server": a new plugin host and service on the same
	// database and encryption key.
	h2, err := host.New(context.Background(), host.Options{Dir: pluginDir, Catalogue: app.HostCatalogue(env.Store.Plugins())})
	if err != nil {
		t.Fatal(err)
	}
	defer h2.Close()
	svc2 := service.New(service.Options{Store: env.Store, Secrets: apitest.TestSecrets(t), Connectors: service.HostCatalog{Host: h2}})
	issueWith(h2, svc2)
}
