package agent_test

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/agent"
	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/apitest"
)

var pluginDir string

func TestMain(m *testing.M) {
	os.Exit(apitest.MainWithPlugins(m, &pluginDir, "issuer/local", "target/nginx", "target/apache", "target/haproxy", "notifier/webhook"))
}

// startAgent runs an agent until the test ends.
func startAgent(t *testing.T, cfg agent.Config) (stop func()) {
	t.Helper()
	return startAgentLogging(t, cfg, slog.New(slog.DiscardHandler))
}

// startAgentLogging runs an agent that logs to logger until the test ends.
func startAgentLogging(t *testing.T, cfg agent.Config, logger *slog.Logger) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := agent.New(ctx, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil && ctx.Err() == nil {
				t.Errorf("agent: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("agent did not stop")
		}
		a.Close()
	}
	t.Cleanup(stop)
	return stop
}

// eventually polls cond for up to 20 s, running the server's due jobs.
func eventually(t *testing.T, env *apitest.Env, what string, cond func() bool) {
	t.Helper()
	eventuallyWithin(t, env, 20*time.Second, what, cond)
}

// eventuallyWithin polls cond for up to limit, running the server's due
// jobs.
func eventuallyWithin(t *testing.T, env *apitest.Env, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		env.RunJobs(t)
		time.Sleep(100 * time.Millisecond)
	}
}

func TestAgentEnrollsMakesKeysAndReports(t *testing.T) {
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir, AgentHub: true})
	var tok api.EnrollmentToken
	env.MustDo(t, "POST", "/api/v1/enrollment-tokens", env.AdminKey, api.EnrollmentTokenRequest{AgentName: "edge-1"}, 201).Decode(t, &tok)
	state := t.TempDir()
	cfg := agent.Config{ServerURL: env.URL, Token: tok.Token, StateDir: state, KeyDir: filepath.Join(state, "keys"),
		PluginDir: t.TempDir(), HeartbeatInterval: 200 * time.Millisecond, PollWait: 2 * time.Second}
	stop := startAgent(t, cfg)

	var agents api.List[api.Agent]
	eventually(t, env, "the agent to come online", func() bool {
		env.MustDo(t, "GET", "/api/v1/agents?status=online", env.AdminKey, nil, 200).Decode(t, &agents)
		return len(agents.Items) == 1
	})
	a := agents.Items[0]
	if a.Name != "edge-1" || a.OS == "" || a.Arch == "" || a.Hostname == "" || a.IPAddress == nil || *a.IPAddress != "127.0.0.1" {
		t.Fatalf("agent facts = %+v", a)
	}
	if fi, err := os.Stat(filepath.Join(state, "credential")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credential file: %v %v", fi, err)
	}

	// A certificate bound to a target on this agent: the agent makes the key.
	var iss api.Issuer
	env.MustDo(t, "POST", "/api/v1/issuers", env.AdminKey, api.IssuerRequest{Name: "ca", Type: "local",
		Config: map[string]any{"ca_key_type": "ecdsa-p256"}}, 201).Decode(t, &iss)
	var tgt api.Target
	env.MustDo(t, "POST", "/api/v1/targets", env.AdminKey, api.TargetRequest{Name: "web", Type: "nginx", AgentID: &a.ID,
		Config: map[string]any{"certificate_path": "/nonexistent/site.crt", "key_path": "/nonexistent/site.key"}}, 201).Decode(t, &tgt)
	var cert api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "site", CommonName: "site.example.com",
		IssuerID: iss.ID, TargetIDs: []string{tgt.ID}}, 201).Decode(t, &cert)
	eventually(t, env, "the certificate to be issued from the agent's CSR", func() bool {
		var c api.Certificate
		env.MustDo(t, "GET", "/api/v1/certificates/"+cert.ID, env.AdminKey, nil, 200).Decode(t, &c)
		return c.Status == "active"
	})
	// The key exists only on the agent, mode 0600; the server has the CSR, never the key.
	var keys []string
	_ = filepath.WalkDir(cfg.KeyDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			fi, _ := d.Info()
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("key file %s has mode %o", p, fi.Mode().Perm())
			}
			keys = append(keys, p)
		}
		return nil
	})
	if len(keys) != 1 {
		t.Fatalf("key files: %v", keys)
	}
	keyPEM, _ := os.ReadFile(keys[0])
	var leaked int
	if err := env.Pool.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM certificate_versions WHERE private_key_enc IS NOT NULL) +
		(SELECT count(*) FROM jobs WHERE payload::text LIKE '%PRIVATE KEY%') +
		(SELECT count(*) FROM audit_events WHERE details::text LIKE '%PRIVATE KEY%')`).Scan(&leaked); err != nil {
		t.Fatal(err)
	}
	if leaked != 0 || !strings.Contains(string(keyPEM), "PRIVATE KEY") {
		t.Fatalf("the server holds key material (%d rows)", leaked)
	}

	// No target plugin here: the deployment fails, and that is reported.
	eventually(t, env, "the failed deployment to be reported", func() bool {
		var deps api.List[api.Deployment]
		env.MustDo(t, "GET", "/api/v1/certificates/"+cert.ID+"/deployments", env.AdminKey, nil, 200).Decode(t, &deps)
		return len(deps.Items) == 1 && deps.Items[0].Status == "failed" && strings.Contains(deps.Items[0].Message, "nginx")
	})

	// Restarted without the token, the agent carries on with its credential.
	stop()
	cfg.Token = ""
	startAgent(t, cfg)
	before := time.Now()
	eventually(t, env, "a heartbeat from the restarted agent", func() bool {
		var got api.Agent
		env.MustDo(t, "GET", "/api/v1/agents/"+a.ID, env.AdminKey, nil, 200).Decode(t, &got)
		return got.LastHeartbeatAt != nil && got.LastHeartbeatAt.After(before)
	})
}

func TestAgentRefusesABadToken(t *testing.T) {
	env := apitest.Start(t, apitest.Options{})
	state := t.TempDir()
	a, err := agent.New(context.Background(), agent.Config{ServerURL: env.URL, Token: "cce_not-a-token", StateDir: state,
		KeyDir: filepath.Join(state, "keys"), PluginDir: t.TempDir()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Run(ctx); err == nil || !strings.Contains(err.Error(), "enroll") {
		t.Fatalf("Run with a bad token: %v", err)
	}
}
