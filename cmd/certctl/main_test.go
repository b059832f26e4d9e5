package main

// The tests of certctl run the built binary, as users do, against a real
// certctl API (server/apitest: the real store, service and HTTP handler on
// a fresh PostgreSQL database, with the real local CA and webhook plugins)
// whose job worker runs as the server's does, so waits end by themselves.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/service"
)

var (
	pluginDir  string // the built-in plugins the server runs
	certctlBin string // the certctl binary under test
)

// testVersion is stamped into the binary, as make build stamps the real one.
const testVersion = "v0.0.0-clitest"

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "certctl-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	certctlBin = filepath.Join(dir, "certctl")
	build := exec.Command("go", "build", "-o", certctlBin,
		"-ldflags", "-X github.com/certctl/certctl/cmd/certctl/internal/cli.Version="+testVersion, ".")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build certctl: %v\n%s", err, out)
		return 1
	}
	return apitest.MainWithPlugins(m, &pluginDir, "issuer/local", "notifier/webhook")
}

// server is a running certctl API for one test, with the environment the
// CLI runs in: a home of its own (so no configuration file of the machine
// is read) and the server's URL and admin key.
type server struct {
	env  *apitest.Env
	home string
}

func startServer(t *testing.T) *server {
	t.Helper()
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir, AgentHub: true})
	w := env.Service.NewWorker(service.WorkerOptions{Owner: "certctl-cli-test"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &server{env: env, home: t.TempDir()}
}

// result is what one run of certctl did.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// baseEnv is the environment of every run: the test's own, without
// CERTCTL_ variables, with HOME and XDG_CONFIG_HOME in the test's home.
func (s *server) baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CERTCTL_") || strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+s.home, "XDG_CONFIG_HOME="+filepath.Join(s.home, ".config"))
}

// run runs certctl with the server's URL and admin key in the environment.
func (s *server) run(t *testing.T, args ...string) result {
	t.Helper()
	return s.runWith(t, []string{"CERTCTL_URL=" + s.env.URL, "CERTCTL_API_KEY=" + s.env.AdminKey}, "", args...)
}

// runWith runs certctl with extra environment and standard input.
func (s *server) runWith(t *testing.T, extraEnv []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, certctlBin, args...)
	cmd.Env = append(s.baseEnv(), extraEnv...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errOut.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("certctl %s: %v", strings.Join(args, " "), err)
		}
		r.code = ee.ExitCode()
	}
	return r
}

// ok runs certctl and fails the test unless it exits 0.
func (s *server) ok(t *testing.T, args ...string) result {
	t.Helper()
	r := s.run(t, args...)
	if r.code != 0 {
		t.Fatalf("certctl %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// code runs certctl and fails the test unless it exits with want.
func (s *server) code(t *testing.T, want int, args ...string) result {
	t.Helper()
	r := s.run(t, args...)
	if r.code != want {
		t.Fatalf("certctl %s: want exit %d, got %s", strings.Join(args, " "), want, r)
	}
	return r
}

// jsonOf runs certctl with -o json and decodes its output into v.
func (s *server) jsonOf(t *testing.T, v any, args ...string) {
	t.Helper()
	r := s.ok(t, append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("certctl %s -o json: %v\n%s", strings.Join(args, " "), err, r.stdout)
	}
}

// field returns the value of a FIELD/VALUE table's row.
func field(t *testing.T, table, name string) string {
	t.Helper()
	for _, line := range strings.Split(table, "\n") {
		if rest, ok := strings.CutPrefix(line, name+"  "); ok {
			return strings.TrimSpace(rest)
		}
	}
	t.Fatalf("no %s row in\n%s", name, table)
	return ""
}

// setupIssuer creates the local CA issuer "local" through the CLI.
func (s *server) setupIssuer(t *testing.T) {
	t.Helper()
	s.ok(t, "issuers", "create", "local", "--type", "local", "--set", "ca_key_type=ecdsa-p256")
}
