package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/app"
	"github.com/certctl/certctl/server/pgtest"
)

// pluginDir holds the built-in plugins the servers under test run.
var pluginDir string

func TestMain(m *testing.M) {
	if os.Getenv("CERTCTL_TEST_HELPER_SERVER") == "1" {
		helperServer()
		return
	}
	code := apitest.MainWithPlugins(m, &pluginDir, "issuer/local", "notifier/webhook")
	removeACMEPlugin()
	os.Exit(code)
}

// helperServer runs the real server in this process, for tests that kill it.
func helperServer() {
	err := app.Run(context.Background(), nil, os.Getenv, os.Stdout, io.Discard, nil)
	fmt.Fprintln(os.Stderr, "server exited:", err)
	os.Exit(1)
}

// dataDir returns a fresh data directory. Tests run as root here, and the
// embedded PostgreSQL then runs as the unprivileged postgres user, which
// must be able to traverse the test's temporary directories.
func dataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
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

var keyPattern = regexp.MustCompile(`CERTCTL_API_KEY=(cck_[A-Za-z0-9_-]+)`)

// server is one certctl-server run in this process.
type server struct {
	addr   string
	stdout *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// start runs the server with the given environment and the test plugins,
// and waits until it serves.
func start(t *testing.T, vars map[string]string) *server {
	t.Helper()
	vars["CERTCTL_LISTEN_ADDR"] = "127.0.0.1:0"
	vars["CERTCTL_PLUGIN_DIR"] = pluginDir
	return startWithPlugins(t, vars, pluginDir)
}

// stop shuts the server down gracefully and checks that it exits cleanly.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("server exit: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Error("server did not stop within 60s")
	}
}

func (s *server) key() string {
	m := keyPattern.FindStringSubmatch(s.stdout.String())
	if m == nil {
		return ""
	}
	return m[1]
}

func call(t *testing.T, addr, method, path, key, body string, want int) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, data, want)
	}
	out := map[string]any{}
	_ = json.Unmarshal(data, &out)
	return out
}

func itemCount(t *testing.T, addr, path, key string) int {
	t.Helper()
	items, _ := call(t, addr, "GET", path, key, "", 200)["items"].([]any)
	return len(items)
}

// createResources makes an issuer, a target and a certificate through the API.
func createResources(t *testing.T, addr, key string) {
	t.Helper()
	iss := call(t, addr, "POST", "/api/v1/issuers", key, `{"name":"my-ca","type":"local","config":{"ca_key_type":"ecdsa-p256"}}`, 201)
	tgt := call(t, addr, "POST", "/api/v1/targets", key, `{"name":"web","type":"nginx","config":{}}`, 201)
	call(t, addr, "POST", "/api/v1/certificates", key, fmt.Sprintf(
		`{"name":"www","common_name":"www.example.com","issuer_id":%q,"target_ids":[%q]}`, iss["id"], tgt["id"]), 201)
}

func TestEmbeddedDefaultKeepsDataAcrossRestarts(t *testing.T) {
	dir := dataDir(t)
	vars := map[string]string{"CERTCTL_DATA_DIR": dir}
	first := start(t, vars)
	key := first.key()
	if key == "" {
		t.Fatalf("first start printed no admin key:\n%s", first.stdout.String())
	}
	if !strings.Contains(first.stdout.String(), "listening on http://"+first.addr) {
		t.Errorf("stdout does not show the URL:\n%s", first.stdout.String())
	}
	call(t, first.addr, "GET", "/readyz", "", "", 200)
	createResources(t, first.addr, key)
	first.stop(t)

	second := start(t, map[string]string{"CERTCTL_DATA_DIR": dir})
	if second.key() != "" {
		t.Error("second start printed an admin key again")
	}
	for path, want := range map[string]int{"/api/v1/issuers": 2, "/api/v1/targets": 1, "/api/v1/certificates": 1} {
		if n := itemCount(t, second.addr, path, key); n != want {
			t.Errorf("%s after restart: %d items, want %d", path, n, want)
		}
	}
}

func TestEmbeddedDefaultRecoversFromSIGKILL(t *testing.T) {
	dir := dataDir(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CERTCTL_TEST_HELPER_SERVER=1", "CERTCTL_DATA_DIR="+dir,
		"CERTCTL_LISTEN_ADDR=127.0.0.1:0", "CERTCTL_PLUGIN_DIR="+pluginDir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var addr, key string
	lines := bufio.NewScanner(out)
	deadline := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	for lines.Scan() && (addr == "" || key == "") {
		line := lines.Text()
		if _, rest, ok := strings.Cut(line, "listening on http://"); ok {
			addr = strings.TrimSpace(rest)
		}
		if m := keyPattern.FindStringSubmatch(line); m != nil {
			key = m[1]
		}
	}
	deadline.Stop()
	if addr == "" || key == "" {
		t.Fatal("helper server did not print its URL and key")
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	createResources(t, addr, key)

	// Kill the server outright: no shutdown code runs.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	again := start(t, map[string]string{"CERTCTL_DATA_DIR": dir})
	for path, want := range map[string]int{"/api/v1/issuers": 2, "/api/v1/targets": 1, "/api/v1/certificates": 1} {
		if n := itemCount(t, again.addr, path, key); n != want {
			t.Errorf("%s after SIGKILL and restart: %d items, want %d", path, n, want)
		}
	}
}

func TestTwoServersStartTogetherOnOneDatabase(t *testing.T) {
	url := pgtest.NewDatabase(t) // empty: both servers race to migrate it
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{42}, 32))
	var wg sync.WaitGroup
	servers := make([]*server, 2)
	for i := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			servers[i] = start(t, map[string]string{"CERTCTL_DATABASE_URL": url, "CERTCTL_DATA_DIR": t.TempDir(),
				"CERTCTL_ENCRYPTION_KEY": key})
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	var keys []string
	for _, s := range servers {
		call(t, s.addr, "GET", "/readyz", "", "", 200)
		if k := s.key(); k != "" {
			keys = append(keys, k)
		}
	}
	if len(keys) != 1 {
		t.Fatalf("%d servers printed an admin key, want exactly 1", len(keys))
	}
	// Both serve the same data.
	createResources(t, servers[0].addr, keys[0])
	if n := itemCount(t, servers[1].addr, "/api/v1/certificates", keys[0]); n != 1 {
		t.Errorf("second server sees %d certificates, want 1", n)
	}
}

func TestMismatchedEncryptionKeyIsRefused(t *testing.T) {
	url := pgtest.NewDatabase(t)
	first := start(t, map[string]string{"CERTCTL_DATABASE_URL": url, "CERTCTL_DATA_DIR": t.TempDir()})
	first.stop(t)
	// Another data directory means another generated key.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := app.Run(ctx, nil, env(map[string]string{"CERTCTL_DATABASE_URL": url, "CERTCTL_DATA_DIR": t.TempDir(),
		"CERTCTL_LISTEN_ADDR": "127.0.0.1:0", "CERTCTL_PLUGIN_DIR": pluginDir}), io.Discard, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "encryption key") {
		t.Fatalf("a server with another encryption key started: %v", err)
	}
}

func TestBootstrapKeyFromEnvironment(t *testing.T) {
	url := pgtest.NewDatabase(t)
	preset := "cck_preset-admin-key-for-tests-0123456789"
	s := start(t, map[string]string{"CERTCTL_DATABASE_URL": url, "CERTCTL_DATA_DIR": t.TempDir(),
		"CERTCTL_BOOTSTRAP_ADMIN_KEY": preset})
	if s.key() != "" {
		t.Error("a key was generated although one was preset")
	}
	call(t, s.addr, "GET", "/api/v1/api-keys", preset, "", 200)
}

func TestConfigErrors(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"plain HTTP off loopback": {"CERTCTL_LISTEN_ADDR": "0.0.0.0:8443"},
		"half a TLS pair":         {"CERTCTL_TLS_CERT_FILE": "/nonexistent.pem"},
		"bad bool":                {"CERTCTL_INSECURE_HTTP": "maybe"},
		"bad log level":           {"CERTCTL_LOG_LEVEL": "loud"},
		"short bootstrap key":     {"CERTCTL_BOOTSTRAP_ADMIN_KEY": "short", "CERTCTL_DATABASE_URL": "postgres://127.0.0.1:1/x?connect_timeout=1"},
		"bad HTTP-01 listener":    {"CERTCTL_HTTP01_LISTEN": "port80"},
		"bad ACME directory":      {"CERTCTL_ACME_EMAIL": "a@example.com", "CERTCTL_ACME_DIRECTORY_URL": "lets-encrypt"},
		"negative pending limit":  {"CERTCTL_ORDER_PENDING_LIMIT": "-1h"},
	} {
		t.Run(name, func(t *testing.T) {
			vars["CERTCTL_DATA_DIR"] = t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := app.Run(ctx, nil, env(vars), io.Discard, io.Discard, nil)
			if err == nil {
				t.Fatal("Run succeeded with a bad configuration")
			}
			t.Logf("error: %v", err)
		})
	}
}
