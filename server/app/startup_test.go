package app_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/server/app"
)

func TestVersion(t *testing.T) {
	// --version works whatever the environment holds: here a listen
	// address the server would refuse to start on.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := app.Run(ctx, []string{"--version"}, env(map[string]string{"CERTCTL_LISTEN_ADDR": "0.0.0.0:8443"}), &stdout, &stderr, nil)
	if err != nil {
		t.Fatalf("Run --version: %v (stderr %q)", err, stderr.String())
	}
	want := regexp.MustCompile(`^certctl-server ` + regexp.QuoteMeta(app.Version) + ` \(go[^ ]+ [a-z0-9]+/[a-z0-9]+\)\n$`)
	if !want.MatchString(stdout.String()) {
		t.Errorf("--version printed %q, want one line like %q", stdout.String(), "certctl-server dev (go1.26 linux/amd64)")
	}
	if stderr.Len() > 0 {
		t.Errorf("--version wrote to stderr: %q", stderr.String())
	}
}

// TestQuietStartBannerLast runs a first start on the embedded database the
// way make run does, stdout and stderr into one terminal, and checks that
// it is short at info, that stopped plugin processes are not reported at
// info, and that the URL and admin key banner comes after every log line.
func TestQuietStartBannerLast(t *testing.T) {
	term := &syncBuffer{} // stdout and stderr interleaved, as on a terminal
	vars := map[string]string{"CERTCTL_DATA_DIR": dataDir(t), "CERTCTL_LISTEN_ADDR": "127.0.0.1:0",
		"CERTCTL_PLUGIN_DIR": pluginDir,
		// Debug shows what the quiet start moved out of info; the checks
		// below look at the level of each line.
		"CERTCTL_LOG_LEVEL": "debug"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, nil, env(vars), term, term, ready) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("server exited before serving: %v\n%s", err, term.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("server did not start within 2 minutes:\n%s", term.String())
	}
	// The scheduler becomes leader right after the start: wait for that
	// (at debug) so that its line, if it were at info, would be seen
	// after the banner.
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(term.String(), `msg="scheduler: this server is the leader"`) {
		if time.Now().After(deadline) {
			t.Fatalf("the scheduler did not become leader within a minute:\n%s", term.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("server exit: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("server did not stop within a minute")
	}

	out := term.String()
	lines := strings.Split(out, "\n")
	banner, key, shutdown := -1, -1, len(lines)
	for i, l := range lines {
		switch {
		case banner < 0 && strings.HasPrefix(l, "certctl-server ") && strings.Contains(l, " listening on http://"):
			banner = i
		case keyPattern.MatchString(l):
			key = i
		case strings.Contains(l, `msg="shutting down"`):
			shutdown = min(shutdown, i)
		}
	}
	if banner < 0 || key < banner {
		t.Fatalf("no URL line followed by the admin key:\n%s", out)
	}
	var info []string
	for i, l := range lines {
		level := logLevel(l)
		if level == "" || level == "DEBUG" {
			continue
		}
		if i > banner && i < shutdown {
			t.Errorf("log line after the banner, before shutdown (the banner must come last):\n%s", l)
		}
		if level != "INFO" && i < shutdown {
			t.Errorf("%s on a normal start:\n%s", level, l)
		}
		if strings.Contains(l, `msg="plugin process exited"`) {
			t.Errorf("a plugin the host stopped is reported at %s:\n%s", level, l)
		}
		if i < banner {
			info = append(info, l)
		}
	}
	// A first start says: database starting and ready, the encryption key
	// created, plugins found, the default CA created (two lines), serving.
	if len(info) > 8 {
		t.Errorf("%d lines at info before the banner, want a handful:\n%s", len(info), strings.Join(info, "\n"))
	}
	if !strings.Contains(out, `level=DEBUG msg="plugin process exited"`) {
		t.Errorf("stopped plugins are not logged at debug either:\n%s", out)
	}
}

// logLevel returns the level of a text log line, or "" for other lines.
func logLevel(line string) string {
	_, rest, ok := strings.Cut(line, " level=")
	if !ok || !strings.HasPrefix(line, "time=") {
		return ""
	}
	level, _, _ := strings.Cut(rest, " ")
	return level
}
