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

	mu           sync.Mutex
	entry        Entry
	sha256       string
	status       string
	lastErr      string
	proc         *plugin.Process
	restarts     int
	failures     int           // consecutive infrastructure failures (crash, start failure, no answer)
	notBefore    time.Time     // no restart before this (backoff)
	starting     chan struct{} // closed when the start in progress ends
	breakerUntil time.Time     // calls refused until this (circuit open)
}

func (m *managed) statusLocked() Status {
	s := Status{Entry: m.entry, Status: m.status, Restarts: m.restarts, LastError: m.lastErr}
	s.Kind, s.Name, s.Path = m.kind, m.name, m.path
	if s.SHA256 == "" {
		s.SHA256 = m.sha256
	}
	if m.proc != nil && !m.proc.Exited() {
		s.Pid = m.proc.Pid()
	}
	if m.status == StatusCircuitOpen && !m.h.o.Clock().Before(m.breakerUntil) {
		s.Status = StatusCrashed // the cooldown is over: the next call tries again
	}
	return s
}

func (m *managed) killLocked() {
	if m.proc != nil {
		m.proc.Kill()
		m.proc = nil
	}
}

// acquire returns a running process, starting one if needed. The lock is
// not held while a process starts or a backoff runs, so that status
// queries never wait behind a slow start; concurrent callers wait for the
// one start in progress.
func (m *managed) acquire(ctx context.Context) (*plugin.Process, error) {
	for {
		if m.h.stopped() {
			return nil, plugin.Errorf(plugin.CodeUnavailable, "%s plugin %q: the plugin host is shutting down", m.kind, m.name)
		}
		m.mu.Lock()
		switch m.status {
		case StatusChecksumMismatch, StatusInvalid:
			err := plugin.Errorf(plugin.CodePermanent, "%s plugin %q refused: %s", m.kind, m.name, m.lastErr)
			m.mu.Unlock()
			return nil, err
		}
		now := m.h.o.Clock()
		if now.Before(m.breakerUntil) {
			err := plugin.Errorf(plugin.CodeUnavailable, "%s plugin %q failed %d times in a row; retrying after %s",
				m.kind, m.name, m.failures, m.breakerUntil.Format(time.RFC3339))
			m.mu.Unlock()
			return nil, err
		}
		if m.proc != nil && !m.proc.Exited() {
			p := m.proc
			m.mu.Unlock()
			return p, nil
		}
		if m.proc != nil { // it died since the last call
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
		m.mu.Unlock()

		proc, err := m.start(ctx, wait, sum)

		m.mu.Lock()
		m.starting = nil
		close(ch)
		switch {
		case err == nil && m.h.stopped(): // Shutdown ran meanwhile and did not see this process
			m.mu.Unlock()
			proc.Kill()
			return nil, plugin.Errorf(plugin.CodeUnavailable, "%s plugin %q: the plugin host is shutting down", m.kind, m.name)
		case err == nil:
			if m.restarts > 0 || m.status == StatusCrashed {
				m.h.o.Logger.Info("plugin restarted", "plugin", m.name, "kind", m.kind, "pid", proc.Pid(), "restarts", m.restarts)
			}
			m.proc, m.status = proc, StatusRunning
		case plugin.ErrorCode(err) == plugin.CodePermanent: // checksum changed under us
			m.status, m.lastErr = StatusChecksumMismatch, err.Error()
			m.h.o.Logger.Warn("plugin refused", "plugin", m.name, "kind", m.kind, "err", err)
		case ctx.Err() == nil:
			m.noteFailureLocked("start: " + err.Error())
		}
		m.mu.Unlock()
		return proc, err
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

// done records the outcome of a call made on proc.
func (m *managed) done(ctx context.Context, proc *plugin.Process, err error) {
	code := plugin.ErrorCode(err)
	switch {
	case err == nil || (code != plugin.CodeUnavailable && code != plugin.CodeDeadline):
		// The plugin answered (success or its own error): it is healthy.
		m.mu.Lock()
		if m.proc == proc {
			m.failures = 0
		}
		m.mu.Unlock()
	case code == plugin.CodeDeadline:
		// A call ran out of time: if the process no longer answers at all,
		// it is hung and is replaced; one slow call alone is not a crash.
		if proc.Ping() != nil {
			m.mu.Lock()
			if m.proc == proc {
				m.noteCrashLocked("does not answer after a call exceeded its deadline")
			}
			m.mu.Unlock()
		}
	default: // the connection broke: the process died or is dying
		m.mu.Lock()
		if m.proc == proc {
			m.noteCrashLocked(err.Error())
		}
		m.mu.Unlock()
	}
}

func (m *managed) healthCheck() {
	m.mu.Lock()
	proc := m.proc
	m.mu.Unlock()
	if proc == nil {
		return
	}
	if err := proc.Ping(); err != nil {
		m.mu.Lock()
		if m.proc == proc {
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
	proc, err := m.acquire(ctx)
	if err != nil {
		return zero, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.h.o.CallTimeout)
		defer cancel()
	}
	out, err := f(ctx, proc)
	m.done(ctx, proc, err)
	return out, err
}

func callErr(m *managed, ctx context.Context, f func(context.Context, *plugin.Process) error) error {
	_, err := call(m, ctx, func(ctx context.Context, p *plugin.Process) (struct{}, error) {
		return struct{}{}, f(ctx, p)
	})
	return err
}
