package host_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/host"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// The upgrade tests run gatedissuer (testdata), a real plugin binary whose
// name is its file's and whose calls can be held in flight.

const gatedFile = host.FilePrefix + "issuer-gated"

// gatedDir builds gatedissuer into a fresh plugin directory as the issuer
// plugin "gated"; it returns the directory and the built binary.
func gatedDir(t *testing.T) (dir, bin string) {
	t.Helper()
	bin = plugintest.Build(t, "./testdata/gatedissuer")
	dir = t.TempDir()
	copyFile(t, bin, filepath.Join(dir, gatedFile))
	return dir, bin
}

// install puts a copy of from in place of the plugin file name in dir the
// way an operator does (write beside it, rename over it), with extra
// bytes appended so that its checksum differs (an ELF binary runs the
// same with bytes after its end).
func install(t *testing.T, from, dir, name string, extra string) {
	t.Helper()
	tmp := filepath.Join(dir, ".new-"+name)
	copyFile(t, from, tmp)
	if extra != "" {
		f, err := os.OpenFile(tmp, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(extra); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds, failing the test when the deadline
// (generous: it only stops a test that would hang) passes first.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRegisterSwitchesProcessesWithCallsInFlight(t *testing.T) {
	dir, bin := gatedDir(t)
	h := newHost(t, dir, host.Options{})
	iss, _ := h.Issuer("gated")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	oldPid, err := issue(ctx, iss, nil)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := h.Lookup(plugin.KindIssuer, "gated")

	// Calls held in flight in the old process.
	const inFlight = 4
	gate := t.TempDir()
	type answer struct {
		pid int
		err error
	}
	answers := make(chan answer, inFlight)
	for range inFlight {
		go func() {
			pid, err := issue(ctx, iss, plugin.Config{"gate": gate})
			answers <- answer{pid, err}
		}()
	}
	waitFor(t, "the calls to arrive in the plugin", func() bool {
		arrived, _ := filepath.Glob(filepath.Join(gate, "arrived-"+strconv.Itoa(oldPid)+"-*"))
		return len(arrived) == inFlight
	})

	install(t, bin, dir, gatedFile, "v2")
	st, err := h.Register(ctx, plugin.KindIssuer, "gated")
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if st.Status != host.StatusRunning || st.Pid == 0 || st.Pid == oldPid || st.SHA256 == before.SHA256 {
		t.Fatalf("after register: %+v (before: pid %d sha256 %s)", st, oldPid, before.SHA256)
	}
	// New calls go to the new process at once, while the old one still
	// serves the calls it has.
	if pid, err := issue(ctx, iss, nil); err != nil || pid != st.Pid {
		t.Fatalf("call after register: pid %d err %v, want the new process %d", pid, err, st.Pid)
	}
	if !alive(oldPid) {
		t.Fatal("the old process was stopped with calls in flight")
	}

	// The calls in flight end on the old process, which then goes.
	if err := os.WriteFile(filepath.Join(gate, "open"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for range inFlight {
		a := <-answers
		if a.err != nil || a.pid != oldPid {
			t.Errorf("call in flight during register: pid %d err %v, want success on the old process %d", a.pid, a.err, oldPid)
		}
	}
	waitFor(t, "the old process to be stopped", func() bool { return !alive(oldPid) })
	if after, _ := h.Lookup(plugin.KindIssuer, "gated"); after.Pid != st.Pid || after.Status != host.StatusRunning || after.Restarts != 0 {
		t.Errorf("status once the old process is gone: %+v", after)
	}
}

func TestFailedRegisterKeepsTheOldProcessServing(t *testing.T) {
	dir, bin := gatedDir(t)
	cat := host.NewFileCatalogue(filepath.Join(t.TempDir(), "catalogue.json"))
	h := newHost(t, dir, host.Options{Catalogue: cat})
	iss, _ := h.Issuer("gated")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pid, err := issue(ctx, iss, nil)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := h.Lookup(plugin.KindIssuer, "gated")
	exiting := plugintest.Build(t, "./testdata/exitatstart")

	for _, tc := range []struct {
		name, binary string
		exit         string   // the exit status the error reports
		says         []string // what the error says besides
	}{
		{"exits at start", exiting, "exit status 3",
			[]string{"did not start", "exitatstart: cannot open /nonexistent/ca.pem: no such file or directory", "1.0.0", "goes on serving"}},
		// The test binary is the plugin "fake".
		{"names another plugin", os.Args[0], "",
			[]string{`file name says issuer "gated" but the plugin says issuer "fake"`, "goes on serving"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			install(t, tc.binary, dir, gatedFile, "")
			st, err := h.Register(ctx, plugin.KindIssuer, "gated")
			var re *host.RegisterError
			if !errors.As(err, &re) {
				t.Fatalf("register: %v (%T), want a *host.RegisterError", err, err)
			}
			t.Logf("register refused: %v", err)
			if re.ExitStatus != tc.exit {
				t.Errorf("exit status %q, want %q", re.ExitStatus, tc.exit)
			}
			for _, s := range append(tc.says, tc.exit) {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			// Nothing changed: the same process serves, with the same
			// status, checksum and version, in the host and the catalogue.
			if st.Status != before.Status || st.Pid != pid || st.SHA256 != before.SHA256 || st.Version != before.Version {
				t.Errorf("status returned by the failed register: %+v, want %+v", st, before)
			}
			if now, _ := h.Lookup(plugin.KindIssuer, "gated"); now.Status != before.Status || now.Pid != pid ||
				now.SHA256 != before.SHA256 || now.LastError != "" {
				t.Errorf("status after the failed register: %+v, want %+v", now, before)
			}
			if e, _, err := cat.Get(ctx, plugin.KindIssuer, "gated"); err != nil || e.SHA256 != before.SHA256 {
				t.Errorf("catalogue after the failed register: %+v %v", e, err)
			}
			if got, err := issue(ctx, iss, nil); err != nil || got != pid {
				t.Errorf("call after the failed register: pid %d err %v, want %d", got, err, pid)
			}
		})
	}

	// Rolling back is installing the previous binary and registering it.
	install(t, bin, dir, gatedFile, "")
	st, err := h.Register(ctx, plugin.KindIssuer, "gated")
	if err != nil || st.SHA256 != before.SHA256 || st.Pid == pid {
		t.Fatalf("register of the previous binary: %+v %v", st, err)
	}
}

// A call that needs a new process while the binary on disk is not the
// registered one waits for the register (retryable, with a Retry-After),
// as it does for a plugin with no working binary; putting the registered
// binary back works without a register.
func TestChangedBinaryWaitsForRegister(t *testing.T) {
	dir, bin := gatedDir(t)
	cat := host.NewFileCatalogue(filepath.Join(t.TempDir(), "catalogue.json"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h1 := newHost(t, dir, host.Options{Catalogue: cat})
	iss1, _ := h1.Issuer("gated")
	pid, err := issue(ctx, iss1, nil)
	if err != nil {
		t.Fatal(err)
	}

	// Installed, not registered: the running process keeps serving ...
	install(t, bin, dir, gatedFile, "v2")
	if got, err := issue(ctx, iss1, nil); err != nil || got != pid {
		t.Fatalf("call on the running process after the binary changed: pid %d err %v", got, err)
	}
	// ... and a process that must be started anew (here: after a crash)
	// waits for the register.
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the killed plugin to be gone", func() bool { return !alive(pid) })
	assertWaiting := func(h *host.Host, iss plugin.Issuer) {
		t.Helper()
		var err error
		for range 2 { // the first call may be the one that finds the process dead
			if _, err = issue(ctx, iss, nil); plugin.ErrorCode(err) == plugin.CodeUnavailable && plugin.RetryAfter(err) > 0 {
				break
			}
		}
		if !plugin.Retryable(err) || plugin.RetryAfter(err) <= 0 || !strings.Contains(err.Error(), "waiting to be registered") {
			t.Fatalf("call while the binary is not registered: %v (code %s, retry after %s), want unavailable with a Retry-After",
				err, plugin.ErrorCode(err), plugin.RetryAfter(err))
		}
		if st, _ := h.Lookup(plugin.KindIssuer, "gated"); st.Status != host.StatusChecksumMismatch {
			t.Errorf("status while waiting: %+v", st)
		}
	}
	assertWaiting(h1, iss1)
	if st, err := h1.Register(ctx, plugin.KindIssuer, "gated"); err != nil || st.Status != host.StatusRunning {
		t.Fatalf("register: %+v %v", st, err)
	}
	if _, err := issue(ctx, iss1, nil); err != nil {
		t.Fatalf("call after register: %v", err)
	}
	h1.Close()

	// A host that starts with a binary that is not the registered one.
	install(t, bin, dir, gatedFile, "v3")
	h2 := newHost(t, dir, host.Options{Catalogue: cat})
	iss2, _ := h2.Issuer("gated")
	assertWaiting(h2, iss2)
	// Rolling back without a register: the registered binary is back.
	install(t, bin, dir, gatedFile, "v2")
	if _, err := issue(ctx, iss2, nil); err != nil {
		t.Fatalf("call once the registered binary is back: %v", err)
	}
	if st, _ := h2.Lookup(plugin.KindIssuer, "gated"); st.Status != host.StatusRunning {
		t.Errorf("status once the registered binary is back: %+v", st)
	}
}
