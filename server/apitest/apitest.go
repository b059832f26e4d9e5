// Package apitest starts a complete certctl API (store, service, HTTP) on a
// fresh, migrated database from pgtest, for the tests and benchmarks of
// other packages. A test package using it must run pgtest.Main in its
// TestMain.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/certctl/certctl/sdk/plugin/host"
	"github.com/certctl/certctl/server/app"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/db"
	"github.com/certctl/certctl/server/httpapi"
	"github.com/certctl/certctl/server/pgtest"
	"github.com/certctl/certctl/server/secrets"
	"github.com/certctl/certctl/server/service"
	"github.com/certctl/certctl/server/store"
)

// Env is a running API with its database.
type Env struct {
	URL      string
	Plugins  *host.Host // nil without Options.PluginDir
	AdminKey string
	Pool     *pgxpool.Pool
	Store    *store.Store
	Service  *service.Service
	Handler  *httpapi.Server
	Client   *http.Client
}

// Migrate applies certctl's migrations to the database at url; it is the
// template initialiser for pgtest.NewDatabaseFrom.
func Migrate(ctx context.Context, url string) error {
	pool, err := db.Open(ctx, url, 4)
	if err != nil {
		return err
	}
	defer pool.Close()
	_, err = db.Migrate(ctx, pool, slog.New(slog.DiscardHandler))
	return err
}

// NewDatabase returns the URL of a fresh database with certctl's schema.
func NewDatabase(t testing.TB) string {
	t.Helper()
	return pgtest.NewDatabaseFrom(t, "certctl_migrated", Migrate)
}

// Options adjust Start.
type Options struct {
	Clock        func() time.Time
	MaxBodyBytes int64
	Logger       *slog.Logger
	PoolSize     int32
	Jobs         *service.JobSettings
	// AgentHub wakes agents' long polls from database notifications.
	AgentHub bool
	// AgentMaxInflight bounds the agent requests served at once (0: none).
	AgentMaxInflight int
	// WrapIssuers, when set, wraps the issuer plugins (to inject failures).
	WrapIssuers func(service.IssuerProvider) service.IssuerProvider
	// PluginDir, when set, runs the plugins in it (see BuildPlugins) and
	// validates connector configuration through them; otherwise connector
	// types are checked by name only.
	PluginDir string
}

// Start returns an API served by httptest on a fresh database, with a
// bootstrap admin key. Everything stops in t.Cleanup.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	ctx := context.Background()
	if o.PoolSize == 0 {
		o.PoolSize = 10
	}
	pool, err := db.Open(ctx, NewDatabase(t), o.PoolSize)
	if err != nil {
		t.Fatalf("apitest: open database: %v", err)
	}
	t.Cleanup(pool.Close)
	st := store.New(pool)
	so := service.Options{Store: st, Clock: o.Clock, Logger: o.Logger, Secrets: TestSecrets(t), Jobs: o.Jobs}
	var plugins *host.Host
	if o.PluginDir != "" {
		var err error
		plugins, err = host.New(ctx, host.Options{Dir: o.PluginDir, Catalogue: app.HostCatalogue(st.Plugins()), Logger: o.Logger})
		if err != nil {
			t.Fatalf("apitest: plugin host: %v", err)
		}
		t.Cleanup(plugins.Close)
		so.Connectors, so.Plugins, so.Notifiers, so.Issuers = service.HostCatalog{Host: plugins}, app.PluginRegistry(plugins), plugins, plugins
		if o.WrapIssuers != nil {
			so.Issuers = o.WrapIssuers(plugins)
		}
	}
	svc := service.New(so)
	key, err := svc.Bootstrap(ctx, "")
	if err != nil {
		t.Fatalf("apitest: bootstrap: %v", err)
	}
	var hub *service.AgentHub
	if o.AgentHub {
		hub = service.NewAgentHub()
		hubCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { svc.RunAgentHub(hubCtx, hub); close(done) }()
		t.Cleanup(func() { stop(); <-done })
	}
	h, err := httpapi.New(httpapi.Options{Service: svc, Logger: o.Logger, Registry: prometheus.NewRegistry(),
		MaxBodyBytes: o.MaxBodyBytes, AgentHub: hub, AgentMaxInflight: o.AgentMaxInflight})
	if err != nil {
		t.Fatalf("apitest: build API: %v", err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = h.Listener(srv.Listener, nil, 0) // as the server serves it: long polls park (httpapi/park.go)
	srv.Start()
	t.Cleanup(srv.Close)
	return &Env{URL: srv.URL, Plugins: plugins, AdminKey: key, Pool: pool, Store: st, Service: svc, Handler: h, Client: srv.Client()}
}

// Response is a reply read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode unmarshals the body into v, failing the test if it cannot.
func (r Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %d response %q: %v", r.Status, r.Body, err)
	}
}

// ErrorCode returns the API error code in the body, or "".
func (r Response) ErrorCode() string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

// Do sends a request with key (none when empty). body may be nil, a
// []byte or string sent as is, or a value encoded as JSON.
func (e *Env) Do(t testing.TB, method, path, key string, body any) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// MustDo is Do that fails the test unless the status is want.
func (e *Env) MustDo(t testing.TB, method, path, key string, body any, want int) Response {
	t.Helper()
	r := e.Do(t, method, path, key, body)
	if r.Status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

// NewKey creates an API key with role through the service and returns its secret.
func (e *Env) NewKey(t testing.TB, role string) string {
	t.Helper()
	ctx := core.WithActor(context.Background(), core.SystemActor)
	k, err := e.Service.CreateAPIKey(ctx, service.APIKeyInput{Name: "test-" + role, Role: role})
	if err != nil {
		t.Fatalf("create %s key: %v", role, err)
	}
	return k.Secret
}

// Count returns the number of rows in table.
func (e *Env) Count(t testing.TB, table string) int {
	t.Helper()
	var n int
	if err := e.Pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// DoWithContentType sends body with an explicit Content-Type.
func (e *Env) DoWithContentType(t testing.TB, method, path, key, body, contentType string) Response {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+path, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := e.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// testKey is the encryption key of every Env: fixed, so that a test can
// build a second service over the same database.
var testKey = bytes.Repeat([]byte{0x5e}, secrets.KeySize)

// TestSecrets returns a Box with the key every Env uses.
func TestSecrets(t testing.TB) *secrets.Box {
	t.Helper()
	box, err := secrets.New(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// RunJobs runs due jobs until none is left, and returns how many ran.
func (e *Env) RunJobs(t testing.TB) int {
	t.Helper()
	w := e.Service.NewWorker(service.WorkerOptions{Owner: "apitest"})
	total := 0
	for range 1000 {
		n, err := w.RunOnce(context.Background())
		if err != nil {
			t.Fatalf("run jobs: %v", err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
	t.Fatal("jobs keep coming after 1000 rounds")
	return total
}
