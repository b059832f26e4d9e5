package agent_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/agent"
	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/apitest"
)

// crashingReload wraps argv, the target's reload command, so that the
// test decides what its next run does through files in ctl, each used
// once: "kill" SIGKILLs the plugin (the command's parent) before it
// reloads anything, "kill-agent" the plugin and the agent (the plugin's
// parent) too, "fail" fails the run. It is how a deployment is cut
// between writing the files and reloading the server: plugins/target's
// servertest.Crashing does the same for the plugins' own tests.
func crashingReload(ctl string, argv ...string) []any {
	script := `if [ -e "$0/kill-agent" ]; then rm -f "$0/kill-agent"; agent=$(awk '{print $4}' /proc/$PPID/stat); kill -KILL "$PPID" "$agent"; exit 1; fi
if [ -e "$0/kill" ]; then rm -f "$0/kill"; kill -KILL "$PPID"; exit 1; fi
if [ -e "$0/fail" ]; then rm -f "$0/fail"; echo "reload refused by the test" >&2; exit 1; fi
exec "$@"`
	out := []any{"sh", "-c", script, ctl}
	for _, a := range argv {
		out = append(out, a)
	}
	return out
}

// crashSetup is a server, an NGINX, and a certificate deployed to it by
// an agent through a target whose reload command is crashingReload.
type crashSetup struct {
	env      *apitest.Env
	site     nginxSite
	ctl      string
	certID   string
	agentCfg agent.Config
}

// startCrashSetup enrolls an agent, started by start, and deploys a first
// certificate.
func startCrashSetup(t *testing.T, start func(agent.Config)) *crashSetup {
	t.Helper()
	s := &crashSetup{env: apitest.Start(t, apitest.Options{PluginDir: pluginDir, AgentHub: true}), site: runNginx(t, false), ctl: t.TempDir()}
	var tok api.EnrollmentToken
	s.env.MustDo(t, "POST", "/api/v1/enrollment-tokens", s.env.AdminKey, api.EnrollmentTokenRequest{AgentName: "web-1"}, 201).Decode(t, &tok)
	state := t.TempDir()
	s.agentCfg = agent.Config{ServerURL: s.env.URL, Token: tok.Token, StateDir: state, KeyDir: filepath.Join(state, "keys"),
		PluginDir: pluginDir, HeartbeatInterval: time.Second, PollWait: 5 * time.Second}
	start(s.agentCfg)
	var agents api.List[api.Agent]
	eventually(t, s.env, "the agent", func() bool {
		s.env.MustDo(t, "GET", "/api/v1/agents?status=online", s.env.AdminKey, nil, 200).Decode(t, &agents)
		return len(agents.Items) == 1
	})
	var iss api.Issuer
	s.env.MustDo(t, "POST", "/api/v1/issuers", s.env.AdminKey, api.IssuerRequest{Name: "ca", Type: "local",
		Config: map[string]any{"ca_key_type": "ecdsa-p256"}}, 201).Decode(t, &iss)
	var tgt api.Target
	s.env.MustDo(t, "POST", "/api/v1/targets", s.env.AdminKey, api.TargetRequest{Name: "nginx-1", Type: "nginx", AgentID: &agents.Items[0].ID,
		Config: map[string]any{"certificate_path": s.site.cert, "key_path": s.site.key,
			"validate_command": []any{"nginx", "-t", "-c", s.site.conf},
			"reload_command":   crashingReload(s.ctl, "nginx", "-c", s.site.conf, "-s", "reload"),
			"verify_address":   s.site.tlsAddr, "verify_timeout": "5s"}}, 201).Decode(t, &tgt)
	var cert api.Certificate
	s.env.MustDo(t, "POST", "/api/v1/certificates", s.env.AdminKey, api.CertificateRequest{Name: "site", CommonName: "localhost",
		IssuerID: iss.ID, TargetIDs: []string{tgt.ID}}, 201).Decode(t, &cert)
	s.certID = cert.ID
	d := s.deployment(t, s.version(t))
	if d.Status != "succeeded" {
		t.Fatalf("first deployment: %s %q", d.Status, d.Message)
	}
	return s
}

// touch makes the reload command's next run do what name says.
func (s *crashSetup) touch(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(s.ctl, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// version waits for the certificate's latest version.
func (s *crashSetup) version(t *testing.T) api.CertificateVersion {
	t.Helper()
	var v api.CertificateVersion
	eventually(t, s.env, "a certificate version", func() bool {
		var vs api.List[api.CertificateVersion]
		s.env.MustDo(t, "GET", "/api/v1/certificates/"+s.certID+"/versions", s.env.AdminKey, nil, 200).Decode(t, &vs)
		if len(vs.Items) > 0 {
			v = vs.Items[0]
		}
		return v.ID != ""
	})
	return v
}

// renew forces a renewal and returns the new version.
func (s *crashSetup) renew(t *testing.T, prev api.CertificateVersion) api.CertificateVersion {
	t.Helper()
	s.env.MustDo(t, "POST", "/api/v1/certificates/"+s.certID+"/renew", s.env.AdminKey, nil, 202)
	var v api.CertificateVersion
	eventuallyWithin(t, s.env, time.Minute, "the renewed version", func() bool {
		v = s.version(t)
		return v.ID != prev.ID
	})
	return v
}

// deployment waits until v's deployment has ended and returns it.
func (s *crashSetup) deployment(t *testing.T, v api.CertificateVersion) api.Deployment {
	t.Helper()
	var d api.Deployment
	eventuallyWithin(t, s.env, time.Minute, "the deployment of version "+v.SerialNumber+" to end", func() bool {
		d = s.find(t, v)
		return d.Status == "succeeded" || d.Status == "failed"
	})
	return d
}

func (s *crashSetup) find(t *testing.T, v api.CertificateVersion) api.Deployment {
	t.Helper()
	var deps api.List[api.Deployment]
	s.env.MustDo(t, "GET", "/api/v1/certificates/"+s.certID+"/deployments", s.env.AdminKey, nil, 200).Decode(t, &deps)
	for _, d := range deps.Items {
		if d.VersionID == v.ID {
			return d
		}
	}
	return api.Deployment{}
}

// checkCompleted checks that the interrupted deployment of v was
// completed, is reported so, and that NGINX serves v.
func checkCompleted(t *testing.T, d api.Deployment, addr string, v api.CertificateVersion) {
	t.Helper()
	if d.Status != "succeeded" || !strings.HasPrefix(d.Message, "completed after restart: ") ||
		d.Metadata["recovery"] != "completed_after_restart" || d.VerifiedAt == nil {
		t.Errorf("deployment after the kill: %s %q %v; want succeeded, \"completed after restart\", verified", d.Status, d.Message, d.Metadata)
	}
	if got := servedSerial(t, addr); got != v.SerialNumber {
		t.Errorf("NGINX serves %s, want the completed deployment's %s", got, v.SerialNumber)
	}
}

// TestInterruptedDeployment kills the target plugin (and then the agent
// too) between writing a new certificate's files and reloading NGINX,
// and checks that the deployment ends, after the restart, with the new
// certificate served and reported "completed after restart", or, when
// the reload fails after the restart, with the previous one served and
// reported "rolled back".
func TestInterruptedDeployment(t *testing.T) {
	t.Run("plugin killed", func(t *testing.T) {
		s := startCrashSetup(t, func(cfg agent.Config) { startAgent(t, cfg) })
		first := s.version(t)

		s.touch(t, "kill")
		second := s.renew(t, first)
		checkCompleted(t, s.deployment(t, second), s.site.tlsAddr, second)

		s.touch(t, "kill", "fail")
		third := s.renew(t, second)
		d := s.deployment(t, third)
		if d.Status != "failed" || !strings.HasPrefix(d.Message, "rolled back: ") || !strings.Contains(d.Message, "reload_command failed") ||
			d.Metadata["recovery"] != "rolled_back" || d.Metadata["served_serial"] != second.SerialNumber {
			t.Errorf("deployment after the kill: %s %q %v; want failed, \"rolled back\" with the reason, serving %s",
				d.Status, d.Message, d.Metadata, second.SerialNumber)
		}
		if got := servedSerial(t, s.site.tlsAddr); got != second.SerialNumber {
			t.Errorf("NGINX serves %s, want the previous %s restored", got, second.SerialNumber)
		}
	})

	t.Run("agent killed", func(t *testing.T) {
		// The agent as a process of its own, killed with its plugin: the
		// next run finds the deployment it had started and ends it before
		// anything else.
		bin := buildAgent(t)
		var logs lockedBuffer
		start := func(cfg agent.Config) *exec.Cmd {
			cmd := exec.Command(bin)
			cmd.Env = append(os.Environ(), "CERTCTL_SERVER_URL="+cfg.ServerURL, "CERTCTL_AGENT_TOKEN="+cfg.Token,
				"CERTCTL_AGENT_STATE_DIR="+cfg.StateDir, "CERTCTL_KEY_DIR="+cfg.KeyDir, "CERTCTL_PLUGIN_DIR="+pluginDir,
				"CERTCTL_LOG_LEVEL=debug")
			cmd.Stdout, cmd.Stderr = &logs, &logs
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			return cmd
		}
		var first *exec.Cmd
		s := startCrashSetup(t, func(cfg agent.Config) { first = start(cfg) })
		exited := make(chan error, 1)
		go func() { exited <- first.Wait() }()

		prev := s.version(t)
		s.touch(t, "kill-agent")
		next := s.renew(t, prev)
		select {
		case <-exited:
		case <-time.After(time.Minute):
			t.Fatalf("the agent was not killed by the reload command:\n%s", logs.String())
		}
		if d := s.find(t, next); d.Status != "in_progress" {
			t.Fatalf("with the agent killed, the deployment is %s %q; want it still in progress", d.Status, d.Message)
		}
		if got := servedSerial(t, s.site.tlsAddr); got != prev.SerialNumber {
			t.Fatalf("with the agent killed NGINX serves %s, want the previous %s (nothing reloaded)", got, prev.SerialNumber)
		}

		start(s.agentCfg)
		d := s.deployment(t, next)
		checkCompleted(t, d, s.site.tlsAddr, next)
		if !strings.Contains(fmt.Sprint(d.Metadata["interrupted"]), "the agent stopped") {
			t.Errorf("deployment metadata %v does not say the agent stopped", d.Metadata)
		}
	})
}
