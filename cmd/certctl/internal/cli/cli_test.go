package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/api"
)

func TestToYAML(t *testing.T) {
	t.Parallel()
	v := map[string]any{"b": "123", "a": true, "pem": "-----BEGIN X-----\nAAAA\n-----END X-----\n", "list": []string{"x", "on"}, "n": 5, "empty": ""}
	got, err := toYAML(v)
	if err != nil {
		t.Fatal(err)
	}
	// JSON's key order (sorted for maps), strings that would read as
	// another type quoted, PEM as a literal block, block style.
	want := `a: true
b: "123"
empty: ""
list:
    - x
    - "on"
"n": 5
pem: |
    -----BEGIN X-----
    AAAA
    -----END X-----
`
	if string(got) != want {
		t.Errorf("toYAML:\n%s\nwant:\n%s", got, want)
	}
	// Struct fields keep their JSON names and order.
	got, err = toYAML(api.Health{Status: "ok", Checks: map[string]string{"database": "ok"}})
	if err != nil || string(got) != "status: ok\nchecks:\n    database: ok\n" {
		t.Errorf("toYAML(Health) = %q, %v", got, err)
	}
}

func TestTable(t *testing.T) {
	t.Parallel()
	tb := &table{}
	tb.row("NAME", "STATUS", "NOTE")
	tb.row("a-long-name", "active", "")
	tb.row("b", "failed", "line one\n\tline two")
	var buf bytes.Buffer
	if err := tb.write(&buf, false); err != nil {
		t.Fatal(err)
	}
	want := "NAME         STATUS  NOTE\n" +
		"a-long-name  active  -\n" +
		"b            failed  line one line two\n"
	if buf.String() != want {
		t.Errorf("table:\n%q\nwant\n%q", buf.String(), want)
	}
}

func TestProgress(t *testing.T) {
	t.Parallel()
	clock := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }

	// Not a terminal: a line per change, nothing redrawn.
	var plain bytes.Buffer
	p := &progress{w: &plain, start: clock, now: now}
	p.set("certificate a: issuing")
	clock = clock.Add(2 * time.Second)
	p.set("certificate a: issuing")
	p.set("certificate a: issuing; issue job running")
	p.finish("certificate a: issued")
	want := "certificate a: issuing (0s)\ncertificate a: issuing; issue job running (2s)\ncertificate a: issued (2s)\n"
	if plain.String() != want {
		t.Errorf("plain progress:\n%q\nwant\n%q", plain.String(), want)
	}

	// A terminal: one line rewritten in place, cleared at the end.
	var tty bytes.Buffer
	p = &progress{w: &tty, tty: true, start: clock, now: now, stop: make(chan struct{}), done: make(chan struct{})}
	close(p.done) // no redraw goroutine in this test: draws happen on set
	p.set("certificate a: issuing")
	p.set("certificate a: issued soon")
	p.finish("certificate a: issued")
	want = "\r\x1b[K\\ certificate a: issuing (0s)\r\x1b[K| certificate a: issued soon (0s)\r\x1b[Kcertificate a: issued (0s)\n"
	if tty.String() != want {
		t.Errorf("terminal progress:\n%q\nwant\n%q", tty.String(), want)
	}
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	if exitCode(nil) != ExitOK || exitCode(errors.New("x")) != ExitError ||
		exitCode(fmt.Errorf("wrapped: %w", usageErrorf("bad"))) != ExitUsage || exitCode(notFoundErrorf("no")) != ExitNotFound {
		t.Error("exitCode mapping")
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"30d": 720 * time.Hour, "0d": 0, "90m": 90 * time.Minute} {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"d", "-1d", "1.5d", "soon"} {
		if _, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q) accepted", in)
		}
	}
}

func TestConfigFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", "config.yaml")
	cfg, err := loadConfig(path)
	if err != nil || len(cfg.Contexts) != 0 {
		t.Fatalf("a missing file: %v %+v", err, cfg)
	}
	cfg.setContext(Context{Name: "b", URL: "https://b.example.com", APIKey: "cck_b"})
	cfg.setContext(Context{Name: "a", URL: "https://a.example.com"})
	cfg.CurrentContext = "b"
	if err := cfg.save(); err != nil {
		t.Fatal(err)
	}
	back, err := loadConfig(path)
	if err != nil || len(back.Contexts) != 2 || back.Contexts[0].Name != "a" || back.CurrentContext != "b" || back.checkKeyReadable() != nil {
		t.Fatalf("read back: %v %+v", err, back)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	back, _ = loadConfig(path)
	if err := back.checkKeyReadable(); err == nil || !strings.Contains(err.Error(), "mode 0640") {
		t.Errorf("group-readable file: %v", err)
	}
	if !back.deleteContext("b") || back.CurrentContext != "" || back.deleteContext("b") {
		t.Errorf("deleteContext: %+v", back)
	}
	if err := os.WriteFile(path, []byte("contexts:\n- name: x\n- name: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfig(path); err == nil || !strings.Contains(err.Error(), "appears twice") {
		t.Errorf("duplicate context: %v", err)
	}
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfig(path); err != nil {
		t.Errorf("an empty file: %v", err)
	}
}
