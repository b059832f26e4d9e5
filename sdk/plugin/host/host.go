// Package host runs connector plugins for a certctl process: it discovers
// plugin binaries in a directory, checks them against a catalogue of
// accepted checksums, starts them on demand, and supervises them (health
// pings, restart with backoff after a crash, a circuit breaker, a deadline
// on every call, no orphans). certctl-server uses it for issuers and
// notifiers, certctl-agent for targets.
//
// Callers get plugin.Issuer, plugin.Target and plugin.Notifier values whose
// calls go through the supervisor: when the process is down the call
// fails with plugin.CodeUnavailable (retryable) and the next call starts a
// new process.
package host

import (
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
	StatusChecksumMismatch = "checksum_mismatch" // the binary changed since it was registered; an admin must re-register it
	StatusInvalid          = "invalid"           // the binary is not a working plugin of the kind its name says
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
	h := &Host{o: o, plugins: map[string]*managed{}, stop: make(chan struct{})}
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
	return h, nil
}

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
		if err := h.admit(ctx, m, false); err != nil {
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
// With force (an admin's Register) a changed checksum is accepted.
func (h *Host) admit(ctx context.Context, m *managed, force bool) error {
	sum, err := fileSHA256(m.path)
	if err != nil {
		return fmt.Errorf("plugin host: checksum %s: %w", m.path, err)
	}
	m.sha256 = sum
	e, found, err := h.o.Catalogue.Get(ctx, m.kind, m.name)
	if err != nil {
		return fmt.Errorf("plugin host: catalogue: %w", err)
	}
	if found && e.SHA256 == sum && e.Path == m.path && !force {
		m.entry = e
		return nil
	}
	if found && !force {
		m.entry = e
		m.status = StatusChecksumMismatch
		m.lastErr = fmt.Sprintf("binary changed since it was registered (sha256 %s, registered %s); re-register it to accept it",
			short(sum), short(e.SHA256))
		h.o.Logger.Warn("plugin refused: checksum changed", "plugin", m.name, "kind", m.kind, "path", m.path,
			"sha256", sum, "registered_sha256", e.SHA256)
		return nil
	}
	// New or re-registered: start it once to learn what it is.
	info, err := h.probe(ctx, m.path, m.kind, sum)
	if err != nil {
		m.status, m.lastErr = StatusInvalid, err.Error()
		h.o.Logger.Warn("plugin refused", "plugin", m.name, "kind", m.kind, "path", m.path, "err", err)
		return nil
	}
	if info.Name != m.name || info.Kind != m.kind {
		m.status = StatusInvalid
		m.lastErr = fmt.Sprintf("file name says %s %q but the plugin says %s %q", m.kind, m.name, info.Kind, info.Name)
		h.o.Logger.Warn("plugin refused", "path", m.path, "reason", m.lastErr)
		return nil
	}
	m.entry = Entry{Kind: m.kind, Name: m.name, Version: info.Version, Path: m.path, SHA256: sum, Schema: info.Schema,
		Description: info.Description, RegisteredAt: h.o.Clock().UTC()}
	if err := h.o.Catalogue.Put(ctx, m.entry); err != nil {
		return fmt.Errorf("plugin host: catalogue: %w", err)
	}
	m.status, m.lastErr = StatusReady, ""
	// Debug: the host's owner sums plugins up in one line at start.
	h.o.Logger.Debug("plugin registered", "plugin", m.name, "kind", m.kind, "version", info.Version, "sha256", sum)
	return nil
}

// probe starts a binary, reads its Info and stops it.
func (h *Host) probe(ctx context.Context, path string, kind plugin.Kind, sum string) (plugin.Info, error) {
	raw, _ := hex.DecodeString(sum)
	ctx, cancel := context.WithTimeout(ctx, h.o.StartTimeout)
	defer cancel()
	p, err := plugin.Open(ctx, plugin.OpenOptions{Path: path, Kind: kind, SHA256: raw, Logger: h.o.Logger,
		SocketDir: h.socketDir})
	if err != nil {
		return plugin.Info{}, err
	}
	defer p.Kill()
	info, err := p.Plugin().Info(ctx)
	if err != nil {
		return plugin.Info{}, err
	}
	if err := info.Schema.Check(); err != nil {
		return plugin.Info{}, err
	}
	return info, nil
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
func (h *Host) Register(ctx context.Context, kind plugin.Kind, name string) (Status, error) {
	path := filepath.Join(h.o.Dir, FilePrefix+string(kind)+"-"+name)
	if err := checkFile(path); err != nil {
		return Status{}, &plugin.Error{Code: plugin.CodeNotFound, Message: fmt.Sprintf("no usable plugin file %s: %v", filepath.Base(path), err)}
	}
	h.mu.Lock()
	m, ok := h.plugins[key(kind, name)]
	if !ok {
		m = &managed{h: h, kind: kind, name: name, path: path, status: StatusReady}
		h.plugins[key(kind, name)] = m
	}
	h.mu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.killLocked()
	if err := h.admit(ctx, m, true); err != nil {
		return Status{}, err
	}
	m.failures, m.breakerUntil = 0, time.Time{}
	if m.status == StatusInvalid {
		return m.statusLocked(), plugin.Errorf(plugin.CodeInvalidInput, "%s", m.lastErr)
	}
	return m.statusLocked(), nil
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
			if m.proc != nil {
				procs = append(procs, m.proc)
				m.proc = nil
			}
			m.mu.Unlock()
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
			h.wg.Wait() // the health loop, which may be waiting on a ping
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
