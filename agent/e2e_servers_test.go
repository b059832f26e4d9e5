package agent_test

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/certctl/certctl/agent"
	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/acmetest"
	"github.com/certctl/certctl/server/apitest"
)

// deployAndRenew runs the lifecycle against one real server: an agent
// enrolls, a certificate bound to a target of typ on it is issued from the
// agent's CSR and served (checked with a TLS handshake), then renewed and
// the new serial served.
func deployAndRenew(t *testing.T, typ string, config map[string]any, addr string) {
	t.Helper()
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir, AgentHub: true})
	var tok api.EnrollmentToken
	env.MustDo(t, "POST", "/api/v1/enrollment-tokens", env.AdminKey, api.EnrollmentTokenRequest{AgentName: "host-" + typ}, 201).Decode(t, &tok)
	state := t.TempDir()
	a, err := agent.New(t.Context(), agent.Config{ServerURL: env.URL, Token: tok.Token, StateDir: state,
		KeyDir: filepath.Join(state, "keys"), PluginDir: pluginDir, HeartbeatInterval: time.Second, PollWait: 5 * time.Second},
		slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = a.Run(t.Context()) }()
	t.Cleanup(a.Close)
	var agents api.List[api.Agent]
	eventually(t, env, "the agent", func() bool {
		env.MustDo(t, "GET", "/api/v1/agents?status=online", env.AdminKey, nil, 200).Decode(t, &agents)
		return len(agents.Items) == 1
	})
	var iss api.Issuer
	env.MustDo(t, "POST", "/api/v1/issuers", env.AdminKey, api.IssuerRequest{Name: "ca", Type: "local",
		Config: map[string]any{"ca_key_type": "ecdsa-p256"}}, 201).Decode(t, &iss)
	var tgt api.Target
	env.MustDo(t, "POST", "/api/v1/targets", env.AdminKey, api.TargetRequest{Name: typ + "-1", Type: typ,
		AgentID: &agents.Items[0].ID, Config: config}, 201).Decode(t, &tgt)
	var cert api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "site", CommonName: "localhost",
		SANs: []string{"127.0.0.1"}, IssuerID: iss.ID, TargetIDs: []string{tgt.ID}}, 201).Decode(t, &cert)
	current := func() string {
		var vs api.List[api.CertificateVersion]
		env.MustDo(t, "GET", "/api/v1/certificates/"+cert.ID+"/versions", env.AdminKey, nil, 200).Decode(t, &vs)
		if len(vs.Items) == 0 {
			return ""
		}
		return vs.Items[0].SerialNumber
	}
	eventually(t, env, typ+" to serve the issued certificate", func() bool {
		s := current()
		return s != "" && servedSerial(t, addr) == s
	})
	first := current()
	env.MustDo(t, "POST", "/api/v1/certificates/"+cert.ID+"/renew", env.AdminKey, nil, 202)
	eventually(t, env, typ+" to serve the renewed certificate", func() bool {
		s := current()
		return s != first && servedSerial(t, addr) == s
	})
}

func TestEndToEndWithApache(t *testing.T) {
	if _, err := exec.LookPath("apache2"); err != nil {
		if _, err := os.Stat("/usr/sbin/apache2"); err != nil {
			t.Fatal("apache2 is not installed: apt-get install apache2 (.ci/run installs it)")
		}
	}
	bin := "apache2"
	if _, err := exec.LookPath(bin); err != nil {
		bin = "/usr/sbin/apache2"
	}
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	selfSigned(t, cert, key)
	addr := fmt.Sprintf("127.0.0.1:%d", acmetest.FreePort(t))
	conf := filepath.Join(dir, "apache2.conf")
	mods := "/usr/lib/apache2/modules"
	if err := os.MkdirAll(filepath.Join(dir, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`ServerRoot %[1]s
ServerName localhost
Listen %[2]s
LoadModule mpm_event_module %[3]s/mod_mpm_event.so
LoadModule authz_core_module %[3]s/mod_authz_core.so
LoadModule socache_shmcb_module %[3]s/mod_socache_shmcb.so
LoadModule ssl_module %[3]s/mod_ssl.so
LoadModule dir_module %[3]s/mod_dir.so
User nobody
Group nogroup
DefaultRuntimeDir %[1]s/run
PidFile %[1]s/apache2.pid
ErrorLog %[1]s/error.log
DocumentRoot %[1]s
SSLSessionCache shmcb:%[1]s/run/ssl_scache(512000)
SSLEngine on
SSLCertificateFile %[4]s
SSLCertificateKeyFile %[5]s
`, dir, addr, mods, cert, key)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-f", conf, "-k", "start").CombinedOutput(); err != nil {
		t.Fatalf("start apache: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(bin, "-f", conf, "-k", "stop").Run(); time.Sleep(300 * time.Millisecond) })
	deployAndRenew(t, "apache", map[string]any{"certificate_path": cert, "key_path": key,
		"validate_command": []any{bin, "-f", conf, "-t"}, "reload_command": []any{bin, "-f", conf, "-k", "graceful"},
		"verify_address": addr, "verify_timeout": "15s"}, addr)
}

func TestEndToEndWithHAProxy(t *testing.T) {
	if _, err := exec.LookPath("haproxy"); err != nil {
		t.Fatal("haproxy is not installed: apt-get install haproxy (.ci/run installs it)")
	}
	dir := t.TempDir()
	crt, key := filepath.Join(dir, "site.crt"), filepath.Join(dir, "site.key")
	selfSigned(t, crt, key)
	c, _ := os.ReadFile(crt)
	k, _ := os.ReadFile(key)
	pemPath := filepath.Join(dir, "site.pem")
	if err := os.WriteFile(pemPath, append(c, k...), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", acmetest.FreePort(t))
	conf := filepath.Join(dir, "haproxy.cfg")
	body := fmt.Sprintf(`global
  log stderr format raw local0 err
defaults
  mode http
  timeout connect 5s
  timeout client 5s
  timeout server 5s
frontend site
  bind %s ssl crt %s
  http-request return status 200 content-type text/plain string "ok"
`, addr, pemPath)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	// Master-worker mode in the foreground: a reload is SIGUSR2 to the
	// master, which this test reaps.
	cmd := exec.Command("haproxy", "-W", "-db", "-f", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for servedSerial(t, addr) == "" {
		if time.Now().After(deadline) {
			t.Fatal("haproxy did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	deployAndRenew(t, "haproxy", map[string]any{"pem_path": pemPath,
		"validate_command": []any{"haproxy", "-c", "-f", conf},
		"reload_command":   []any{"kill", "-USR2", strconv.Itoa(cmd.Process.Pid)},
		"verify_address":   addr, "verify_timeout": "15s"}, addr)
}
