package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCompletion: the scripts for each shell, and dynamic completion of
// certificate, agent and issuer names through the API (cobra's
// __complete, which the scripts call).
func TestCompletion(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.setupIssuer(t)
	for _, name := range []string{"www-example-com", "www-example-org", "api-example-com"} {
		s.ok(t, "certs", "create", name, "--cn", strings.ReplaceAll(strings.Replace(name, "-", ".", 1), "-", "."), "--issuer", "local")
	}
	enrollAgent(t, s, "web-1")

	scripts := map[string]string{
		"bash":       "# bash completion V2 for certctl",
		"zsh":        "#compdef certctl",
		"fish":       "# fish completion for certctl",
		"powershell": "# powershell completion for certctl",
	}
	for shell, first := range scripts {
		r := s.ok(t, "completion", shell)
		if !strings.HasPrefix(r.stdout, first) {
			t.Errorf("completion %s starts %.80q", shell, r.stdout)
		}
	}
	// The bash script is valid bash.
	if bash, err := exec.LookPath("bash"); err == nil {
		r := s.ok(t, "completion", "bash")
		cmd := exec.Command(bash, "-n")
		cmd.Stdin = strings.NewReader(r.stdout)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("bash -n on the completion script: %v\n%s", err, out)
		}
	}

	complete := func(args ...string) []string {
		t.Helper()
		r := s.ok(t, append([]string{"__complete"}, args...)...)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		return lines
	}
	if got := complete("certs", "get", "www-"); strings.Join(got, " ") != "www-example-com www-example-org :4" {
		t.Errorf("certs get www-<TAB> = %q", got)
	}
	if got := complete("certs", "renew", ""); strings.Join(got, " ") != "www-example-com www-example-org api-example-com :4" {
		t.Errorf("certs renew <TAB> = %q", got)
	}
	if got := complete("agents", "get", "w"); strings.Join(got, " ") != "web-1 :4" {
		t.Errorf("agents get w<TAB> = %q", got)
	}
	if got := complete("certs", "create", "x", "--issuer", ""); strings.Join(got, " ") != "local :4" {
		t.Errorf("--issuer <TAB> = %q", got)
	}
	if got := complete("certs", "list", "-o", ""); strings.Join(got, " ") != "table json yaml :4" {
		t.Errorf("-o <TAB> = %q", got)
	}
	// Only the first argument is a name.
	if got := complete("certs", "get", "www-example-com", ""); strings.Join(got, " ") != ":4" {
		t.Errorf("second argument = %q", got)
	}
	// Without a server the completion is empty and says it failed, quietly.
	r := s.runWith(t, nil, "", "__complete", "certs", "get", "")
	if r.code != 0 || strings.TrimSpace(r.stdout) != ":5" {
		t.Errorf("completion without a server: %s", r)
	}
}
