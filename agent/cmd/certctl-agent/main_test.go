package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/agent"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestVersion(t *testing.T) {
	// --version needs nothing else: no server URL, no state.
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"--version"}, env(nil), &stdout, &stderr); err != nil {
		t.Fatalf("run --version: %v (stderr %q)", err, stderr.String())
	}
	want := regexp.MustCompile(`^certctl-agent ` + regexp.QuoteMeta(agent.Version) + ` \(go[^ ]+ [a-z0-9]+/[a-z0-9]+\)\n$`)
	if !want.MatchString(stdout.String()) {
		t.Errorf("--version printed %q, want one line like %q", stdout.String(), "certctl-agent dev (go1.26 linux/amd64)")
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// An agent with neither a token nor a stored credential can never work:
// it must fail at once with what to do, not wait for a server it cannot
// enroll with anyway (the server here is not even reachable).
func TestWithoutTokenOrCredentialFailsAtOnce(t *testing.T) {
	state := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // stops a hang; never reached when correct
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := run(ctx, nil, env(map[string]string{
		"CERTCTL_SERVER_URL": "http://" + closedAddr(t), "CERTCTL_AGENT_STATE_DIR": state, "CERTCTL_PLUGIN_DIR": t.TempDir(),
	}), &stdout, &stderr)
	if ctx.Err() != nil {
		t.Fatalf("run kept going until the test's deadline: %v", err)
	}
	if !errors.Is(err, agent.ErrNotEnrolled) {
		t.Fatalf("run = %v, want ErrNotEnrolled", err)
	}
	for _, want := range []string{"CERTCTL_AGENT_TOKEN", "--token", "POST /api/v1/enrollment-tokens", state} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not mention %q: %v", want, err)
		}
	}
	if strings.Contains(stderr.String(), "cannot reach the server") {
		t.Errorf("the agent tried the server although it had nothing to enroll with:\n%s", stderr.String())
	}
}
