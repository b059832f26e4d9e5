package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/server/app"
	"github.com/certctl/certctl/server/pgtest"
)

// TestReadyzChecksTheNeededPlugins runs the real server with real plugins
// and checks /readyz: ready with every needed plugin accepted, not ready
// (naming the plugin) when an enabled notifier's plugin is missing or the
// issuer plugin's binary changed since it was registered, ready again once
// the notifier is disabled and the new binary registered; and answering
// starts no plugin.
func TestReadyzChecksTheNeededPlugins(t *testing.T) {
	t.Parallel()
	plugins := t.TempDir()
	for _, f := range []string{"certctl-plugin-issuer-local", "certctl-plugin-notifier-webhook"} {
		copyFile(t, filepath.Join(pluginDir, f), filepath.Join(plugins, f), nil)
	}
	vars := map[string]string{"CERTCTL_DATABASE_URL": pgtest.NewDatabase(t), "CERTCTL_DATA_DIR": dataDir(t)}

	s := startWithPlugins(t, vars, plugins)
	key := s.key()
	code, checks := readiness(t, s.addr)
	if code != 200 || checks["database"] != "ok" || checks["plugin/issuer/local"] != "ok" || len(checks) != 2 {
		t.Fatalf("first start: readyz %d %v; want 200 with the database and the default issuer's plugin", code, checks)
	}
	hook := call(t, s.addr, "POST", "/api/v1/notifiers", key,
		`{"name": "ops", "type": "webhook", "config": {"url": "https://hooks.example.com/certctl"}}`, 201)
	if code, checks := readiness(t, s.addr); code != 200 || checks["plugin/notifier/webhook"] != "ok" {
		t.Fatalf("with an enabled webhook notifier: readyz %d %v", code, checks)
	}
	s.stop(t)

	// The webhook binary is gone: its enabled notifier cannot work.
	if err := os.Remove(filepath.Join(plugins, "certctl-plugin-notifier-webhook")); err != nil {
		t.Fatal(err)
	}
	s = startWithPlugins(t, vars, plugins)
	code, checks = readiness(t, s.addr)
	if code != 503 || !strings.HasPrefix(checks["plugin/notifier/webhook"], "not installed") ||
		checks["plugin/issuer/local"] != "ok" || checks["database"] != "ok" {
		t.Fatalf("webhook plugin missing: readyz %d %v; want 503 naming it", code, checks)
	}
	// Answering started nothing: the issuer plugin has not been used since
	// this start.
	if st := pluginStatus(t, s.addr, key, "issuer", "local"); st != "ready" {
		t.Errorf("issuer/local is %q after readyz; want ready (not started)", st)
	}
	// A disabled notifier needs no plugin.
	// (Set in the database: updating it through the API would validate
	// its configuration with the missing plugin.)
	execSQL(t, vars["CERTCTL_DATABASE_URL"], `UPDATE notifiers SET enabled = false WHERE id = $1`, hook["id"])
	if code, checks := readiness(t, s.addr); code != 200 || len(checks) != 2 {
		t.Fatalf("webhook notifier disabled: readyz %d %v; want 200", code, checks)
	}
	s.stop(t)

	// The issuer binary changed since it was registered (an upgrade): not
	// ready until an admin registers it on this server.
	copyFile(t, filepath.Join(pluginDir, "certctl-plugin-issuer-local"), filepath.Join(plugins, "certctl-plugin-issuer-local"),
		[]byte("a different build"))
	s = startWithPlugins(t, vars, plugins)
	code, checks = readiness(t, s.addr)
	if code != 503 || !strings.HasPrefix(checks["plugin/issuer/local"], "checksum_mismatch") {
		t.Fatalf("issuer binary changed: readyz %d %v; want 503 naming the checksum", code, checks)
	}
	call(t, s.addr, "POST", "/api/v1/plugins/issuer/local/register", key, "", 200)
	if code, checks := readiness(t, s.addr); code != 200 {
		t.Fatalf("after the register: readyz %d %v", code, checks)
	}
}

// startWithPlugins runs the server with the given environment and plugin
// directory, on a loopback port, and waits until it serves.
func startWithPlugins(t *testing.T, vars map[string]string, dir string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stdout: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	ready := make(chan string, 1)
	v := map[string]string{"CERTCTL_LISTEN_ADDR": "127.0.0.1:0", "CERTCTL_PLUGIN_DIR": dir}
	for k, val := range vars {
		v[k] = val
	}
	go func() { s.done <- app.Run(ctx, nil, env(v), s.stdout, io.Discard, ready) }()
	select {
	case s.addr = <-ready:
	case err := <-s.done:
		cancel()
		t.Fatalf("server exited before serving: %v", err)
	case <-time.After(2 * time.Minute):
		cancel()
		t.Fatal("server did not start within 2 minutes")
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

func execSQL(t *testing.T, url, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// readiness returns /readyz's status and checks.
func readiness(t *testing.T, addr string) (int, map[string]string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Checks map[string]string `json:"checks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatalf("readyz %d: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, h.Checks
}

// pluginStatus is the status GET /api/v1/plugins gives kind/name.
func pluginStatus(t *testing.T, addr, key, kind, name string) string {
	t.Helper()
	items, _ := call(t, addr, "GET", "/api/v1/plugins", key, "", 200)["items"].([]any)
	for _, it := range items {
		p, _ := it.(map[string]any)
		if p["kind"] == kind && p["name"] == name {
			st, _ := p["status"].(string)
			return st
		}
	}
	t.Fatalf("no %s plugin %q in %v", kind, name, items)
	return ""
}

// copyFile copies an executable, with extra bytes appended (a different
// build of the same plugin: Go binaries run with trailing data).
func copyFile(t *testing.T, from, to string, extra []byte) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	tmp := to + ".new"
	if err := os.WriteFile(tmp, append(b, extra...), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}
