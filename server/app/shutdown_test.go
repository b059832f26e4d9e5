package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certctl/certctl/server/app"
	"github.com/certctl/certctl/server/pgtest"
)

// runningServer is app.Run in this process, with a plugin directory of
// the test's choosing.
type runningServer struct {
	addr   string
	cancel context.CancelFunc
	done   chan error
}

func runServer(t *testing.T, vars map[string]string) *runningServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &runningServer{cancel: cancel, done: make(chan error, 1)}
	vars["CERTCTL_LISTEN_ADDR"] = "127.0.0.1:0"
	ready := make(chan string, 1)
	go func() { s.done <- app.Run(ctx, nil, env(vars), io.Discard, io.Discard, ready) }()
	select {
	case s.addr = <-ready:
	case err := <-s.done:
		cancel()
		t.Fatalf("server exited before serving: %v", err)
	case <-time.After(2 * time.Minute):
		cancel()
		t.Fatal("server did not start")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(2 * time.Minute):
		}
	})
	return s
}

// shutdown signals the server to stop and returns Run's result and how
// long it took; limit only stops a test whose server never returns.
func (s *runningServer) shutdown(t *testing.T, limit time.Duration) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		return time.Since(start), err
	case <-time.After(limit):
		t.Fatalf("the server did not return within %s of the signal", limit)
		return 0, nil
	}
}

func TestShutdownEndsAgentLongPollsAtOnce(t *testing.T) {
	// The embedded database: its stop is part of the shutdown too.
	s := runServer(t, map[string]string{"CERTCTL_DATA_DIR": dataDir(t), "CERTCTL_PLUGIN_DIR": pluginDir,
		"CERTCTL_BOOTSTRAP_ADMIN_KEY": presetKey, "CERTCTL_SHUTDOWN_TIMEOUT": "3m"})
	tok := call(t, s.addr, "POST", "/api/v1/enrollment-tokens", presetKey, `{"agent_name":"web-01"}`, 201)
	enrolled := call(t, s.addr, "POST", "/api/v1/agent/enroll", "", fmt.Sprintf(`{"token":%q,"name":"web-01"}`, tok["token"]), 201)
	credential := enrolled["credential"].(string)

	// The agent's long poll, as certctl-agent sends it, on a connection
	// the server has already accepted (so that the poll is surely being
	// served when the shutdown begins).
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	poll := func(ctx context.Context, wait string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", "http://"+s.addr+"/api/v1/agent/work?wait="+wait, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+credential)
		return client.Do(req)
	}
	resp, err := poll(context.Background(), "0s")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("first poll: %v %v", resp, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	const wait = 50 * time.Second // the longest the server allows
	type result struct {
		status int
		body   string
		err    error
	}
	answered := make(chan result, 1)
	sent := make(chan struct{})
	pollStart := time.Now()
	go func() {
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) { close(sent) }})
		resp, err := poll(ctx, wait.String())
		if err != nil {
			answered <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answered <- result{status: resp.StatusCode, body: string(b)}
	}()
	<-sent
	time.Sleep(500 * time.Millisecond) // the server reads the request off the open connection

	took, err := s.shutdown(t, 3*time.Minute)
	if err != nil {
		t.Fatalf("shutdown: %v, want a clean exit", err)
	}
	r := <-answered
	if r.err != nil || r.status != 200 {
		t.Fatalf("long poll at shutdown: %d %s %v; want an answer (200, no work)", r.status, r.body, r.err)
	}
	var work struct{ Items []any }
	if err := json.Unmarshal([]byte(r.body), &work); err != nil || len(work.Items) != 0 {
		t.Fatalf("long poll answer: %s", r.body)
	}
	// Held by the poll, the shutdown would have lasted until the poll's
	// wait ended.
	if time.Since(pollStart) >= wait {
		t.Fatalf("shutdown waited for the agent's long poll (%s)", took)
	}
	t.Logf("shutdown with an agent long poll connected took %s", took)
}

// buildHangIssuer builds testdata/hangissuer as the issuer plugin "hang".
func buildHangIssuer(t *testing.T, dir string) {
	t.Helper()
	out := filepath.Join(dir, "certctl-plugin-issuer-hang")
	if b, err := exec.Command("go", "build", "-o", out, "./testdata/hangissuer").CombinedOutput(); err != nil {
		t.Fatalf("build the hang issuer: %v\n%s", err, b)
	}
}

func TestShutdownCutsOffAHungPluginCallAndTheJobRunsAgain(t *testing.T) {
	plugins := t.TempDir()
	buildHangIssuer(t, plugins)
	url := pgtest.NewDatabase(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	const timeout = 4 * time.Second
	vars := func() map[string]string {
		return map[string]string{"CERTCTL_DATABASE_URL": url, "CERTCTL_DATA_DIR": t.TempDir(),
			"CERTCTL_PLUGIN_DIR": plugins, "CERTCTL_BOOTSTRAP_ADMIN_KEY": presetKey,
			"CERTCTL_ENCRYPTION_KEY": sharedEncryptionKey, "CERTCTL_SHUTDOWN_TIMEOUT": timeout.String()}
	}
	s := runServer(t, vars())

	hangFile := filepath.Join(t.TempDir(), "hang")
	if err := os.WriteFile(hangFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	iss := call(t, s.addr, "POST", "/api/v1/issuers", presetKey,
		fmt.Sprintf(`{"name":"stuck-ca","type":"hang","config":{"hang_file":%q}}`, hangFile), 201)
	cert := call(t, s.addr, "POST", "/api/v1/certificates", presetKey,
		fmt.Sprintf(`{"name":"stuck","common_name":"stuck.example.com","issuer_id":%q}`, iss["id"]), 201)
	var pid int
	waitFor(t, "the issuer plugin to hang in its call", time.Minute, func() bool {
		b, err := os.ReadFile(hangFile + ".entered")
		pid, _ = strconv.Atoi(string(b))
		return err == nil && pid > 0
	})

	// The hung call would hold the job for the host's call timeout (60 s),
	// and the shutdown with it.
	took, err := s.shutdown(t, timeout+30*time.Second)
	if err != nil {
		t.Fatalf("shutdown: %v, want a clean exit", err)
	}
	t.Logf("shutdown with a hung plugin call took %s (timeout %s)", took, timeout)
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("the hung plugin process %d outlived the shutdown", pid)
	}
	var state, lastError string
	var attempt int
	var owner *string
	if err := pool.QueryRow(context.Background(), `SELECT state, attempt, lease_owner, last_error FROM jobs
		WHERE certificate_id = $1 AND kind = 'issue'`, cert["id"]).Scan(&state, &attempt, &owner, &lastError); err != nil {
		t.Fatal(err)
	}
	if state != "queued" || attempt != 0 || owner != nil {
		t.Fatalf("the hung job after shutdown: %s, attempt %d, lease %v (%s); want queued again, no attempt counted",
			state, attempt, owner, lastError)
	}

	// The CA answers again: the next start runs the job to its end.
	if err := os.Remove(hangFile); err != nil {
		t.Fatal(err)
	}
	s2 := runServer(t, vars())
	waitFor(t, "the certificate to be issued after the restart", time.Minute, func() bool {
		return call(t, s2.addr, "GET", "/api/v1/certificates/"+cert["id"].(string), presetKey, "", 200)["status"] == "active"
	})
	if err := pool.QueryRow(context.Background(), `SELECT state, attempt FROM jobs
		WHERE certificate_id = $1 AND kind = 'issue'`, cert["id"]).Scan(&state, &attempt); err != nil {
		t.Fatal(err)
	}
	if state != "succeeded" || attempt != 1 {
		t.Fatalf("the job after the restart: %s, attempt %d; want succeeded on its first counted attempt", state, attempt)
	}
	if _, err := s2.shutdown(t, time.Minute); err != nil {
		t.Fatalf("second shutdown: %v", err)
	}
}
