// Package plugintest is the conformance kit for certctl connector plugins.
// A plugin author runs it from an ordinary Go test against the plugin's
// binary, built from the plugin's main package exactly as it will ship:
//
//	func TestConformance(t *testing.T) {
//		plugintest.Run(t, plugintest.Options{
//			Binary:      plugintest.Build(t, "."),
//			Kind:        plugin.KindIssuer,
//			ValidConfig: plugin.Config{"url": "https://ca.example.com"},
//		})
//	}
//
// Run starts the binary the way a certctl host does (plugin.Open: the
// go-plugin handshake of its kind, gRPC with automatic mutual TLS) and
// runs one named subtest per check: the handshake, Info, configuration
// validation, robustness against bad input, cancellation, concurrent
// calls, and the operations of the plugin's kind. Each check is also
// available as a plain function (Session.Checks) returning an error.
package plugintest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

// Options describe the plugin under test and what to ask of it.
type Options struct {
	// Binary is the plugin executable, e.g. from Build.
	Binary string
	// Kind is the kind of plugin the binary serves.
	Kind plugin.Kind
	// ValidConfig is a configuration, as a user would write it, that the
	// plugin's schema and ValidateConfig must accept. Issuers and
	// notifiers use it (or its provisioned form) for their operations.
	ValidConfig plugin.Config
	// InvalidConfigs must each be refused with plugin.CodeInvalidConfig,
	// by the schema or by ValidateConfig.
	InvalidConfigs []InvalidConfig
	// The operations to check for the plugin's kind; nil means the
	// defaults. Only the one matching Kind may be set.
	Issuer   *IssuerCases
	Target   *TargetCases
	Notifier *NotifierCases
	// Timeout bounds each check; zero means one minute.
	Timeout time.Duration
}

// InvalidConfig is a configuration that must be refused.
type InvalidConfig struct {
	Name   string        // names the subtest
	Config plugin.Config // as a user would write it
	Field  string        // the field the error must name; "" for any
}

// defaultTimeout bounds one check when Options.Timeout is zero.
const defaultTimeout = time.Minute

func (o Options) check() error {
	if o.Binary == "" {
		return errors.New("plugintest: Options.Binary is empty")
	}
	if !slices.Contains(plugin.Kinds, o.Kind) {
		return fmt.Errorf("plugintest: Options.Kind %q is not issuer, target or notifier", o.Kind)
	}
	for _, c := range []struct {
		field string
		kind  plugin.Kind
		set   bool
	}{{"Issuer", plugin.KindIssuer, o.Issuer != nil}, {"Target", plugin.KindTarget, o.Target != nil},
		{"Notifier", plugin.KindNotifier, o.Notifier != nil}} {
		if c.set && c.kind != o.Kind {
			return fmt.Errorf("plugintest: Options.%s is set for a %s plugin", c.field, o.Kind)
		}
	}
	if o.Issuer != nil {
		for _, kt := range o.Issuer.KeyTypes {
			if !slices.Contains(KeyTypes, kt) {
				return fmt.Errorf("plugintest: unknown key type %q (known: %s)", kt, strings.Join(KeyTypes, ", "))
			}
		}
	}
	return nil
}

func (o Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return defaultTimeout
}

// buildTimeout bounds one `go build`: a cold build of the SDK's gRPC
// dependencies takes a while on a small machine.
const buildTimeout = 5 * time.Minute

// Build compiles the main package pkg (an import path, or a directory
// such as "." or "./cmd/myplugin" relative to the test's working
// directory) with `go build` into a temporary directory and returns the
// binary's path, so that the test runs exactly what ships.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	// `go test` puts the go command that runs it first on PATH.
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("building %s: no go command on PATH: %v", pkg, err)
	}
	bin := filepath.Join(t.TempDir(), "certctl-plugin-under-test")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, goBin, "build", "-o", bin, pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("plugintest: go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// Run checks that the plugin binary o.Binary conforms to the certctl
// plugin protocol and contract, one subtest per check. The process is
// started once (the "handshake" subtest), shared by the checks in order,
// and killed when t ends. The plugin's log lines go to t's log.
func Run(t *testing.T, o Options) {
	t.Helper()
	if err := o.check(); err != nil {
		t.Fatal(err)
	}
	var s *Session
	parent := t
	if !t.Run("handshake", func(t *testing.T) {
		var err error
		if s, err = Start(parent, o); err != nil {
			t.Fatal(err)
		}
	}) {
		return
	}
	for _, c := range s.Checks() {
		t.Run(c.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), o.timeout())
			defer cancel()
			if err := c.Run(ctx); err != nil {
				t.Error(err)
			}
		})
	}
}

// Check is one conformance check: its Run returns why the plugin fails it,
// or nil.
type Check struct {
	Name string
	Run  func(ctx context.Context) error
}

// Session is a running plugin process under test.
type Session struct {
	Options Options
	Process *plugin.Process
	Info    plugin.Info // as the plugin reported it at start

	socketDir string
	valid     plugin.Config // ValidConfig normalised with the schema; nil if it does not normalise
	validErr  error

	mu           sync.Mutex
	issuerCfg    plugin.Config // the configuration issuer operations use
	issuerCfgErr error
	issuerCfgSet bool
	issued       *issued          // the first certificate issued, for the renewal and CRL checks
	testCert     *testCertificate // what target checks deploy, when the cases give none
}

// Start starts o.Binary with the handshake of o.Kind, as a host does,
// and reads its Info. The process is killed when t ends; its log lines
// go to t's log. An error means the handshake or Info failed.
func Start(t testing.TB, o Options) (*Session, error) {
	t.Helper()
	if err := o.check(); err != nil {
		return nil, err
	}
	// Unix socket paths must stay short (about 100 bytes); t.TempDir()
	// can be longer than that.
	sockDir, err := os.MkdirTemp("", "cpt")
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	logs := &testLog{t: t}
	t.Cleanup(logs.close) // runs after the kill below: cleanups run last first
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout())
	defer cancel()
	proc, err := plugin.Open(ctx, plugin.OpenOptions{Path: o.Binary, Kind: o.Kind, SocketDir: sockDir,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		return nil, fmt.Errorf("the %s handshake failed: %w (is %s a certctl %s plugin whose main calls plugin.Serve?)",
			o.Kind, err, o.Binary, o.Kind)
	}
	t.Cleanup(proc.Kill)
	if proc.Plugin() == nil {
		return nil, fmt.Errorf("the process does not serve a %s", o.Kind)
	}
	info, err := proc.Plugin().Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("Info after the handshake: %w", err)
	}
	s := &Session{Options: o, Process: proc, Info: info, socketDir: sockDir}
	s.valid, s.validErr = info.Schema.Normalize(o.ValidConfig)
	return s, nil
}

// Checks returns the checks for the session's plugin, in the order Run
// runs them. Some use the results of earlier ones (the issuer checks use
// the configuration "provision" made), so run them in this order.
func (s *Session) Checks() []Check {
	checks := []Check{
		{"wrong_kind_handshake", s.checkWrongKind},
		{"info", s.checkInfo},
		{"valid_config", s.checkValidConfig},
	}
	for _, ic := range s.Options.InvalidConfigs {
		name := "invalid_config/" + strings.ReplaceAll(ic.Name, " ", "_") // as t.Run shows it
		checks = append(checks, Check{name, func(ctx context.Context) error {
			return s.checkInvalidConfig(ctx, ic)
		}})
	}
	checks = append(checks,
		Check{"garbage_config", s.checkGarbageConfig},
		Check{"canceled_context", s.checkCanceled},
		Check{"short_deadline", s.checkShortDeadline},
		Check{"concurrent_calls", s.checkConcurrency},
	)
	switch s.Options.Kind {
	case plugin.KindIssuer:
		checks = append(checks, s.issuerChecks()...)
	case plugin.KindTarget:
		checks = append(checks, s.targetChecks()...)
	case plugin.KindNotifier:
		checks = append(checks, s.notifierChecks()...)
	}
	return append(checks, Check{"still_answers", s.checkStillAnswers})
}

// validConfig returns ValidConfig normalised with the plugin's schema, as
// a host passes it.
func (s *Session) validConfig() (plugin.Config, error) {
	if s.validErr != nil {
		return nil, fmt.Errorf("ValidConfig does not fit the plugin's schema: %w", s.validErr)
	}
	return s.valid.Clone(), nil
}

// pingTimeout bounds a ping: plugin.Process.Ping has no deadline of its
// own and blocks for as long as a stopped or wedged process is silent.
const pingTimeout = 5 * time.Second

// alive reports an error when the process no longer answers, after bad
// input was sent with what.
func (s *Session) alive(what string) error {
	done := make(chan error, 1)
	go func() { done <- s.Process.Ping() }() // ends at the latest when the process is killed
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("the plugin process no longer answers after %s (it crashed?): %v", what, err)
		}
		return nil
	case <-time.After(pingTimeout):
		return fmt.Errorf("the plugin process does not answer a ping within %s after %s (it hangs?)", pingTimeout, what)
	}
}

// testLog writes the plugin's log lines to a test's log until the test
// ends; lines arriving later are dropped.
type testLog struct {
	mu     sync.Mutex
	t      testing.TB
	closed bool
}

var _ io.Writer = (*testLog)(nil)

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (l *testLog) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}
