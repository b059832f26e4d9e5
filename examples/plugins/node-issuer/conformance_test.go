// Package nodeissuer_test runs certctl's conformance kit against the issuer
// plugin written in Node.js in this directory, as it runs against Go
// plugins: the protocol is gRPC with go-plugin's handshake, which any
// language can speak.
package nodeissuer_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// launcher is the plugin's executable: a shell script that runs plugin.js.
const launcher = "certctl-plugin-issuer-nodeca"

// nodeVersion matches what `node --version` prints for Node.js 20 or later.
var nodeVersion = regexp.MustCompile(`^v([2-9]\d|\d{3,})\.`)

// npmTimeout bounds `npm ci`: it takes seconds from npm's cache, longer
// on a machine that fetches the packages from the registry.
const npmTimeout = 5 * time.Minute

func TestConformance(t *testing.T) {
	dir := install(t)
	plugintest.Run(t, plugintest.Options{
		Binary:      filepath.Join(dir, launcher),
		Kind:        plugin.KindIssuer,
		ValidConfig: plugin.Config{"validity": "7d"},
		InvalidConfigs: []plugintest.InvalidConfig{
			{Name: "validity not a duration", Config: plugin.Config{"validity": "soon"}, Field: "validity"},
			{Name: "key without certificate", Config: plugin.Config{"ca_key": "secret"}, Field: "ca_cert"},
			{Name: "certificate not PEM", Config: plugin.Config{"ca_cert": "not a certificate", "ca_key": "secret"}, Field: "ca_cert"},
		},
		Issuer: &plugintest.IssuerCases{
			Provision:  true,
			KeyTypes:   []string{"ecdsa-p256", "ecdsa-p384", "rsa-2048", "ed25519"},
			CommonName: "app.example.com",
			SANs:       []string{"www.example.com", "192.0.2.7"},
		},
	})
}

// TestProtoIsTheSDKs checks that the protocol definition the plugin loads
// at run time is the SDK's (proto/plugin.proto is a symbolic link to it; a
// copy would fall behind).
func TestProtoIsTheSDKs(t *testing.T) {
	sdk, err := os.ReadFile("../../../sdk/plugin/proto/pluginv1/plugin.proto")
	if err != nil {
		t.Fatal(err)
	}
	copied, err := os.ReadFile("proto/plugin.proto")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sdk, copied) {
		t.Error("proto/plugin.proto differs from sdk/plugin/proto/pluginv1/plugin.proto: make it a link to the SDK's file again")
	}
}

// TestShutdown stops the plugin as a host does (plugin.Process.Kill): the
// plugin must exit by itself, through go-plugin's Shutdown call, rather
// than be killed after go-plugin's 2 s of grace. On the way, the info line
// the plugin logs when it makes a CA must reach the host's log at its
// level, with its attributes.
func TestShutdown(t *testing.T) {
	logs := &records{}
	p, err := plugin.Open(t.Context(), plugin.OpenOptions{Path: filepath.Join(install(t), launcher), Kind: plugin.KindIssuer,
		Logger: slog.New(logs), SocketDir: shortTempDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Issuer().Provision(t.Context(), plugin.ProvisionRequest{Config: plugin.Config{}}); err != nil {
		t.Fatal(err)
	}
	p.Kill()
	if !p.Exited() {
		t.Fatal("the plugin process is still running after Kill")
	}
	var said, exited bool
	for _, r := range logs.all() {
		switch r.Message {
		case "plugin failed to exit gracefully":
			t.Error("the host had to kill the plugin: it did not exit on Shutdown")
		case "plugin process exited":
			exited = true
			if r.Level != slog.LevelDebug { // a clean exit; an exit status or signal is an error
				t.Errorf("the plugin did not exit cleanly: %s %s", r.Level, r.Message)
			}
		case "provisioned a new CA":
			r.Attrs(func(a slog.Attr) bool {
				said = said || (r.Level == slog.LevelInfo && a.Key == "subject" && a.Value.String() == "CN=Node example CA")
				return true
			})
		}
	}
	if !exited || !said {
		t.Errorf("the host's log lacks the plugin's exit (%v) or its info line on provisioning, with the subject (%v): %v",
			exited, said, logs.all())
	}
}

// records is a slog.Handler that keeps what the host logs.
type records struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *records) WithGroup(string) slog.Handler            { return h }
func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r)
	return nil
}

func (h *records) all() []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.recs)
}

// shortTempDir is a directory for Unix sockets, whose paths must stay
// under about 100 bytes (t.TempDir's can be longer).
func shortTempDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "nodeissuer")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// errorsJS makes certctl.js encode errors as a plugin method would throw
// them and prints each gRPC status it would send: code, message and the
// grpc-status-details-bin trailer.
const errorsJS = `
const { toStatus, PluginError } = require('./certctl');
const errs = [
  new PluginError('invalid_config', 'validity must be a duration', { field: 'validity' }),
  new PluginError('transient', 'the CA is busy', { retryAfterMs: 1500 }),
  new PluginError('invalid_input', 'the CSR does not parse'),
  new Error('a bug'),
];
console.log(JSON.stringify(errs.map((e) => {
  const s = toStatus(e);
  return { code: s.code, message: s.details, details: s.metadata.get('grpc-status-details-bin')[0].toString('base64') };
})));
`

// TestErrorDetails decodes, with the Go types the host uses, the error
// statuses certctl.js makes: the certctl code in an ErrorInfo, the field in
// a BadRequest, the delay in a RetryInfo, and the gRPC code of
// sdk/plugin/grpc_errors.go. The conformance kit sees only the codes and
// fields of the errors this CA happens to return.
func TestErrorDetails(t *testing.T) {
	cmd := exec.CommandContext(t.Context(), "node", "-e", errorsJS)
	cmd.Dir = install(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got []struct {
		Code    codes.Code
		Message string
		Details string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := []struct {
		grpc       codes.Code
		code       string
		message    string
		field      string
		retryAfter time.Duration
	}{
		{codes.InvalidArgument, plugin.CodeInvalidConfig, "validity must be a duration", "validity", 0},
		{codes.Unavailable, plugin.CodeTransient, "the CA is busy", "", 1500 * time.Millisecond},
		{codes.OutOfRange, plugin.CodeInvalidInput, "the CSR does not parse", "", 0},
		{codes.FailedPrecondition, plugin.CodePermanent, "a bug", "", 0},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d statuses, want %d: %s", len(got), len(want), out)
	}
	for i, w := range want {
		raw, err := base64.StdEncoding.DecodeString(got[i].Details)
		if err != nil {
			t.Fatal(err)
		}
		var sp spb.Status
		if err := proto.Unmarshal(raw, &sp); err != nil {
			t.Fatalf("%s: grpc-status-details-bin is no google.rpc.Status: %v", w.code, err)
		}
		st := status.FromProto(&sp)
		if got[i].Code != w.grpc || st.Code() != w.grpc || got[i].Message != w.message || st.Message() != w.message {
			t.Errorf("%s: status %v %q (details %v %q), want %v %q", w.code, got[i].Code, got[i].Message, st.Code(), st.Message(), w.grpc, w.message)
		}
		var code, field string
		var retryAfter time.Duration
		for _, d := range st.Details() {
			switch d := d.(type) {
			case *errdetails.ErrorInfo:
				if d.Domain == "certctl.plugin" {
					code = d.Reason
				}
			case *errdetails.BadRequest:
				if len(d.FieldViolations) > 0 {
					field = d.FieldViolations[0].Field
				}
			case *errdetails.RetryInfo:
				retryAfter = d.GetRetryDelay().AsDuration()
			case error:
				t.Errorf("%s: a detail does not decode: %v", w.code, d)
			}
		}
		if code != w.code || field != w.field || retryAfter != w.retryAfter {
			t.Errorf("details say code %q, field %q, retry after %s; want %q, %q, %s", code, field, retryAfter, w.code, w.field, w.retryAfter)
		}
	}
}

// normalizeJS normalises each configuration of the JSON array in argv[1]
// with certctl.js's normalize and the schema of every field type, and
// prints the results: the configuration, or the field an error names.
const normalizeJS = `
const { normalize } = require('./certctl');
const schema = [
  { name: 's', type: 'string', enum: ['a', 'b', ''] },
  { name: 'i', type: 'int' },
  { name: 'b', type: 'bool' },
  { name: 'd', type: 'duration', default: '30d' },
  { name: 'l', type: 'string_list' },
  { name: 'r', type: 'string', required: true },
];
console.log(JSON.stringify(JSON.parse(process.argv[1]).map((cfg) => {
  try {
    return { config: normalize(schema, cfg) };
  } catch (e) {
    return { field: e.field, code: e.code };
  }
})));
`

// TestNormalizeAgrees checks certctl.js's normalize against the Go SDK's
// Schema.Normalize, which hosts run before calling the plugin: for every
// field type, both must accept the same values (with the same canonical
// form) and refuse the same, naming the same field.
func TestNormalizeAgrees(t *testing.T) {
	schema := plugin.Schema{Fields: []plugin.Field{
		{Name: "s", Type: plugin.TypeString, Enum: []string{"a", "b", ""}},
		{Name: "i", Type: plugin.TypeInt},
		{Name: "b", Type: plugin.TypeBool},
		{Name: "d", Type: plugin.TypeDuration, Default: "30d"},
		{Name: "l", Type: plugin.TypeStringList},
		{Name: "r", Type: plugin.TypeString, Required: true},
	}}
	values := map[string][]any{
		"s": {"a", "", "c", 1.0, true, []any{"a"}, nil},
		"i": {0.0, 42.0, -7.0, 1.5, "12", true, 9007199254740992.0, 1e300},
		"b": {true, false, "true", 1.0},
		"d": {"90d", "1.5d", "12h", "1h30m", "45s", "250ms", "0", "0s", ".5m", "5.s", "+5m", 3600.0, 0.0, -5.0, 1.5,
			1e12, "-5s", "forever", "", "d", "5", "1h 30m", "36500d", "36501d", "+5d", "-0s", "10000000h", "5x", true},
		"l": {[]any{}, []any{"a", "b"}, []any{"a", 1.0}, "a,b", map[string]any{"a": "b"}},
		"r": {"x", "", 5.0},
	}
	var cfgs []plugin.Config
	for name, vs := range values {
		for _, v := range vs {
			cfg := plugin.Config{"r": "x"}
			cfg[name] = v
			cfgs = append(cfgs, cfg)
		}
	}
	cfgs = append(cfgs, plugin.Config{}, plugin.Config{"r": "x", "unknown": "y"})
	arg, err := json.Marshal(cfgs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), "node", "-e", normalizeJS, string(arg))
	cmd.Dir = install(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got []struct {
		Config plugin.Config
		Field  string
		Code   string
	}
	if err := json.Unmarshal(out, &got); err != nil || len(got) != len(cfgs) {
		t.Fatalf("%d results for %d configurations (%v): %s", len(got), len(cfgs), err, out)
	}
	for i, cfg := range cfgs {
		// Through JSON, as a host sends it.
		var sent plugin.Config
		if err := json.Unmarshal(must(json.Marshal(cfg)), &sent); err != nil {
			t.Fatal(err)
		}
		want, err := schema.Normalize(sent)
		var pe *plugin.Error
		switch {
		case errors.As(err, &pe):
			if got[i].Code != plugin.CodeInvalidConfig || got[i].Field != pe.Field {
				t.Errorf("%v: Go refuses it naming %q (%v); JS says %+v", cfg, pe.Field, err, got[i])
			}
		case err != nil:
			t.Fatal(err)
		case got[i].Code != "":
			t.Errorf("%v: Go accepts it, JS refuses it naming %q", cfg, got[i].Field)
		case !reflect.DeepEqual(want, got[i].Config):
			t.Errorf("%v: Go normalises it to %v, JS to %v", cfg, want, got[i].Config)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// installed is the plugin with its dependencies, installed once for all
// the tests of the package (in installRoot, removed by TestMain).
var (
	installRoot string
	installOnce sync.Once
	installDir  string
	installErr  error
)

func TestMain(m *testing.M) {
	var err error
	if installRoot, err = os.MkdirTemp("", "nodeissuer"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(installRoot)
	os.Exit(code)
}

// install copies the plugin's sources (not a node_modules of the working
// tree) into a temporary directory and installs its dependencies there
// with `npm ci`, exactly as package-lock.json pins them (none needs its
// install script: --ignore-scripts). Node.js 20 or later and npm are
// required: the test fails, saying so, when they are missing.
func install(t *testing.T) string {
	t.Helper()
	installOnce.Do(func() { installDir, installErr = npmCI(filepath.Join(installRoot, "plugin")) })
	if installErr != nil {
		t.Fatal(installErr)
	}
	return installDir
}

func npmCI(dir string) (string, error) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("%s is not on PATH: the Node.js plugin's tests need Node.js 20 or later and npm "+
				"(Debian: apt-get install nodejs npm; .ci/run installs them)", tool)
		}
	}
	// @peculiar/x509 needs Node.js 20 (npm ci would only warn).
	if out, err := exec.Command("node", "--version").Output(); err != nil {
		return "", fmt.Errorf("node --version: %w", err)
	} else if v := strings.TrimSpace(string(out)); !nodeVersion.MatchString(v) {
		return "", fmt.Errorf("node is %s: the Node.js plugin needs Node.js 20 or later", v)
	}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && d.Name() == "node_modules":
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dir, path), 0o755)
		case strings.HasSuffix(path, ".go"):
			return nil
		}
		info, err := os.Stat(path) // proto/plugin.proto is a link to the SDK's: copy the file
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, path), data, info.Mode().Perm())
	})
	if err != nil {
		return "", fmt.Errorf("copy the plugin: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "npm_config_update_notifier=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm ci: %w\n%s", err, out)
	}
	return dir, nil
}
