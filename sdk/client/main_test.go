package client_test

// main_test.go starts what the Example functions talk to: one real
// certctl-server process, started as `make run` starts it (its embedded
// PostgreSQL, its job worker, the built-in plugins beside it), reached
// through CERTCTL_URL and CERTCTL_API_KEY as a program of yours would reach
// it. The sdk module requires nothing of certctl's root module, not even
// for its tests, so the server and its plugins are built from the
// repository around the module (two directories up) by the go command, not
// imported. The client's tests against an API of their own on a fresh
// database each need the server's internals (server/apitest): they live in
// the root module, in server/apitest/sdkclient.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
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
)

// examplePlugins are the built-in plugins the examples' server runs.
var examplePlugins = []string{"issuer/local", "notifier/webhook"}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	if !examplesWanted() {
		return m.Run()
	}
	tmp, err := os.MkdirTemp("", "certctl-sdk-examples-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "sdk/client examples:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	// Generous: a cold build of the server takes minutes on a small machine.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv, err := startServer(ctx, tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sdk/client examples:", err)
		if srv != nil {
			fmt.Fprintln(os.Stderr, srv.log(60))
			_ = srv.stop()
		}
		return 1
	}
	os.Setenv("CERTCTL_URL", srv.url)
	os.Setenv("CERTCTL_API_KEY", srv.key)
	code := m.Run()
	if err := srv.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "sdk/client examples: stop certctl-server:", err)
		code = 1
	}
	if code != 0 {
		fmt.Fprintln(os.Stderr, "--- certctl-server of the examples (log tail)\n"+srv.log(40))
	}
	return code
}

// examplesWanted says whether this run runs any Example (go test -run
// selects tests and examples alike), so that a run of a few tests does
// not pay for building and starting the server.
func examplesWanted() bool {
	if f := flag.Lookup("test.list"); f != nil && f.Value.String() != "" {
		return false // go test -list runs nothing
	}
	f := flag.Lookup("test.run")
	if f == nil || f.Value.String() == "" {
		return true
	}
	re, err := regexp.Compile(f.Value.String())
	return err != nil || re.MatchString("Example") || re.MatchString("ExampleClient_WaitForCertificate")
}

// repoRoot is the certctl repository around the sdk module: the examples'
// working directory is sdk/client.
func repoRoot() (string, error) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(root, "server", "cmd", "certctl-server")); err != nil {
		return "", fmt.Errorf("the examples build certctl-server from the repository around the sdk module, and %s holds none: %w", root, err)
	}
	return root, nil
}

// goBuild runs `go build -o out pkg` in the repository's root module.
func goBuild(ctx context.Context, root, out, pkg string) error {
	// go test puts the go command that runs it first on PATH.
	cmd := exec.CommandContext(ctx, "go", "build", "-C", root, "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// server is a certctl-server process.
type server struct {
	cmd      *exec.Cmd
	out      syncBuffer // stdout and stderr
	done     chan struct{}
	err      error // the process's exit, once done is closed
	url, key string
}

var (
	urlPattern = regexp.MustCompile(`listening on (https?://127\.0\.0\.1:\d+)`)
	keyPattern = regexp.MustCompile(`CERTCTL_API_KEY=(cck_[A-Za-z0-9_-]+)`)
)

// startServer builds certctl-server into tmp with the plugins beside it
// (tmp/plugins, where the server looks by itself), starts it on a fresh
// data directory and a free loopback port, and waits until it prints its
// address and first admin key and answers /readyz with 200. On an error
// after the start it returns the server too, for its log.
func startServer(ctx context.Context, tmp string) (*server, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(tmp, "certctl-server")
	if err := goBuild(ctx, root, bin, "./server/cmd/certctl-server"); err != nil {
		return nil, err
	}
	for _, p := range examplePlugins {
		out := filepath.Join(tmp, "plugins", "certctl-plugin-"+strings.ReplaceAll(p, "/", "-"))
		if err := goBuild(ctx, root, out, "./plugins/"+p); err != nil {
			return nil, err
		}
	}
	// As root the embedded PostgreSQL runs as the postgres user, which
	// must be able to traverse the data directory and its parents.
	data := filepath.Join(tmp, "data")
	if err := os.Mkdir(data, 0o711); err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp, 0o711); err != nil {
		return nil, err
	}

	s := &server{done: make(chan struct{})}
	s.cmd = exec.Command(bin)
	s.cmd.Env = append(environ(), "CERTCTL_DATA_DIR="+data, "CERTCTL_LISTEN_ADDR=127.0.0.1:0")
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start certctl-server: %w", err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()

	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			return s, fmt.Errorf("certctl-server exited before serving (%v)", s.err)
		case <-ctx.Done():
			return s, fmt.Errorf("certctl-server did not answer /readyz with 200: %w", ctx.Err())
		case <-tick.C:
		}
		out := s.out.String()
		u, k := urlPattern.FindStringSubmatch(out), keyPattern.FindStringSubmatch(out)
		if u == nil || k == nil {
			continue
		}
		if ready(ctx, u[1]) {
			s.url, s.key = u[1], k[1]
			return s, nil
		}
	}
}

// environ is the test's environment without CERTCTL_ variables: a
// developer's own settings must not reach the server.
func environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CERTCTL_") {
			env = append(env, kv)
		}
	}
	return env
}

func ready(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stop sends SIGINT, as Ctrl-C does, and requires a clean exit.
func (s *server) stop() error {
	select {
	case <-s.done:
		return fmt.Errorf("certctl-server had exited before it was stopped: %v", s.err)
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
		return fmt.Errorf("signal certctl-server: %w", err)
	}
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		_ = s.cmd.Process.Kill()
		<-s.done
		return errors.New("certctl-server did not exit within a minute of SIGINT")
	}
	return s.err
}

// log returns the last lines the server printed, for a failure report.
func (s *server) log(tail int) string {
	lines := strings.Split(strings.TrimRight(s.out.String(), "\n"), "\n")
	if len(lines) > tail {
		lines = append([]string{fmt.Sprintf("[%d earlier lines]", len(lines)-tail)}, lines[len(lines)-tail:]...)
	}
	return strings.Join(lines, "\n")
}

// syncBuffer is a bytes.Buffer safe for a writer and readers at once: a
// process's output read while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// must takes a call's results and returns a function that fails the test
// on its error, or returns its value: v := must(client.New(url))(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }
