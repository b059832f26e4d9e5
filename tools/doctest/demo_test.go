package doctest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemo runs tools/demo/demo.sh (what `make demo` runs after `make
// build`) as a user does: it waits for "Press Ctrl-C", compares what the
// demo printed with docs/demo.md, then presses Ctrl-C (SIGINT to the
// process group) and checks that the demo stops, removes its directory and
// leaves no process behind.
func TestDemo(t *testing.T) {
	NeedTools(t, "bash", "curl", "jq", "openssl", "nginx")
	root := RepoRoot(t)
	for _, b := range []string{"certctl-server", "certctl-agent", "plugins/certctl-plugin-target-nginx"} {
		Binary(t, b)
	}
	want := demoOutput(t, root)

	tmp := DataDir(t) // the demo's TMPDIR: the postgres user must enter it
	out := &SyncBuffer{}
	cmd := exec.Command("bash", filepath.Join(root, "tools/demo/demo.sh"))
	cmd.Env = Env("TMPDIR=" + tmp)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })

	const prompt = "Press Ctrl-C to stop the demo."
	deadline := time.After(5 * time.Minute)
wait:
	for !strings.Contains(out.String(), prompt) {
		select {
		case err := <-done:
			t.Fatalf("the demo ended before its prompt (%v):\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("no prompt after 5 minutes:\n%s", out.String())
		case <-time.After(200 * time.Millisecond):
			continue wait
		}
	}
	shown, _, _ := strings.Cut(out.String(), prompt)
	if err := Match(demoNormalise(want), demoNormalise(shown+prompt)); err != nil {
		t.Errorf("the demo's output differs from docs/demo.md: %v\n--- output\n%s", err, out.String())
	}

	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 130 {
			t.Errorf("after Ctrl-C the demo exited with %v, want status 130\n%s", err, out.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("the demo did not stop within a minute of Ctrl-C:\n%s", out.String())
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "certctl-demo.*")); len(left) > 0 {
		t.Errorf("the demo left %v behind", left)
	}
	if procs := processesMentioning(t, tmp); len(procs) > 0 {
		t.Errorf("processes left running after the demo: %v", procs)
	}
}

// demoOutput returns the output docs/demo.md shows for `make demo`.
func demoOutput(t *testing.T, root string) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(root, "docs/demo.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := Parse("docs/demo.md", string(doc))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		if strings.TrimSpace(b.Text) == "make demo" && b.Output != nil {
			return b.Output.Text
		}
	}
	t.Fatal("docs/demo.md shows no output for make demo")
	return ""
}

var (
	demoPort = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	demoDir  = regexp.MustCompile(`\S*/certctl-demo\.[A-Za-z0-9]+`)
)

// demoNormalise hides what differs from run to run beyond what Match
// hides: the demo's ports and its temporary directory.
func demoNormalise(s string) string {
	return demoDir.ReplaceAllString(demoPort.ReplaceAllString(s, "127.0.0.1:<port>"), "<dir>")
}

// processesMentioning lists the command lines that contain s, from /proc.
func processesMentioning(t *testing.T, s string) []string {
	t.Helper()
	files, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil || len(files) == 0 {
		return nil // no /proc here: nothing to check with
	}
	var found []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the process ended meanwhile
		}
		if line := strings.ReplaceAll(string(b), "\x00", " "); strings.Contains(line, s) {
			found = append(found, line)
		}
	}
	return found
}
