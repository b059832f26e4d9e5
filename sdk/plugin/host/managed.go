package host

import (
	"context"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/certctl/certctl/sdk/plugin"

	"github.com/certctl/certctl/sdk/backoff"
)

// managed supervises the process of one plugin.
type managed struct {
	h    *Host
	kind plugin.Kind
	name string
	path string

	// registering serializes Register for this plugin; it is never held
	// with mu, and calls do not wait for it.
	registering sync.Mutex

	mu           sync.Mutex
	entry        Entry
	sha256       string
	status       string
	lastErr      string
	cur          *instance // the process that takes new calls, or nil
	gen          int       // bumped when Register switches processes: a start begun before is stale
	restarts     int
	failures     int           // consecutive infrastructure failures (crash, start failure, no answer)
	notBefore    time.Time     // no restart before this (backoff)
	starting     chan struct{} // closed when the start in progress ends
	breakerUntil time.Time     // calls refused until this (circuit open)
}

// instance is one process of a plugin and the calls it is serving. After
// Register switches to a new process, the old instance takes no new calls
// and is stopped once those in flight have ended.
type instance struct {
	proc  *plugin.Process
	calls sync.WaitGroup // Add only under managed.mu while the instance is current

	// Under managed.mu: the calls in flight (what calls counts, readable)
	// and when the last one ended, for the idle stop.
	active   int
	lastUsed time.Time
}

func newInstance(proc *plugin.Process) *instance {
	return &instance{proc: proc, lastUsed: time.Now()}
}

// useLocked counts a call on inst as in flight; release ends it.
func (inst *instance) useLocked() {
	inst.calls.Add(1)
	inst.active++
}

// release ends a call that acquire counted on inst.
func (m *managed) release(inst *instance) {
	m.mu.Lock()
	inst.active--
	inst.lastUsed = time.Now()
	m.mu.Unlock()
	inst.calls.Done()
}

// stopIfIdle stops the running process when no call has been in flight on
// it for idle: the plugin goes back to ready, and the next call starts a
// process again, checking the binary's checksum as every start does. The
// decision is taken under mu, where acquire counts a call in: a call
// either got the process before (so it is not idle) or finds none and
// starts one, never one being stopped. It reports whether it stopped one.
func (m *managed) stopIfIdle(idle time.Duration) bool {
	m.mu.Lock()
	inst := m.cur
	if inst == nil || m.status != StatusRunning || inst.active > 0 || inst.proc.Exited() || time.Since(inst.lastUsed) < idle {
		m.mu.Unlock()
		return false
	}
	m.cur, m.status = nil, StatusReady
	m.mu.Unlock()
	pid := inst.proc.Pid()
	inst.proc.Kill() // gracefully: it serves nothing
	m.h.o.Logger.Info("plugin stopped after being idle", "plugin", m.name, "kind", m.kind, "pid", pid, "idle", idle)
	return true
}

// waitRetryAfter is the Retry-After of the unavailable error a call gets
// while its plugin waits for an admin (a binary changed on disk and not
// yet registered, or none that works): the job retries soon, not in a hot loop.
const waitRetryAfter = 5 * time.Second

func (m *managed) statusLocked() Status {
	s := Status{Entry: m.entry, Status: m.status, Restarts: m.restarts, LastError: m.lastErr}
	s.Kind, s.Name, s.Path = m.kind, m.name, m.path
	if s.SHA256 == "" {
		s.SHA256 = m.sha256
	}
	if m.cur != nil && !m.cur.proc.Exited() {
		s.Pid = m.cur.proc.Pid()
	}
	if m.status == StatusCircuitOpen && !m.h.o.Clock().Before(m.breakerUntil) {
		s.Status = StatusCrashed // the cooldown is over: the next call tries again
	}
	return s
}

// killLocked stops the current process: it is dead or hung, so calls
// still in flight on it fail anyway.
func (m *managed) killLocked() {
	if m.cur != nil {
		m.cur.proc.Kill()
		m.cur = nil
	}
}

// waitingErrorLocked is what a call gets while the plugin has no binary
// it may start: retryable, so that the job waits for the admin's register
// instead of failing for good.
func (m *managed) waitingErrorLocked() error {
	return &plugin.Error{Code: plugin.CodeUnavailable, RetryAfter: waitRetryAfter,
		Message: fmt.Sprintf("%s plugin %q is waiting to be registered: %s", m.kind, m.name, m.lastErr)}
}

// recheckLocked is called with m.mu held on a plugin whose binary did not
// match its registered checksum: if the file matches again (the admin put
// the registered binary back), the plugin may start again. The file is
// hashed without the lock.
func (m *managed) recheckLocked() bool {
	want, gen := m.entry.SHA256, m.gen
	m.mu.Unlock()
	sum, err := fileSHA256(m.path)
	m.mu.Lock()
	if err != nil || want == "" || sum != want || m.gen != gen || m.status != StatusChecksumMismatch {
		return false
	}
	m.status, m.lastErr, m.sha256 = StatusReady, "", sum
	return true
}

// acquire returns a running process, starting one if needed. The lock is
// not held while a process starts or a backoff runs, so that status
// queries never wait behind a slow start; concurrent callers wait for the
// one start in progress.
//
// A plugin whose binary changed on disk since it was registered, or that
// has no working binary at all, is not failed for good: its running
// process, if any, goes on serving; without one, calls fail as
// unavailable with a short Retry-After until an admin registers a binary
// (or puts the registered one back).
//
// The instance returned counts the call as in flight: the caller must
// call m.release(inst) when the call ends.
func (m *managed) acquire(ctx context.Context) (*instance, error) {
	for {
		if m.h.stopped() {
			return nil, plugin.Errorf(plugin.CodeUnavailable, "%s plugin %q: the plugin host is shutting down", m.kind, m.name)
		}
		m.mu.Lock()
		// A running process serves whatever the file on disk has become
		// since it was started.
		if m.cur != nil && !m.cur.proc.Exited() {
			inst := m.cur
			inst.useLocked()
			m.mu.Unlock()
			return inst, nil
		}
		switch m.status {
		case StatusInvalid:
			err := m.waitingErrorLocked()
			m.mu.Unlock()
			return nil, err
		case StatusChecksumMismatch:
			if !m.recheckLocked() {
				err := m.waitingErrorLocked()
				m.mu.Unlock()
				return nil, err
			}
		}
		now := m.h.o.Clock()
		if now.Before(m.breakerUntil) {
			err := plugin.Errorf(plugin.CodeUnavailable, "%s plugin %q failed %d times in a row; retrying after %s",
				m.kind, m.name, m.failures, m.breakerUntil.Format(time.RFC3339))
			m.mu.Unlock()
			return nil, err
		}
		if m.cur != nil { // it died since the last call
			m.noteCrashLocked("process exited")
		}
		if m.starting != nil { // another caller is starting it: wait for that
			ch := m.starting
			m.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, &plugin.Error{Code: plugin.CodeUnavailable, Message: fmt.Sprintf("%s plugin %q is starting", m.kind, m.name)}
			}
		}
		ch := make(chan struct{})
		m.starting = ch
		wait := m.notBefore.Sub(now)
		sum, _ := hex.DecodeString(m.entry.SHA256)
		gen := m.gen
		m.mu.Unlock()

		proc, err := m.start(ctx, wait, sum)

		m.mu.Lock()
		m.starting = nil
		close(ch)
		switch {
		case m.gen != gen: // Register switched to a new process meanwhile: use that one
			m.mu.Unlock()
			if proc != nil {
				proc.Kill()
			}
			continue
		case err == nil && m.h.stopped(): // Shutdown ran meanwhile and did not see this process
			m.mu.Unlock()
			proc.Kill()
			return nil, plugin.Errorf(plugin.CodeUnavailable, "%s plugin %q: the plugin host is shutting down", m.kind, m.name)
		case err == nil:
			if m.restarts > 0 || m.status == StatusCrashed {
				m.h.o.Logger.Info("plugin restarted", "plugin", m.name, "kind", m.kind, "pid", proc.Pid(), "restarts", m.restarts)
			}
			inst := newInstance(proc)
			inst.useLocked()
			m.cur, m.status = inst, StatusRunning
			m.mu.Unlock()
			return inst, nil
		case plugin.ErrorCode(err) == plugin.CodePermanent: // the binary changed on disk: wait for a register
			m.status = StatusChecksumMismatch
			m.lastErr = "the binary changed since it was registered; register it to accept it, or put the registered binary back"
			m.h.o.Logger.Warn("plugin binary changed since it was registered; calls wait until it is registered",
				"plugin", m.name, "kind", m.kind, "path", m.path)
			err = m.waitingErrorLocked()
		case ctx.Err() == nil:
			m.noteFailureLocked("start: " + err.Error())
		}
		m.mu.Unlock()
		return nil, err
	}
}

// start waits out the restart backoff, then starts a process.
func (m *managed) start(ctx context.Context, wait time.Duration, sum []byte) (*plugin.Process, error) {
	if wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
			return nil, &plugin.Error{Code: plugin.CodeUnavailable, Message: fmt.Sprintf("%s plugin %q is restarting", m.kind, m.name)}
		}
	}
	startCtx, cancel := context.WithTimeout(ctx, m.h.o.StartTimeout)
	defer cancel()
	return plugin.Open(startCtx, plugin.OpenOptions{Path: m.path, Kind: m.kind, SHA256: sum,
		Logger: m.h.o.Logger, SocketDir: m.h.socketDir})
}

// noteCrashLocked records that the process died.
func (m *managed) noteCrashLocked(reason string) {
	m.killLocked()
	m.restarts++
	m.noteFailureLocked(reason)
	m.h.o.Logger.Warn("plugin crashed", "plugin", m.name, "kind", m.kind, "reason", reason, "restarts", m.restarts)
}

// noteFailureLocked counts an infrastructure failure: backoff grows with
// each one in a row, and enough of them open the circuit.
func (m *managed) noteFailureLocked(reason string) {
	m.failures++
	m.lastErr = reason
	m.status = StatusCrashed
	now := m.h.o.Clock()
	wait := time.Duration(0) // the first restart is immediate
	if m.failures > 1 {
		wait = backoff.Exponential(m.failures-1, 50*time.Millisecond, m.h.o.MaxBackoff)
	}
	m.notBefore = now.Add(wait)
	if m.failures >= m.h.o.BreakerThreshold {
		m.breakerUntil = now.Add(m.h.o.BreakerCooldown)
		m.status = StatusCircuitOpen
		m.h.o.Logger.Error("plugin circuit open", "plugin", m.name, "kind", m.kind, "failures", m.failures,
			"until", m.breakerUntil)
	}
}

// done records the outcome of a call made on inst. A process Register
// has replaced is no longer the plugin's: what happens to it is not
// counted.
func (m *managed) done(inst *instance, err error) {
	code := plugin.ErrorCode(err)
	switch {
	case err == nil || (code != plugin.CodeUnavailable && code != plugin.CodeDeadline):
		// The plugin answered (success or its own error): it is healthy.
		m.mu.Lock()
		if m.cur == inst {
			m.failures = 0
		}
		m.mu.Unlock()
	case code == plugin.CodeDeadline:
		// A call ran out of time: if the process no longer answers at all,
		// it is hung and is replaced; one slow call alone is not a crash.
		if inst.proc.Ping() != nil {
			m.mu.Lock()
			if m.cur == inst {
				m.noteCrashLocked("does not answer after a call exceeded its deadline")
			}
			m.mu.Unlock()
		}
	default: // the connection broke: the process died or is dying
		m.mu.Lock()
		if m.cur == inst {
			m.noteCrashLocked(err.Error())
		}
		m.mu.Unlock()
	}
}

func (m *managed) healthCheck() {
	m.mu.Lock()
	inst := m.cur
	m.mu.Unlock()
	if inst == nil {
		return
	}
	if err := inst.proc.Ping(); err != nil {
		m.mu.Lock()
		if m.cur == inst {
			m.noteCrashLocked("health ping: " + err.Error())
		}
		m.mu.Unlock()
	}
}

// call runs f on the plugin's process with the host's call timeout. The
// timeout starts once a process is there: starting one is bounded by
// StartTimeout alone, so a first call (or one after a crash) gets the
// same time to work as any other, however slowly the machine starts
// processes. A deadline of the caller's own bounds both.
func call[T any](m *managed, ctx context.Context, f func(context.Context, *plugin.Process) (T, error)) (T, error) {
	var zero T
	inst, err := m.acquire(ctx)
	if err != nil {
		return zero, err
	}
	defer m.release(inst)
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.h.o.CallTimeout)
		defer cancel()
	}
	out, err := f(ctx, inst.proc)
	m.done(inst, err)
	return out, err
}

func callErr(m *managed, ctx context.Context, f func(context.Context, *plugin.Process) error) error {
	_, err := call(m, ctx, func(ctx context.Context, p *plugin.Process) (struct{}, error) {
		return struct{}{}, f(ctx, p)
	})
	return err
}
