package doctest

import (
	"bytes"
	"context"
	"errors"
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

// startDeadline and stopDeadline bound a server's start and stop: generous,
// for a busy two-core CI machine; they only stop a test that would hang.
const (
	startDeadline = 90 * time.Second
	stopDeadline  = 60 * time.Second
)

// RepoRoot returns the root of the checkout (the directory holding go.mod)
// above the working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// FindRepoRoot is RepoRoot for code that has no testing.TB, such as a
// TestMain.
func FindRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Binary returns the path of bin/<name> in the checkout, failing the test
// when it has not been built.
func Binary(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(RepoRoot(t), "bin", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is missing: run make build (make test builds first): %v", p, err)
	}
	return p
}

// NeedTools fails the test when a command it runs is not installed (on
// PATH, or in /usr/sbin, which Env adds to PATH).
func NeedTools(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if fi, err := os.Stat(filepath.Join("/usr/sbin", n)); err == nil && fi.Mode()&0o111 != 0 {
				continue
			}
			t.Fatalf("%s is needed on PATH for this test (Debian: apt-get install %s; .ci/run installs it)", n, n)
		}
	}
}

// DataDir returns a fresh directory for a server's data. As root the
// embedded PostgreSQL runs as the postgres user, which must be able to
// traverse it and its parent.
func DataDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Env returns the test process's environment without CERTCTL_ variables
// (a developer's own settings must not leak into what the tests start),
// with /usr/sbin on PATH (Debian keeps nginx there), plus extra.
func Env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CERTCTL_") {
			continue
		}
		if p, ok := strings.CutPrefix(kv, "PATH="); ok && !strings.Contains(":"+p+":", ":/usr/sbin:") {
			kv = "PATH=" + p + ":/usr/sbin"
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// Server is bin/certctl-server run as `make run` runs it: its embedded
// PostgreSQL in a data directory, listening on a loopback address.
type Server struct {
	Bin     string
	DataDir string
	Addr    string // host:port
	Key     string // the admin key printed at the first start

	cmd    *exec.Cmd
	stdout *SyncBuffer
	stderr *SyncBuffer
	done   chan struct{}
	err    error // the process's exit, once done is closed
	// logs keeps the output of earlier runs, for failure reports.
	logs strings.Builder
}

// NewServer prepares a server on a fresh data directory and a loopback
// port free at this moment. A concrete port, as `make run` gives (8443),
// not port 0: the server derives its public URL from the address it is
// given, and issuers' default CRL URLs come from that.
func NewServer(t testing.TB) *Server {
	t.Helper()
	addr, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return &Server{Bin: Binary(t, "certctl-server"), DataDir: DataDir(t), Addr: addr}
}

var (
	urlPattern = regexp.MustCompile(`listening on https?://(127\.0\.0\.1:\d+)`)
	keyPattern = regexp.MustCompile(`CERTCTL_API_KEY=(cck_[A-Za-z0-9_-]+)`)
)

// Start starts the server with exactly what `make run` sets
// (CERTCTL_DATA_DIR and CERTCTL_LISTEN_ADDR), reads the address it prints
// and, at the first start, the admin key, and waits until /readyz answers
// 200.
func (s *Server) Start(ctx context.Context) error {
	first := s.Key == ""
	s.stdout, s.stderr = &SyncBuffer{}, &SyncBuffer{}
	s.cmd = exec.Command(s.Bin)
	s.cmd.Env = Env("CERTCTL_DATA_DIR="+s.DataDir, "CERTCTL_LISTEN_ADDR="+s.Addr)
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.Bin, err)
	}
	s.done = make(chan struct{})
	go func() { s.err = s.cmd.Wait(); close(s.done) }()

	deadline := time.NewTimer(startDeadline)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			return fmt.Errorf("certctl-server exited before serving (%v)", s.err)
		case <-deadline.C:
			return fmt.Errorf("certctl-server did not answer /readyz with 200 within %v", startDeadline)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		out := s.stdout.String()
		m := urlPattern.FindStringSubmatch(out)
		if m == nil {
			continue
		}
		if s.Addr != "127.0.0.1:0" && m[1] != s.Addr {
			return fmt.Errorf("certctl-server printed address %s, was told %s", m[1], s.Addr)
		}
		if first {
			k := keyPattern.FindStringSubmatch(out)
			if k == nil {
				continue
			}
			s.Key = k[1]
		}
		if ready(ctx, m[1]) {
			s.Addr = m[1]
			return nil
		}
	}
}

func ready(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
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

// URL is the server's base URL.
func (s *Server) URL() string { return "http://" + s.Addr }

// Stdout is what the current run printed on stdout.
func (s *Server) Stdout() string { return s.stdout.String() }

// Running reports whether the process is alive.
func (s *Server) Running() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Stop sends SIGINT, as Ctrl-C does, and requires a clean exit (status 0).
func (s *Server) Stop() error {
	if s.cmd == nil {
		return nil
	}
	defer func() {
		fmt.Fprintf(&s.logs, "--- stdout\n%s--- stderr\n%s", s.stdout.String(), s.stderr.String())
		s.cmd = nil
	}()
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
	case <-time.After(stopDeadline):
		_ = s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("certctl-server did not exit within %v of SIGINT", stopDeadline)
	}
	var exit *exec.ExitError
	if errors.As(s.err, &exit) {
		return fmt.Errorf("certctl-server exited with status %d after SIGINT", exit.ExitCode())
	}
	return s.err
}

// Restart stops the server (it must exit 0) and starts it again on the same
// data directory and address.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.Start(ctx)
}

// Log returns everything the server printed so far, all runs, for a failure
// report; tail limits it to the last lines (0: all).
func (s *Server) Log(tail int) string {
	all := s.logs.String()
	if s.cmd != nil {
		all += fmt.Sprintf("--- stdout\n%s--- stderr\n%s", s.stdout.String(), s.stderr.String())
	}
	if tail <= 0 {
		return all
	}
	lines := strings.Split(strings.TrimRight(all, "\n"), "\n")
	if len(lines) > tail {
		lines = append([]string{fmt.Sprintf("[%d earlier lines]", len(lines)-tail)}, lines[len(lines)-tail:]...)
	}
	return strings.Join(lines, "\n")
}

// SyncBuffer is a bytes.Buffer safe for a writer and readers at once: a
// process's output read while it runs.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
