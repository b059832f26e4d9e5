package host_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/host"
)

// The idle stop: a plugin's process runs from its first call until it has
// had no call for Options.IdleTimeout.

func pluginPid(h *host.Host) (string, int) {
	st, _ := h.Lookup(plugin.KindIssuer, "fake")
	return st.Status, st.Pid
}

func TestPluginStartsOnFirstUseAndStopsWhenIdle(t *testing.T) {
	h := newHost(t, pluginDir(t), host.Options{IdleTimeout: 200 * time.Millisecond})
	if status, pid := pluginPid(h); status != host.StatusReady || pid != 0 {
		t.Fatalf("before any call: status %s pid %d, want ready and no process", status, pid)
	}
	iss, _ := h.Issuer("fake")
	first, err := issue(context.Background(), iss, nil)
	if err != nil {
		t.Fatal(err)
	}
	if status, pid := pluginPid(h); status != host.StatusRunning || pid != first {
		t.Fatalf("after the first call: status %s pid %d, want running as pid %d", status, pid, first)
	}
	waitFor(t, "the idle process to stop", func() bool {
		status, pid := pluginPid(h)
		return status == host.StatusReady && pid == 0 && !alive(first)
	})
	second, err := issue(context.Background(), iss, nil)
	if err != nil {
		t.Fatalf("call after the idle stop: %v", err)
	}
	if second == first {
		t.Fatal("the call after the idle stop was served by the stopped process")
	}
	if st, _ := h.Lookup(plugin.KindIssuer, "fake"); st.Restarts != 0 || st.LastError != "" {
		t.Errorf("an idle stop counted as a failure: %+v", st)
	}
}

func TestCallInFlightKeepsItsProcessPastTheIdleTimeout(t *testing.T) {
	h := newHost(t, pluginDir(t), host.Options{IdleTimeout: 20 * time.Millisecond})
	iss, _ := h.Issuer("fake")
	// The call lasts many idle timeouts; the idle loop looks every 5 ms.
	pid, err := issue(context.Background(), iss, plugin.Config{"mode": "slow", "sleep_ms": 1000})
	if err != nil {
		t.Fatalf("call longer than the idle timeout: %v", err)
	}
	if pid == 0 {
		t.Fatal("no pid")
	}
	waitFor(t, "the process to stop once idle", func() bool { return !alive(pid) })
}

// Calls arrive while the idle loop stops the process, again and again: a
// call either gets the process before it is stopped or starts a new one,
// and none fails.
func TestCallsRacingTheIdleStopSucceed(t *testing.T) {
	h := newHost(t, pluginDir(t), host.Options{IdleTimeout: time.Millisecond})
	iss, _ := h.Issuer("fake")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const callers, calls = 4, 25
	var mu sync.Mutex
	pids := map[int]bool{}
	var wg sync.WaitGroup
	errs := make(chan error, callers*calls)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range calls {
				pid, err := issue(ctx, iss, nil)
				if err != nil {
					errs <- err
					continue
				}
				mu.Lock()
				pids[pid] = true
				mu.Unlock()
				// Around the idle timeout: some calls come just before
				// the stop, some during, some after.
				time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("call racing the idle stop: %v", err)
	}
	if len(pids) < 2 {
		t.Errorf("%d process(es) served %d calls: the idle stop never ran between them", len(pids), callers*calls)
	}
}

func TestRestartAfterIdleStopChecksTheChecksum(t *testing.T) {
	dir := pluginDir(t)
	h := newHost(t, dir, host.Options{IdleTimeout: 100 * time.Millisecond})
	iss, _ := h.Issuer("fake")
	first, err := issue(context.Background(), iss, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the idle process to stop", func() bool {
		status, _ := pluginPid(h)
		return status == host.StatusReady && !alive(first)
	})
	// The binary changes while nothing runs: it still works, but is not
	// what was accepted.
	// A process that has exited can keep the file busy for a moment
	// while the kernel tears its threads down.
	var f *os.File
	waitFor(t, "the binary to be writable", func() bool {
		var err error
		f, err = os.OpenFile(filepath.Join(dir, host.FilePrefix+"issuer-fake"), os.O_APPEND|os.O_WRONLY, 0)
		return err == nil
	})
	_, _ = f.Write([]byte{0})
	f.Close()
	if _, err := issue(context.Background(), iss, nil); plugin.ErrorCode(err) != plugin.CodeUnavailable || plugin.RetryAfter(err) <= 0 {
		t.Fatalf("call after the idle stop on a changed binary: %v, want unavailable with a Retry-After", err)
	}
	if status, pid := pluginPid(h); status != host.StatusChecksumMismatch || pid != 0 {
		t.Fatalf("after the refused start: status %s pid %d, want checksum_mismatch and no process", status, pid)
	}
	if _, err := h.Register(context.Background(), plugin.KindIssuer, "fake"); err != nil {
		t.Fatalf("register: %v", err)
	}
	if pid, err := issue(context.Background(), iss, nil); err != nil || pid == first {
		t.Fatalf("call after the register: pid %d, %v", pid, err)
	}
}

func TestNegativeIdleTimeoutKeepsTheProcess(t *testing.T) {
	h := newHost(t, pluginDir(t), host.Options{IdleTimeout: -1})
	iss, _ := h.Issuer("fake")
	first, err := issue(context.Background(), iss, nil)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // what the tests above wait, 15 times their timeouts
	if second, err := issue(context.Background(), iss, nil); err != nil || second != first {
		t.Fatalf("second call: pid %d (first %d), %v; want the same process", second, first, err)
	}
}
