package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/certctl/certctl/sdk/api"
)

// TestExitStatuses checks every documented exit status (docs/cli.md)
// against the real server.
func TestExitStatuses(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.setupIssuer(t)
	s.ok(t, "certs", "create", "app", "--cn", "app.example.com", "--issuer", "local", "--wait")

	cases := []struct {
		name string
		code int
		env  []string // replaces the URL and key when set
		args []string
		// stderr must match
		stderr string
	}{
		{"unknown command", 2, nil, []string{"certz"}, `unknown command "certz"`},
		{"unknown subcommand", 2, nil, []string{"certs", "lst"}, `unknown command "lst" for "certctl certs"; did you mean get or list\?`},
		{"unknown flag", 2, nil, []string{"certs", "list", "--bogus"}, `unknown flag: --bogus`},
		{"missing argument", 2, nil, []string{"certs", "get"}, `expected a certificate name or id, got 0`},
		{"missing required flag", 2, nil, []string{"certs", "create", "x", "--issuer", "local"}, `required flag\(s\) "cn" not set`},
		{"bad output format", 2, nil, []string{"certs", "list", "-o", "xml"}, `-o "xml": use table, json or yaml`},
		{"bad duration", 2, nil, []string{"certs", "wait", "app", "--timeout", "soon"}, `invalid argument "soon"`},
		{"bad wait goal", 2, nil, []string{"certs", "wait", "app", "--for", "everything"}, `--for "everything"`},
		{"no server", 2, []string{"CERTCTL_API_KEY=" + s.env.AdminKey}, []string{"certs", "list"}, `no server URL`},
		{"not found by name", 3, nil, []string{"certs", "get", "nope"}, `no certificate named "nope"`},
		{"not found by id", 3, nil, []string{"certs", "get", "0195b1de-1111-7d3e-9f20-5c1d2e3f4a5b"}, `404 not_found`},
		{"issuer not found", 3, nil, []string{"issuers", "get", "nope"}, `no issuer named "nope"`},
		{"no key", 4, []string{"CERTCTL_URL=" + s.env.URL}, []string{"certs", "list"}, `401 unauthorized`},
		{"bad key", 4, []string{"CERTCTL_URL=" + s.env.URL, "CERTCTL_API_KEY=cck_bogus"}, []string{"certs", "list"}, `401 unauthorized`},
		{"role too low", 4, []string{"CERTCTL_URL=" + s.env.URL, "CERTCTL_API_KEY=" + s.env.NewKey(t, "viewer")},
			[]string{"issuers", "create", "ca2", "--type", "local"}, `403 forbidden`},
		{"name taken", 5, nil, []string{"certs", "create", "app", "--cn", "app.example.com", "--issuer", "local"}, `409 conflict`},
		{"invalid input", 7, nil, []string{"certs", "create", "bad", "--cn", "bad.example.com", "--issuer", "local", "--key-type", "dsa-512"}, `400 invalid \(key_type\)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r result
			if tc.env != nil {
				r = s.runWith(t, tc.env, "", tc.args...)
			} else {
				r = s.run(t, tc.args...)
			}
			if r.code != tc.code {
				t.Fatalf("want exit %d: %s", tc.code, r)
			}
			if !regexp.MustCompile(tc.stderr).MatchString(r.stderr) {
				t.Errorf("stderr does not match %q:\n%s", tc.stderr, r.stderr)
			}
			if !strings.HasPrefix(r.stderr, "certctl: ") || r.stdout != "" {
				t.Errorf("an error goes to stderr as certctl: ..., nothing to stdout: %s", r)
			}
		})
	}

	// A wait that runs out: a certificate for a target no agent serves is
	// issued, but never deployed. Progress says why, and the exit is 6.
	s.ok(t, "targets", "create", "orphan", "--type", "nginx",
		"--set", "certificate_path=/etc/ssl/o.pem", "--set", "key_path=/etc/ssl/o.key")
	r := s.code(t, 6, "certs", "create", "deployed", "--cn", "deployed.example.com", "--issuer", "local",
		"--target", "orphan", "--wait", "--for", "deployed", "--timeout", "5s")
	if !strings.Contains(r.stderr, "waiting for target orphan has no agent") ||
		!regexp.MustCompile(`certctl: timed out after 5s waiting for certificate deployed to be deployed \(it is active\)`).MatchString(r.stderr) {
		t.Errorf("wait timeout:\n%s", r)
	}
	// The certificate as it stood is still printed, for scripts to read.
	if field(t, r.stdout, "STATUS") != "active" {
		t.Errorf("stdout after the timeout:\n%s", r.stdout)
	}
	// It was issued, so waiting for that succeeds.
	s.ok(t, "certs", "wait", "deployed")
	var c api.Certificate
	s.jsonOf(t, &c, "certs", "get", "deployed")
	if c.DeploymentHealth.Pending != 1 {
		t.Errorf("deployment health = %+v", c.DeploymentHealth)
	}

	// A job wait that runs out: the deploy job waits for an agent.
	var jobs []api.Job
	s.jsonOf(t, &jobs, "jobs", "list", "--cert", "deployed", "--kind", "deploy")
	if len(jobs) != 1 {
		t.Fatalf("deploy jobs = %+v", jobs)
	}
	s.code(t, 6, "jobs", "get", jobs[0].ID, "--wait", "--timeout", "2s")
	// Cancelling it works once, then it is a conflict; waiting for a
	// cancelled job is a failure (8).
	if r := s.ok(t, "jobs", "cancel", jobs[0].ID); field(t, r.stdout, "STATE") != "cancelled" {
		t.Errorf("jobs cancel:\n%s", r.stdout)
	}
	s.code(t, 5, "jobs", "cancel", jobs[0].ID)
	s.code(t, 8, "jobs", "get", jobs[0].ID, "--wait")
}
