// Package host runs connector plugins for a certctl process: it discovers
// plugin binaries in a directory, checks them against a catalogue of
// accepted checksums, starts them on demand, and supervises them (health
// pings, restart with backoff after a crash, a circuit breaker, a deadline
// on every call, no orphans). A process runs from its plugin's first call
// until it has had no call for Options.IdleTimeout; the next call starts
// it again, its checksum checked as at every start. certctl-server uses it for issuers and
// notifiers, certctl-agent for targets.
//
// Callers get plugin.Issuer, plugin.Target and plugin.Notifier values whose
// calls go through the supervisor: when the process is down the call
// fails with plugin.CodeUnavailable (retryable) and the next call starts a
// new process. An upgrade is Register: the new binary is started and
// checked beside the old process before calls switch to it.
package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/certctl/certctl/sdk/plugin"
)

// FilePrefix starts the name of every plugin binary:
// certctl-plugin-<kind>-<name>.
const FilePrefix = "certctl-plugin-"

// Statuses of a plugin.
const (
	StatusReady            = "ready"             // accepted, not running (started on first use)
	StatusRunning          = "running"           // a process serves calls
	StatusCrashed          = "crashed"           // the process died; the next call restarts it
	StatusCircuitOpen      = "circuit_open"      // too many failures in a row; calls refused for a while
	StatusChecksumMismatch = "checksum_mismatch" // the binary changed since it was registered and no process runs: calls wait (unavailable) for an admin's Register
	StatusInvalid          = "invalid"           // no binary of it was ever accepted: the file is not a working plugin of the kind its name says
)

// Entry is what a catalogue remembers of an accepted plugin.
type Entry struct {
	Kind         plugin.Kind   `json:"kind"`
	Name         string        `json:"name"`
	Version      string        `json:"version"`
	Path         string        `json:"path"`
	SHA256       string        `json:"sha256"`
	Schema       plugin.Schema `json:"schema"`
	Description  string        `json:"description"`
	RegisteredAt time.Time     `json:"registered_at"`
}

// Catalogue stores accepted plugins: the server's is a database table, the
// agent's a file.
type Catalogue interface {
	// Get returns the entry for kind and name, and whether there is one.
	Get(ctx context.Context, kind plugin.Kind, name string) (Entry, bool, error)
	// Put records an entry, replacing any previous one for kind and name.
	Put(ctx context.Context, e Entry) error
}

// Options configure a Host.
type Options struct {
	Dir       string // where plugin binaries are; only regular files directly in it are used
	Catalogue Catalogue
	Logger    *slog.Logger
	// SocketDir is a short directory for the plugins' Unix sockets; empty
	// creates one under the system temp directory (removed by Close).
	SocketDir string
	// CallTimeout bounds a call whose context has no deadline of its own,
	// from the moment a process is there to take it.
	CallTimeout time.Duration // default 60s
	// StartTimeout bounds starting a process, apart from any call's timeout.
	StartTimeout time.Duration // default 15s
	// HealthInterval is how often running processes are pinged.
	HealthInterval time.Duration // default 10s; negative disables
	// BreakerThreshold consecutive failures open the circuit for BreakerCooldown.
	BreakerThreshold int           // default 5
	BreakerCooldown  time.Duration // default 30s
	// MaxBackoff caps the wait before restarting a crashed plugin.
	MaxBackoff time.Duration // default 30s
	// IdleTimeout stops a plugin's process once no call has been in
	// flight on it for this long; the next call starts it again. A plugin
	// process holds 15-20 MiB that an idle plugin need not cost.
	IdleTimeout time.Duration // default DefaultIdleTimeout; negative keeps processes running
	// Clock is for tests; nil means time.Now.
	Clock func() time.Time
}

// Host supervises the plugins of one directory.
type Host struct {
	o         Options
	socketDir string
	ownSocket bool
	mu        sync.Mutex
	plugins   map[string]*managed // by kind/name
	stop      chan struct{}
	wg        sync.WaitGroup

	retiring map[*instance]struct{} // processes Register replaced, serving their last calls; under mu

	closeOnce sync.Once
	closing   []*plugin.Process // what Shutdown stops
	closed    chan struct{}     // closed when they are gone
}

// New discovers the plugins in o.Dir and checks each against the
// catalogue. A plugin the catalogue has never seen is registered (trust on
// first use: whoever can write the plugin directory is trusted); one whose
// checksum changed is refused until Register is called for it.
func New(ctx context.Context, o Options) (*Host, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	defaults(&o)
	h := &Host{o: o, plugins: map[string]*managed{}, retiring: map[*instance]struct{}{}, stop: make(chan struct{})}
	h.socketDir = o.SocketDir
	if h.socketDir == "" {
		dir, err := os.MkdirTemp("", "cctlp")
		if err != nil {
			return nil, fmt.Errorf("plugin host: socket directory: %w", err)
		}
		h.socketDir, h.ownSocket = dir, true
	}
	if err := h.discover(ctx); err != nil {
		h.Close()
		return nil, err
	}
	if o.HealthInterval > 0 {
		h.wg.Add(1)
		go h.healthLoop()
	}
	if o.IdleTimeout > 0 {
		h.wg.Add(1)
		go h.idleLoop()
	}
	return h, nil
}

// DefaultIdleTimeout is Options.IdleTimeout's default: long enough that a
// steady trickle of calls keeps its process, short enough that a plugin
// used once a day does not hold its memory all day. Starting a process
// again takes a fraction of a second, paid by the first call after.
const DefaultIdleTimeout = 2 * time.Minute

func defaults(o *Options) {
	set := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	set(&o.CallTimeout, 60*time.Second)
	set(&o.StartTimeout, 15*time.Second)
	set(&o.HealthInterval, 10*time.Second)
	set(&o.BreakerCooldown, 30*time.Second)
	set(&o.MaxBackoff, 30*time.Second)
	set(&o.IdleTimeout, DefaultIdleTimeout)
	if o.BreakerThreshold == 0 {
		o.BreakerThreshold = 5
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
}

func key(kind plugin.Kind, name string) string { return string(kind) + "/" + name }

// ParseFileName splits certctl-plugin-<kind>-<name> into kind and name.
func ParseFileName(file string) (plugin.Kind, string, bool) {
	rest, ok := strings.CutPrefix(file, FilePrefix)
	if !ok {
		return "", "", false
	}
	kind, name, ok := strings.Cut(rest, "-")
	if !ok || name == "" || !slices.Contains(plugin.Kinds, plugin.Kind(kind)) {
		return "", "", false
	}
	return plugin.Kind(kind), name, true
}

// discover scans the plugin directory.
func (h *Host) discover(ctx context.Context) error {
	if h.o.Dir == "" {
		return nil
	}
	entries, err := os.ReadDir(h.o.Dir)
	if err != nil {
		return fmt.Errorf("plugin host: read plugin directory: %w", err)
	}
	for _, de := range entries {
		kind, name, ok := ParseFileName(de.Name())
		if !ok {
			continue
		}
		path := filepath.Join(h.o.Dir, de.Name())
		if err := checkFile(path); err != nil {
			h.o.Logger.Warn("plugin skipped", "path", path, "reason", err.Error())
			continue
		}
		m := &managed{h: h, kind: kind, name: name, path: path, status: StatusReady}
		if err := h.admit(ctx, m); err != nil {
			return err
		}
		h.plugins[key(kind, name)] = m
	}
	return nil
}

// checkFile accepts only regular, executable files: no symlinks, so that
// nothing outside the plugin directory can be run through it.
func checkFile(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return errors.New("symbolic links are not accepted as plugins")
	case !fi.Mode().IsRegular():
		return errors.New("not a regular file")
	case fi.Mode().Perm()&0o111 == 0:
		return errors.New("not executable")
	case fi.Mode().Perm()&0o002 != 0:
		return errors.New("writable by everyone")
	}
	return nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// admit checks a discovered binary against the catalogue and fills m.
func (h *Host) admit(ctx context.Context, m *managed) error {
	sum, err := fileSHA256(m.path)
	if err != nil {
		return fmt.Errorf("plugin host: checksum %s: %w", m.path, err)
	}
	m.sha256 = sum
	e, found, err := h.o.Catalogue.Get(ctx, m.kind, m.name)
	if err != nil {
		return fmt.Errorf("plugin host: catalogue: %w", err)
	}
	if found && e.SHA256 == sum && e.Path == m.path {
		m.entry = e
		return nil
	}
	if found {
		m.entry = e
		m.status = StatusChecksumMismatch
		m.lastErr = fmt.Sprintf("binary changed since it was registered (sha256 %s, registered %s); re-register it to accept it",
			short(sum), short(e.SHA256))
		h.o.Logger.Warn("plugin refused: checksum changed", "plugin", m.name, "kind", m.kind, "path", m.path,
			"sha256", sum, "registered_sha256", e.SHA256)
		return nil
	}
	// New: start it once to learn what it is.
	p, info, err := h.launch(ctx, m.path, m.kind, m.name, sum)
	if err != nil {
		m.status, m.lastErr = StatusInvalid, err.Error()
		h.o.Logger.Warn("plugin refused", "plugin", m.name, "kind", m.kind, "path", m.path, "err", err)
		return nil
	}
	p.Kill()
	m.entry = h.entryFor(m, info, sum)
	if err := h.o.Catalogue.Put(ctx, m.entry); err != nil {
		return fmt.Errorf("plugin host: catalogue: %w", err)
	}
	m.status, m.lastErr = StatusReady, ""
	// Debug: the host's owner sums plugins up in one line at start.
	h.o.Logger.Debug("plugin registered", "plugin", m.name, "kind", m.kind, "version", info.Version, "sha256", sum)
	return nil
}

func (h *Host) entryFor(m *managed, info plugin.Info, sum string) Entry {
	return Entry{Kind: m.kind, Name: m.name, Version: info.Version, Path: m.path, SHA256: sum, Schema: info.Schema,
		Description: info.Description, RegisteredAt: h.o.Clock().UTC()}
}

// RegisterError says why a binary was not accepted as a plugin. When
// Register returns one, the plugin's previous process (if any) goes on
// serving and its status is unchanged.
type RegisterError struct {
	Kind plugin.Kind
	Name string
	// Reason is what went wrong: the start, the handshake, Info, a name or
	// kind that does not match the file name, a schema that does not hold.
	Reason string
	// ExitStatus is how the process ended when it ended by itself before
	// it was accepted ("exit status 3"), else empty.
	ExitStatus string
	// Stderr is the end of what the plugin wrote to its standard error
	// (at most stderrTailSize bytes): the plugin was given no
	// configuration and none of the host's environment, so it holds
	// nothing of certctl's secrets.
	Stderr string
	// Kept says what stays as it was: "version 1.2.0 (sha256
	// 0123456789ab) goes on serving" when a process of the registered
	// version runs, "... stays registered, status crashed" when none does,
	// empty when no binary of the plugin was ever accepted.
	Kept string
}

func (e *RegisterError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s plugin %q: %s", e.Kind, e.Name, e.Reason)
	if e.ExitStatus != "" {
		fmt.Fprintf(&b, "; the process ended with %s", e.ExitStatus)
	}
	if e.Stderr != "" {
		fmt.Fprintf(&b, "; its standard error ends with: %s", e.Stderr)
	}
	if e.Kept != "" {
		fmt.Fprintf(&b, "; nothing changed: %s", e.Kept)
	}
	return b.String()
}

// stderrTailSize bounds the standard error a RegisterError quotes.
const stderrTailSize = 2048

// tail keeps the last bytes written to it (a plugin's standard error).
type tail struct {
	mu sync.Mutex
	b  []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 2*stderrTailSize {
		t.b = append(t.b[:0], t.b[len(t.b)-stderrTailSize:]...)
	}
	return len(p), nil
}

// String returns the tail as printable text: whole lines where it was
// cut, newlines shown as " | ".
func (t *tail) String() string {
	t.mu.Lock()
	b := t.b
	t.mu.Unlock()
	if len(b) > stderrTailSize {
		b = b[len(b)-stderrTailSize:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	var out []string
	for _, l := range strings.Split(strings.ToValidUTF8(string(b), "?"), "\n") {
		l = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, l)
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, " | ")
}

// exitWatch is a slog.Handler in front of the host's: it passes records
// on as the host's handler would, and notes the exit status go-plugin
// logs when the process ends ("plugin process exited").
type exitWatch struct {
	next   slog.Handler
	mu     *sync.Mutex
	status *string
}

func newExitWatch(next slog.Handler) exitWatch {
	return exitWatch{next: next, mu: &sync.Mutex{}, status: new(string)}
}

func (w exitWatch) Enabled(context.Context, slog.Level) bool { return true }

func (w exitWatch) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "plugin process exited" {
		st := "exit status 0"
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "error" {
				st = a.Value.String()
				return false
			}
			return true
		})
		w.mu.Lock()
		*w.status = st
		w.mu.Unlock()
	}
	if !w.next.Enabled(ctx, r.Level) {
		return nil
	}
	return w.next.Handle(ctx, r)
}

func (w exitWatch) WithAttrs(attrs []slog.Attr) slog.Handler {
	return exitWatch{next: w.next.WithAttrs(attrs), mu: w.mu, status: w.status}
}

func (w exitWatch) WithGroup(name string) slog.Handler {
	return exitWatch{next: w.next.WithGroup(name), mu: w.mu, status: w.status}
}

func (w exitWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return *w.status
}

// startFailure says in one line why plugin.Open failed. go-plugin's own
// text runs over many lines of guesses and file details when the process
// wrote no handshake; the exit status and the standard error, which
// RegisterError carries, say more.
func startFailure(err error) string {
	msg := err.Error()
	var pe *plugin.Error
	if errors.As(err, &pe) {
		msg = pe.Message
	}
	msg = strings.TrimPrefix(msg, "start plugin: ")
	first, _, _ := strings.Cut(msg, "\n")
	first = strings.TrimSpace(first)
	if line, ok := strings.CutPrefix(first, "Unrecognized remote plugin message:"); ok {
		if line = strings.TrimSpace(line); line == "" {
			return "it wrote no handshake on its standard output"
		}
		return fmt.Sprintf("it wrote %q on its standard output instead of a handshake", line)
	}
	if first == "plugin exited before we could connect" {
		return "it exited before the handshake"
	}
	return first
}

// launch starts the binary at path as plugin kind/name and checks it:
// handshake (with the checksum sum), Info, the kind and name the file
// name says, a schema that holds. It returns the running process, which
// the caller owns, or a *RegisterError saying why not, with the exit
// status and the end of the plugin's standard error when it died.
func (h *Host) launch(ctx context.Context, path string, kind plugin.Kind, name, sum string) (*plugin.Process, plugin.Info, error) {
	raw, _ := hex.DecodeString(sum)
	ctx, cancel := context.WithTimeout(ctx, h.o.StartTimeout)
	defer cancel()
	stderr := &tail{}
	exit := newExitWatch(h.o.Logger.Handler())
	// fail stops p, if it runs, and says why it is refused. Kill waits for
	// the process's end, so its last words are in the tail; the exit
	// status is news only when the process ended by itself (p is nil).
	fail := func(p *plugin.Process, format string, args ...any) (*plugin.Process, plugin.Info, error) {
		e := &RegisterError{Kind: kind, Name: name, Reason: fmt.Sprintf(format, args...)}
		if p != nil {
			p.Kill()
		} else {
			e.ExitStatus = exit.String()
		}
		e.Stderr = stderr.String()
		return nil, plugin.Info{}, e
	}
	p, err := plugin.Open(ctx, plugin.OpenOptions{Path: path, Kind: kind, SHA256: raw, Logger: slog.New(exit),
		SocketDir: h.socketDir, Stderr: stderr})
	if err != nil { // plugin.Open has killed it and waited for its end
		return fail(nil, "did not start: %s", startFailure(err))
	}
	info, err := p.Plugin().Info(ctx)
	if err != nil {
		return fail(p, "its Info failed: %v", err)
	}
	if info.Name != name || info.Kind != kind {
		return fail(p, "file name says %s %q but the plugin says %s %q", kind, name, info.Kind, info.Name)
	}
	if err := info.Schema.Check(); err != nil {
		return fail(p, "its configuration schema is not valid: %v", err)
	}
	return p, info, nil
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}

// Register accepts the binary now in the plugin directory for kind and
// name, e.g. after an upgrade changed its checksum. A plugin file that
// appeared since the host started is discovered too.
//
// It is one switch: the new binary is started beside the process that
// serves now and checked (handshake, Info, kind and name, schema); only
// then is it recorded in the catalogue and made the process that takes
// new calls. Calls in flight on the old process end there, after which it
// is stopped gracefully. When the new binary fails a check, Register
// returns a *RegisterError (with the exit status and the end of the
// plugin's standard error when it died) and changes nothing: the old
// process goes on serving, with the same status.
func (h *Host) Register(ctx context.Context, kind plugin.Kind, name string) (Status, error) {
	path := filepath.Join(h.o.Dir, FilePrefix+string(kind)+"-"+name)
	if err := checkFile(path); err != nil {
		return Status{}, &plugin.Error{Code: plugin.CodeNotFound, Message: fmt.Sprintf("no usable plugin file %s: %v", filepath.Base(path), err)}
	}
	h.mu.Lock()
	m, ok := h.plugins[key(kind, name)]
	if !ok {
		m = &managed{h: h, kind: kind, name: name, path: path, status: StatusInvalid, lastErr: "not registered yet"}
		h.plugins[key(kind, name)] = m
	}
	h.mu.Unlock()
	m.registering.Lock()
	defer m.registering.Unlock()

	sum, err := fileSHA256(path)
	if err != nil {
		return Status{}, fmt.Errorf("plugin host: checksum %s: %w", path, err)
	}
	proc, info, err := h.launch(ctx, path, kind, name, sum)
	if err != nil {
		m.mu.Lock()
		if m.entry.SHA256 == "" { // never accepted: nothing serves, say why
			m.status, m.lastErr = StatusInvalid, err.Error()
		} else if re := (*RegisterError)(nil); errors.As(err, &re) {
			re.Kept = fmt.Sprintf("version %s (sha256 %s)", m.entry.Version, short(m.entry.SHA256))
			if cur := m.statusLocked(); cur.Status == StatusRunning {
				re.Kept += " goes on serving"
			} else {
				re.Kept += " stays registered, status " + cur.Status
			}
		}
		st := m.statusLocked()
		m.mu.Unlock()
		h.o.Logger.Warn("plugin register failed; what served before goes on serving", "plugin", name, "kind", kind,
			"path", path, "sha256", sum, "err", err)
		return st, err
	}
	m.mu.Lock()
	entry := h.entryFor(m, info, sum)
	m.mu.Unlock()
	if err := h.o.Catalogue.Put(ctx, entry); err != nil {
		proc.Kill()
		return Status{}, fmt.Errorf("plugin host: catalogue: %w", err)
	}

	// The switch. h.mu orders it with Shutdown: a host that is stopping
	// has collected its processes already and would not stop this one.
	h.mu.Lock()
	if h.stopped() {
		h.mu.Unlock()
		proc.Kill()
		return Status{}, plugin.Errorf(plugin.CodeUnavailable, "%s plugin %q: the plugin host is shutting down", kind, name)
	}
	m.mu.Lock()
	old := m.cur
	m.cur = newInstance(proc)
	m.gen++
	m.entry, m.sha256, m.status, m.lastErr = entry, sum, StatusRunning, ""
	m.failures, m.notBefore, m.breakerUntil = 0, time.Time{}, time.Time{}
	st := m.statusLocked()
	m.mu.Unlock()
	if old != nil {
		h.retiring[old] = struct{}{}
		h.wg.Add(1)
		go h.retire(m, old)
	}
	h.mu.Unlock()
	attrs := []any{"plugin", name, "kind", kind, "version", info.Version, "sha256", sum, "pid", st.Pid}
	if old != nil {
		attrs = append(attrs, "replaced_pid", old.proc.Pid())
	}
	h.o.Logger.Info("plugin registered", attrs...)
	return st, nil
}

// retire stops a process Register replaced once the calls it was serving
// have ended (each is bounded by its deadline), or at once when the host
// stops.
func (h *Host) retire(m *managed, old *instance) {
	defer h.wg.Done()
	idle := make(chan struct{})
	go func() { old.calls.Wait(); close(idle) }()
	select {
	case <-idle:
	case <-h.stop: // Shutdown stops it with the others
		return
	}
	pid := old.proc.Pid()
	old.proc.Kill() // gracefully, then forcefully
	h.o.Logger.Info("replaced plugin process stopped after its last calls", "plugin", m.name, "kind", m.kind, "pid", pid)
	h.mu.Lock()
	delete(h.retiring, old)
	h.mu.Unlock()
}

// Status describes a plugin for the API.
type Status struct {
	Entry
	Status    string `json:"status"`
	Pid       int    `json:"pid,omitempty"`
	Restarts  int    `json:"restarts"`
	LastError string `json:"last_error,omitempty"`
}

// Plugins returns the status of every discovered plugin, sorted by kind and name.
func (h *Host) Plugins() []Status {
	h.mu.Lock()
	ms := make([]*managed, 0, len(h.plugins))
	for _, m := range h.plugins {
		ms = append(ms, m)
	}
	h.mu.Unlock()
	out := make([]Status, 0, len(ms))
	for _, m := range ms {
		m.mu.Lock()
		out = append(out, m.statusLocked())
		m.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b Status) int { return strings.Compare(key(a.Kind, a.Name), key(b.Kind, b.Name)) })
	return out
}

// Lookup returns the status of one plugin.
func (h *Host) Lookup(kind plugin.Kind, name string) (Status, bool) {
	m, err := h.get(kind, name)
	if err != nil {
		return Status{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.statusLocked(), true
}

func (h *Host) get(kind plugin.Kind, name string) (*managed, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m, ok := h.plugins[key(kind, name)]
	if !ok {
		var names []string
		for _, m := range h.plugins {
			if m.kind == kind {
				names = append(names, m.name)
			}
		}
		slices.Sort(names)
		return nil, plugin.Errorf(plugin.CodeNotFound, "no %s plugin %q (installed: %s)", kind, name, strings.Join(names, ", "))
	}
	return m, nil
}

// Schema returns a plugin's configuration schema.
func (h *Host) Schema(kind plugin.Kind, name string) (plugin.Schema, error) {
	m, err := h.get(kind, name)
	if err != nil {
		return plugin.Schema{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.status == StatusInvalid {
		return plugin.Schema{}, plugin.Errorf(plugin.CodeUnavailable, "%s plugin %q is not usable: %s", kind, name, m.lastErr)
	}
	return m.entry.Schema, nil
}

// Issuer returns the issuer plugin called name.
func (h *Host) Issuer(name string) (plugin.Issuer, error) {
	m, err := h.get(plugin.KindIssuer, name)
	if err != nil {
		return nil, err
	}
	return issuerProxy{m}, nil
}

// Target returns the target plugin called name.
func (h *Host) Target(name string) (plugin.Target, error) {
	m, err := h.get(plugin.KindTarget, name)
	if err != nil {
		return nil, err
	}
	return targetProxy{m}, nil
}

// Notifier returns the notifier plugin called name.
func (h *Host) Notifier(name string) (plugin.Notifier, error) {
	m, err := h.get(plugin.KindNotifier, name)
	if err != nil {
		return nil, err
	}
	return notifierProxy{m}, nil
}

// Close stops every plugin process and waits for them: each is asked to
// exit, and killed if it has not within a couple of seconds (all at once).
func (h *Host) Close() { _ = h.Shutdown(context.Background()) }

func (h *Host) stopped() bool {
	select {
	case <-h.stop:
		return true
	default:
		return false
	}
}

// Shutdown stops every plugin process as Close does, by ctx's end: a
// process still there then, hung or slow to exit, is killed at once. It
// returns ctx's error if it had to kill.
func (h *Host) Shutdown(ctx context.Context) error {
	h.closeOnce.Do(func() {
		close(h.stop)
		h.mu.Lock()
		var procs []*plugin.Process
		for _, m := range h.plugins {
			m.mu.Lock()
			if m.cur != nil {
				procs = append(procs, m.cur.proc)
				m.cur = nil
			}
			m.mu.Unlock()
		}
		for old := range h.retiring {
			procs = append(procs, old.proc)
		}
		h.mu.Unlock()
		h.closing = procs
		h.closed = make(chan struct{})
		go func() {
			defer close(h.closed)
			var wg sync.WaitGroup
			for _, p := range procs {
				wg.Add(1)
				go func() { defer wg.Done(); p.Kill() }()
			}
			wg.Wait()
			h.wg.Wait() // the health loop, which may be waiting on a ping, and retire
			if h.ownSocket {
				_ = os.RemoveAll(h.socketDir)
			}
		}()
	})
	select {
	case <-h.closed:
		return nil
	case <-ctx.Done():
	}
	for _, p := range h.closing {
		if pid := p.Pid(); pid > 0 && !p.Exited() {
			if proc, err := os.FindProcess(pid); err == nil {
				_ = proc.Kill()
			}
		}
	}
	<-h.closed // go-plugin notices the exits at once
	return ctx.Err()
}

// idleLoop stops the processes of plugins that had no call for
// IdleTimeout. It looks a few times per IdleTimeout, so a process is
// stopped at most a quarter of it late; a stop runs here, before Shutdown's
// wait for this loop ends, so none outlives the host.
func (h *Host) idleLoop() {
	defer h.wg.Done()
	t := time.NewTicker(min(max(h.o.IdleTimeout/4, time.Millisecond), 30*time.Second))
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		h.mu.Lock()
		ms := make([]*managed, 0, len(h.plugins))
		for _, m := range h.plugins {
			ms = append(ms, m)
		}
		h.mu.Unlock()
		for _, m := range ms {
			if h.stopped() {
				return
			}
			m.stopIfIdle(h.o.IdleTimeout)
		}
	}
}

// healthLoop pings running plugins and kills those that do not answer, so
// that the next call starts a fresh process.
func (h *Host) healthLoop() {
	defer h.wg.Done()
	t := time.NewTicker(h.o.HealthInterval)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		h.mu.Lock()
		ms := make([]*managed, 0, len(h.plugins))
		for _, m := range h.plugins {
			ms = append(ms, m)
		}
		h.mu.Unlock()
		for _, m := range ms {
			m.healthCheck()
		}
	}
}
