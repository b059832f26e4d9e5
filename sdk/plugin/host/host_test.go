package host_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/host"
)

// The test binary doubles as the plugin under test (when a host starts it
// with the issuer handshake cookie) and as a host process to be killed.
func TestMain(m *testing.M) {
	if os.Getenv(plugin.Handshake(plugin.KindIssuer).MagicCookieKey) != "" {
		// A marker file beside the binary makes the plugin slow to start
		// (plugins inherit no test environment variables).
		if _, err := os.Stat(filepath.Join(filepath.Dir(os.Args[0]), slowStartMarker)); err == nil {
			time.Sleep(slowStart)
		}
		plugin.Serve(fakeIssuer{})
		return
	}
	if dir := os.Getenv("CERTCTL_TEST_HOST_DIR"); dir != "" {
		runHostProcess(dir)
		return
	}
	os.Exit(m.Run())
}

// slowStartMarker, in a plugin directory, makes the fake plugin take
// slowStart to start.
const (
	slowStartMarker = "slow-start"
	slowStart       = time.Second
)

// fakeIssuer behaves as its config says: "mode" ok (default), slow (sleeps
// "sleep_ms", honouring ctx), barrier (returns once "barrier" calls are in
// the process at the same time, or fails when ctx ends first), hang
// (ignores ctx), crash (exits mid-call), panic (panics with panicMessage,
// once "barrier" barrier calls are waiting in the process when it is set).
// It reports its pid as the order id so tests see which process answered.
type fakeIssuer struct{}

// panicMessage is what the fake panics with in mode panic.
const panicMessage = "fake issuer exploded"

// inFlight counts the plugin process's barrier calls; the plugin process
// is the test binary started by a host, so this state is per process.
var inFlight = struct {
	sync.Mutex
	n       int64
	reached chan struct{}
	arrival chan struct{} // closed (and replaced) when a barrier call arrives
}{reached: make(chan struct{}), arrival: make(chan struct{})}

// barrier waits until n calls are inside it at once.
func barrier(ctx context.Context, n int64) error {
	inFlight.Lock()
	inFlight.n++
	if inFlight.n == n {
		close(inFlight.reached)
	}
	close(inFlight.arrival)
	inFlight.arrival = make(chan struct{})
	inFlight.Unlock()
	select {
	case <-inFlight.reached:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("only some of %d calls arrived together: %w", n, ctx.Err())
	}
}

// waitBarrier waits until n calls have arrived at the barrier.
func waitBarrier(ctx context.Context, n int64) error {
	for {
		inFlight.Lock()
		arrived, next := inFlight.n, inFlight.arrival
		inFlight.Unlock()
		if arrived >= n {
			return nil
		}
		select {
		case <-next:
		case <-ctx.Done():
			return fmt.Errorf("%d of %d calls arrived at the barrier: %w", arrived, n, ctx.Err())
		}
	}
}

func (fakeIssuer) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "fake", Kind: plugin.KindIssuer, Version: "0.1.0", Schema: plugin.Schema{Fields: []plugin.Field{
		{Name: "mode", Type: plugin.TypeString, Enum: []string{"ok", "slow", "barrier", "hang", "crash", "panic"}, Default: "ok"},
		{Name: "sleep_ms", Type: plugin.TypeInt},
		{Name: "barrier", Type: plugin.TypeInt},
		{Name: "token", Type: plugin.TypeString, Sensitive: true},
	}}}, nil
}

func (fakeIssuer) ValidateConfig(_ context.Context, req plugin.ValidateConfigRequest) error {
	cfg := req.Config
	if cfg.String("token") == "bad" {
		return plugin.InvalidConfig("token", "is not accepted")
	}
	return nil
}

func (fakeIssuer) Provision(_ context.Context, req plugin.ProvisionRequest) (plugin.ProvisionResult, error) {
	return plugin.ProvisionResult{Config: req.Config}, nil
}

func (fakeIssuer) IssueCertificate(ctx context.Context, req plugin.IssueRequest) (plugin.IssueResult, error) {
	switch req.Config.String("mode") {
	case "slow":
		select {
		case <-time.After(time.Duration(req.Config.Int("sleep_ms")) * time.Millisecond):
		case <-ctx.Done():
			return plugin.IssueResult{}, ctx.Err()
		}
	case "barrier":
		if err := barrier(ctx, req.Config.Int("barrier")); err != nil {
			return plugin.IssueResult{}, err
		}
	case "hang":
		time.Sleep(time.Hour)
	case "crash":
		os.Exit(3)
	case "panic":
		if err := waitBarrier(ctx, req.Config.Int("barrier")); err != nil {
			return plugin.IssueResult{}, err
		}
		panic(panicMessage)
	}
	plugin.Logger().Info("fake issued", "mode", req.Config.String("mode"))
	return plugin.IssueResult{Status: plugin.StatusIssued, OrderID: strconv.Itoa(os.Getpid())}, nil
}

func (f fakeIssuer) RenewCertificate(ctx context.Context, req plugin.RenewRequest) (plugin.IssueResult, error) {
	return f.IssueCertificate(ctx, req.IssueRequest)
}

func (fakeIssuer) RevokeCertificate(context.Context, plugin.RevokeRequest) error { return nil }

func (fakeIssuer) GetOrderStatus(context.Context, plugin.OrderStatusRequest) (plugin.IssueResult, error) {
	return plugin.IssueResult{}, plugin.Errorf(plugin.CodeNotFound, "no orders")
}

func (fakeIssuer) SignCRL(context.Context, plugin.CRLRequest) (plugin.CRLResult, error) {
	return plugin.CRLResult{}, plugin.Errorf(plugin.CodeUnimplemented, "no CRLs")
}

// pluginDir copies the test binary into a fresh plugin directory as the
// issuer plugin "fake" and returns the directory.
func pluginDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	copyFile(t, os.Args[0], filepath.Join(dir, host.FilePrefix+"issuer-fake"))
	return dir
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

func newHost(t *testing.T, dir string, o host.Options) *host.Host {
	t.Helper()
	o.Dir = dir
	if o.Catalogue == nil {
		o.Catalogue = host.NewFileCatalogue(filepath.Join(t.TempDir(), "catalogue.json"))
	}
	if o.HealthInterval == 0 {
		o.HealthInterval = -1
	}
	h, err := host.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

func issue(ctx context.Context, iss plugin.Issuer, cfg plugin.Config) (int, error) {
	res, err := iss.IssueCertificate(ctx, plugin.IssueRequest{Config: cfg})
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(res.OrderID)
}

func TestDiscoveryAndCalls(t *testing.T) {
	dir := pluginDir(t)
	// Things that must be ignored or refused.
	if err := os.Symlink(filepath.Join(dir, host.FilePrefix+"issuer-fake"), filepath.Join(dir, host.FilePrefix+"issuer-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, host.FilePrefix+"issuer-noexec"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	copyFile(t, os.Args[0], filepath.Join(dir, host.FilePrefix+"issuer-misnamed"))
	h := newHost(t, dir, host.Options{})

	statuses := map[string]string{}
	for _, s := range h.Plugins() {
		statuses[s.Name] = s.Status
	}
	if statuses["fake"] != host.StatusReady || statuses["misnamed"] != host.StatusInvalid {
		t.Errorf("statuses = %v", statuses)
	}
	if _, ok := statuses["link"]; ok {
		t.Error("a symlink was accepted as a plugin")
	}
	if _, ok := statuses["noexec"]; ok {
		t.Error("a non-executable file was accepted as a plugin")
	}
	st, _ := h.Lookup(plugin.KindIssuer, "fake")
	if st.Version != "0.1.0" || len(st.SHA256) != 64 || len(st.Schema.Fields) != 4 {
		t.Errorf("fake status = %+v", st)
	}
	if _, err := h.Issuer("nope"); plugin.ErrorCode(err) != plugin.CodeNotFound {
		t.Errorf("unknown plugin: %v", err)
	}

	iss, err := h.Issuer("fake")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := iss.ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: plugin.Config{"token": "bad"}}); plugin.ErrorCode(err) != plugin.CodeInvalidConfig {
		t.Errorf("ValidateConfig: %v, want invalid_config", err)
	} else if e := err.(*plugin.Error); e.Field != "token" {
		t.Errorf("invalid config field = %q, want token", e.Field)
	}
	if _, err := iss.GetOrderStatus(ctx, plugin.OrderStatusRequest{Config: nil, OrderID: "x"}); plugin.ErrorCode(err) != plugin.CodeNotFound {
		t.Errorf("GetOrderStatus: %v", err)
	}

	// One process serves many concurrent calls: each call returns only
	// once all 50 are inside the plugin together, so calls served one at a
	// time would fail at the deadline instead.
	const calls = 50
	concurrent, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	pids := make([]int, calls)
	errs := make([]error, calls)
	for i := range pids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pids[i], errs[i] = issue(concurrent, iss, plugin.Config{"mode": "barrier", "barrier": calls})
		}()
	}
	wg.Wait()
	for i := range pids {
		if errs[i] != nil || pids[i] != pids[0] {
			t.Fatalf("call %d: pid %d err %v (first pid %d)", i, pids[i], errs[i], pids[0])
		}
	}
}

func TestKilledPluginFailsRetryablyAndIsRestarted(t *testing.T) {
	h := newHost(t, pluginDir(t), host.Options{})
	iss, _ := h.Issuer("fake")
	ctx := context.Background()
	first, err := issue(ctx, iss, nil)
	if err != nil {
		t.Fatal(err)
	}
	// SIGKILL the plugin while a call is in flight.
	errc := make(chan error, 1)
	go func() {
		_, err := issue(ctx, iss, plugin.Config{"mode": "slow", "sleep_ms": 5000})
		errc <- err
	}()
	time.Sleep(300 * time.Millisecond) // let the call reach the plugin
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !plugin.Retryable(err) || plugin.ErrorCode(err) != plugin.CodeUnavailable {
			t.Fatalf("call on a killed plugin: %v (code %s), want retryable unavailable", err, plugin.ErrorCode(err))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("call on a killed plugin did not return")
	}
	second, err := issue(ctx, iss, nil)
	if err != nil {
		t.Fatalf("call after the crash: %v", err)
	}
	if second == first {
		t.Fatal("the call after the crash was served by the dead process")
	}
	st, _ := h.Lookup(plugin.KindIssuer, "fake")
	if st.Restarts != 1 || st.Status != host.StatusRunning {
		t.Errorf("status after restart = %+v", st)
	}
}

func TestPanickingCallFailsAlonePermanently(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newHost(t, pluginDir(t), host.Options{Logger: logger})
	iss, _ := h.Issuer("fake")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pid, err := issue(ctx, iss, nil)
	if err != nil {
		t.Fatal(err)
	}

	// Calls waiting inside the plugin for one more to arrive: in flight on
	// the same process when another call panics.
	const others = 5
	type answer struct {
		pid int
		err error
	}
	answers := make(chan answer, others)
	for range others {
		go func() {
			p, err := issue(ctx, iss, plugin.Config{"mode": "barrier", "barrier": others + 1})
			answers <- answer{p, err}
		}()
	}
	_, err = issue(ctx, iss, plugin.Config{"mode": "panic", "barrier": others})
	if plugin.ErrorCode(err) != plugin.CodePermanent || plugin.Retryable(err) {
		t.Fatalf("panicking call: %v (code %s), want permanent", err, plugin.ErrorCode(err))
	}
	if want := "plugin panicked: " + panicMessage; !strings.Contains(err.Error(), want) {
		t.Errorf("panicking call's error %q does not say %q", err, want)
	}

	// The calls in flight finish on the same process once the last arrives.
	if p, err := issue(ctx, iss, plugin.Config{"mode": "barrier", "barrier": others + 1}); err != nil || p != pid {
		t.Fatalf("call after the panic: pid %d err %v, want pid %d", p, err, pid)
	}
	for range others {
		a := <-answers
		if a.err != nil || a.pid != pid {
			t.Errorf("call in flight during the panic: pid %d err %v, want pid %d", a.pid, a.err, pid)
		}
	}
	st, _ := h.Lookup(plugin.KindIssuer, "fake")
	if st.Restarts != 0 || st.Status != host.StatusRunning {
		t.Errorf("status after a panic = %+v, want running, never restarted", st)
	}

	// The panic and where it happened are in the log, through the plugin's logger.
	h.Close()
	var logged bool
	for _, line := range strings.Split(buf.String(), "\n") {
		if strings.Contains(line, "level=ERROR") && strings.Contains(line, "plugin=certctl-plugin-issuer-fake") &&
			strings.Contains(line, panicMessage) && strings.Contains(line, "fakeIssuer.IssueCertificate") {
			logged = true
		}
	}
	if !logged {
		t.Errorf("no error line with the panic and its stack in the host's log:\n%s", buf.String())
	}
}

func TestHangingPluginIsCutOffByDeadline(t *testing.T) {
	h := newHost(t, pluginDir(t), host.Options{})
	iss, _ := h.Issuer("fake")
	// Start the process first: a caller's own deadline covers a start too,
	// and this test is about the call.
	if _, err := issue(context.Background(), iss, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := issue(ctx, iss, plugin.Config{"mode": "hang"})
	if plugin.ErrorCode(err) != plugin.CodeDeadline || !plugin.Retryable(err) {
		t.Fatalf("hanging call: %v, want deadline", err)
	}
	// The plugin hangs for an hour: returning at all is the deadline at work.
	if elapsed := time.Since(start); elapsed > time.Minute {
		t.Fatalf("hanging call returned after %s", elapsed)
	}
	// The process still answers other calls.
	if _, err := issue(context.Background(), iss, nil); err != nil {
		t.Fatalf("call after a hung one: %v", err)
	}
}

func TestCallTimeoutAppliesWithoutDeadline(t *testing.T) {
	// The call timeout counts from a running process: the lazy start of the
	// plugin on this first call, however slow the machine, is not charged.
	h := newHost(t, pluginDir(t), host.Options{CallTimeout: 300 * time.Millisecond, StartTimeout: 5 * time.Minute})
	iss, _ := h.Issuer("fake")
	if _, err := issue(context.Background(), iss, plugin.Config{"mode": "hang"}); plugin.ErrorCode(err) != plugin.CodeDeadline {
		t.Fatalf("call without deadline on a hanging plugin: %v", err)
	}
}

func TestPluginStartIsNotChargedToTheCallTimeout(t *testing.T) {
	dir := pluginDir(t)
	h := newHost(t, dir, host.Options{CallTimeout: 300 * time.Millisecond, StartTimeout: 5 * time.Minute})
	// From here on the plugin takes longer to start than a call may last.
	if err := os.WriteFile(filepath.Join(dir, slowStartMarker), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	iss, _ := h.Issuer("fake")
	if _, err := issue(context.Background(), iss, nil); err != nil {
		t.Fatalf("first call on a plugin slower to start (%s) than the call timeout: %v", slowStart, err)
	}
	// The caller's own deadline still bounds the start.
	h2 := newHost(t, dir, host.Options{StartTimeout: 5 * time.Minute})
	iss2, _ := h2.Issuer("fake")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := issue(ctx, iss2, nil); plugin.ErrorCode(err) != plugin.CodeUnavailable {
		t.Fatalf("call whose own deadline ends during the start: %v, want unavailable", err)
	}
}

func TestChangedBinaryIsRefusedUntilRegistered(t *testing.T) {
	dir := pluginDir(t)
	cat := host.NewFileCatalogue(filepath.Join(t.TempDir(), "catalogue.json"))
	h1 := newHost(t, dir, host.Options{Catalogue: cat})
	iss, _ := h1.Issuer("fake")
	if _, err := issue(context.Background(), iss, nil); err != nil {
		t.Fatal(err)
	}
	h1.Close()

	// Change the binary: append a byte (it still runs, but is not what was accepted).
	f, err := os.OpenFile(filepath.Join(dir, host.FilePrefix+"issuer-fake"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte{0})
	f.Close()

	h2 := newHost(t, dir, host.Options{Catalogue: cat})
	st, _ := h2.Lookup(plugin.KindIssuer, "fake")
	if st.Status != host.StatusChecksumMismatch {
		t.Fatalf("status of a changed binary = %q", st.Status)
	}
	iss2, _ := h2.Issuer("fake")
	// Refused, but not for good: the call waits for the register (see
	// upgrade_test.go).
	if _, err := issue(context.Background(), iss2, nil); plugin.ErrorCode(err) != plugin.CodeUnavailable || plugin.RetryAfter(err) <= 0 {
		t.Fatalf("call on a changed binary: %v, want unavailable with a Retry-After", err)
	}
	if st, err := h2.Register(context.Background(), plugin.KindIssuer, "fake"); err != nil || st.Status != host.StatusRunning {
		t.Fatalf("register: %+v %v", st, err)
	}
	if _, err := issue(context.Background(), iss2, nil); err != nil {
		t.Fatalf("call after re-registering: %v", err)
	}
}

func TestCircuitBreakerOpensAfterRepeatedCrashes(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := newHost(t, pluginDir(t), host.Options{BreakerThreshold: 3, BreakerCooldown: time.Minute, MaxBackoff: 10 * time.Millisecond, Clock: clock})
	iss, _ := h.Issuer("fake")
	for i := range 3 {
		if _, err := issue(context.Background(), iss, plugin.Config{"mode": "crash"}); plugin.ErrorCode(err) != plugin.CodeUnavailable {
			t.Fatalf("crash %d: %v", i, err)
		}
		mu.Lock()
		now = now.Add(time.Second) // past any backoff
		mu.Unlock()
	}
	st, _ := h.Lookup(plugin.KindIssuer, "fake")
	if st.Status != host.StatusCircuitOpen {
		t.Fatalf("status after 3 crashes = %q", st.Status)
	}
	if _, err := issue(context.Background(), iss, nil); plugin.ErrorCode(err) != plugin.CodeUnavailable {
		t.Fatalf("call with the circuit open: %v", err)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	if _, err := issue(context.Background(), iss, nil); err != nil {
		t.Fatalf("call after the cooldown: %v", err)
	}
}

func TestPluginLogsReachHostLogger(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newHost(t, pluginDir(t), host.Options{Logger: logger})
	iss, _ := h.Issuer("fake")
	if _, err := issue(context.Background(), iss, nil); err != nil {
		t.Fatal(err)
	}
	h.Close()
	var found bool
	for _, line := range strings.Split(buf.String(), "\n") {
		if strings.Contains(line, `msg="fake issued"`) && strings.Contains(line, "plugin=certctl-plugin-issuer-fake") &&
			strings.Contains(line, "level=INFO") {
			found = true
		}
	}
	if !found {
		t.Errorf("the plugin's log line did not reach the host logger at its level with the plugin's name:\n%s", buf.String())
	}
}

// runHostProcess is a host that starts the plugin, prints its pid and waits
// to be killed.
func runHostProcess(dir string) {
	h, err := host.New(context.Background(), host.Options{Dir: dir,
		Catalogue: host.NewFileCatalogue(filepath.Join(dir, "catalogue.json")), HealthInterval: -1})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	iss, _ := h.Issuer("fake")
	pid, err := issue(context.Background(), iss, nil)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("plugin-pid", pid)
	time.Sleep(time.Hour)
}

func TestNoPluginOutlivesAKilledHost(t *testing.T) {
	dir := pluginDir(t)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "CERTCTL_TEST_HOST_DIR="+dir)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("host process: %v", err)
	}
	var pid int
	if _, err := fmt.Sscanf(line, "plugin-pid %d", &pid); err != nil {
		t.Fatalf("host process said %q", line)
	}
	if !alive(pid) {
		t.Fatal("plugin not running before the host is killed")
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("plugin %d still running 10s after its host was killed", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || (s[i+2] != 'Z' && s[i+2] != 'X')
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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

func TestShutdownStopsHungPluginsByItsDeadline(t *testing.T) {
	for _, tc := range []struct {
		name   string
		within time.Duration
	}{
		{"asked to exit", time.Minute},
		{"killed at the deadline", time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHost(t, pluginDir(t), host.Options{})
			iss, _ := h.Issuer("fake")
			pid, err := issue(context.Background(), iss, nil)
			if err != nil {
				t.Fatal(err)
			}
			hung := make(chan error, 1)
			go func() {
				_, err := issue(context.Background(), iss, plugin.Config{"mode": "hang"})
				hung <- err
			}()
			ctx, cancel := context.WithTimeout(context.Background(), tc.within)
			defer cancel()
			err = h.Shutdown(ctx)
			if tc.within < time.Second && err == nil {
				t.Error("Shutdown with no time left reported a graceful stop")
			}
			if err := syscall.Kill(pid, 0); err == nil {
				t.Fatalf("plugin process %d still exists after Shutdown", pid)
			}
			select {
			case err := <-hung:
				if plugin.ErrorCode(err) != plugin.CodeUnavailable {
					t.Fatalf("call cut off by Shutdown: %v, want unavailable", err)
				}
			case <-time.After(time.Minute):
				t.Fatal("the hung call did not return after Shutdown")
			}
			if _, err := issue(context.Background(), iss, nil); plugin.ErrorCode(err) != plugin.CodeUnavailable {
				t.Fatalf("call after Shutdown: %v, want unavailable", err)
			}
		})
	}
}
