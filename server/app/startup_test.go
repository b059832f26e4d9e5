package app_test

import (
	"bytes"
	"context"
	"regexp"
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
