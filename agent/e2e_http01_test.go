package agent_test

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/agent"
	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/acmetest"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/service"
)

// serverPluginsWithTestIssuer makes a plugin directory for the server:
// the nginx target plugin (to validate targets' configuration) and the
// HTTP-01 test issuer of testdata/issuer-http01, built here.
func serverPluginsWithTestIssuer(t *testing.T) string {
	t.Helper()
	dir := serverPlugins(t)
	out := filepath.Join(dir, "certctl-plugin-issuer-http01test")
	if b, err := exec.Command("go", "build", "-o", out, "./testdata/issuer-http01").CombinedOutput(); err != nil {
		t.Fatalf("build the test issuer: %v\n%s", err, b)
	}
	return dir
}

// serverPlugins makes a plugin directory for the server with the nginx
// target plugin and the named built-in plugins.
func serverPlugins(t *testing.T, builtin ...string) string {
	t.Helper()
	dir := t.TempDir()
	if err := apitest.BuildPlugins(dir, builtin...); err != nil {
		t.Fatal(err)
	}
	nginx, err := os.ReadFile(filepath.Join(pluginDir, "certctl-plugin-target-nginx"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "certctl-plugin-target-nginx"), nginx, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// http01Setup is a server, an agent running with the given HTTP-01
// settings, and an NGINX target on it.
type http01Setup struct {
	env       *apitest.Env
	site      nginxSite
	agentLogs *lockedBuffer
	stateDir  string
	issuerID  string
	targetID  string

	agentConfig agent.Config
	stopAgent   func()
}

func startHTTP01Setup(t *testing.T, serverPlugins string, configure func(*agent.Config, nginxSite)) *http01Setup {
	t.Helper()
	s := &http01Setup{agentLogs: &lockedBuffer{}, site: runNginx(t, true)}
	s.env = apitest.Start(t, apitest.Options{PluginDir: serverPlugins, AgentHub: true})
	var tok api.EnrollmentToken
	s.env.MustDo(t, "POST", "/api/v1/enrollment-tokens", s.env.AdminKey, api.EnrollmentTokenRequest{AgentName: "web-1"}, 201).Decode(t, &tok)
	s.stateDir = t.TempDir()
	cfg := agent.Config{ServerURL: s.env.URL, Token: tok.Token, StateDir: s.stateDir, KeyDir: filepath.Join(s.stateDir, "keys"),
		PluginDir: pluginDir, HeartbeatInterval: time.Second, PollWait: 5 * time.Second}
	configure(&cfg, s.site)
	s.agentConfig = cfg
	s.stopAgent = startAgentLogging(t, cfg, slog.New(slog.NewTextHandler(s.agentLogs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	var agents api.List[api.Agent]
	eventually(t, s.env, "the agent", func() bool {
		s.env.MustDo(t, "GET", "/api/v1/agents?status=online", s.env.AdminKey, nil, 200).Decode(t, &agents)
		return len(agents.Items) == 1
	})
	var tgt api.Target
	s.env.MustDo(t, "POST", "/api/v1/targets", s.env.AdminKey, api.TargetRequest{Name: "nginx-1", Type: "nginx", AgentID: &agents.Items[0].ID,
		Config: map[string]any{"certificate_path": s.site.cert, "key_path": s.site.key,
			"validate_command": []any{"nginx", "-t", "-c", s.site.conf}, "reload_command": []any{"nginx", "-c", s.site.conf, "-s", "reload"},
			"verify_address": s.site.tlsAddr}}, 201).Decode(t, &tgt)
	s.targetID = tgt.ID
	return s
}

// createIssuer makes an http01test issuer that validates at addr.
func (s *http01Setup) createIssuer(t *testing.T, addr string) {
	t.Helper()
	var iss api.Issuer
	s.env.MustDo(t, "POST", "/api/v1/issuers", s.env.AdminKey, api.IssuerRequest{Name: "acme-like", Type: "http01test",
		Config: map[string]any{"validation_address": addr}}, 201).Decode(t, &iss)
	s.issuerID = iss.ID
}

func (s *http01Setup) createCertificate(t *testing.T, commonName string, sans ...string) api.Certificate {
	t.Helper()
	var cert api.Certificate
	s.env.MustDo(t, "POST", "/api/v1/certificates", s.env.AdminKey, api.CertificateRequest{Name: "site", CommonName: commonName, SANs: sans,
		IssuerID: s.issuerID, TargetIDs: []string{s.targetID}}, 201).Decode(t, &cert)
	if cert.KeyMode != "agent" {
		t.Fatalf("key mode %q, want agent", cert.KeyMode)
	}
	return cert
}

func (s *http01Setup) version(t *testing.T, certID string) api.CertificateVersion {
	t.Helper()
	var vs api.List[api.CertificateVersion]
	s.env.MustDo(t, "GET", "/api/v1/certificates/"+certID+"/versions", s.env.AdminKey, nil, 200).Decode(t, &vs)
	if len(vs.Items) == 0 {
		return api.CertificateVersion{}
	}
	return vs.Items[0]
}

// checkServed waits until NGINX serves the certificate's current version,
// then checks that its chain (the test issuer's CA) verifies it.
func (s *http01Setup) checkServed(t *testing.T, certID, previousSerial string) api.CertificateVersion {
	t.Helper()
	v := s.waitServed(t, certID, previousSerial, 20*time.Second)
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(v.ChainPEM)) {
		t.Fatalf("version chain holds no certificate: %q", v.ChainPEM)
	}
	verifyVersion(t, v, roots, "localhost")
	return v
}

// waitServed waits until NGINX serves a version of the certificate other
// than previousSerial, and returns it.
func (s *http01Setup) waitServed(t *testing.T, certID, previousSerial string, limit time.Duration) api.CertificateVersion {
	t.Helper()
	var v api.CertificateVersion
	eventuallyWithin(t, s.env, limit, "nginx to serve the certificate issued through HTTP-01", func() bool {
		v = s.version(t, certID)
		return v.SerialNumber != "" && v.SerialNumber != previousSerial && servedSerial(t, s.site.tlsAddr) == v.SerialNumber
	})
	return v
}

// verifyVersion checks that a version's certificate verifies for name
// against roots, through the intermediates of its chain.
func verifyVersion(t *testing.T, v api.CertificateVersion, roots *x509.CertPool, name string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(v.CertificatePEM))
	if block == nil {
		t.Fatalf("version %s has no PEM certificate", v.ID)
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	inter := x509.NewCertPool()
	inter.AppendCertsFromPEM([]byte(v.ChainPEM))
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: name}); err != nil {
		t.Errorf("the issued certificate does not verify for %s: %v", name, err)
	}
	return leaf
}

// checkCleanedUp waits until no challenge file is left in the webroot and
// the agent's record of challenges is empty.
func (s *http01Setup) checkCleanedUp(t *testing.T) {
	t.Helper()
	dir := filepath.Join(s.site.webroot, ".well-known", "acme-challenge")
	eventually(t, s.env, "the challenge files to be removed", func() bool {
		entries, err := os.ReadDir(dir)
		return (err == nil || os.IsNotExist(err)) && len(entries) == 0
	})
	eventually(t, s.env, "the agent's record of challenges to be empty", func() bool {
		return len(s.recordedChallenges(t)) == 0
	})
}

// The agent presents the HTTP-01 challenge through NGINX's webroot: the
// issuer fetches it from NGINX with a real GET before it issues, the
// certificate is deployed to NGINX, and the challenge file goes afterwards.
// A renewal does it all again with new tokens.
func TestHTTP01ThroughNginxWebroot(t *testing.T) {
	s := startHTTP01Setup(t, serverPluginsWithTestIssuer(t), func(c *agent.Config, site nginxSite) {
		c.HTTP01Webroot = site.webroot
	})
	s.createIssuer(t, s.site.httpAddr)
	cert := s.createCertificate(t, "localhost")
	first := s.checkServed(t, cert.ID, "")
	s.checkCleanedUp(t)
	log, _ := os.ReadFile(s.site.accessLog)
	if n := strings.Count(string(log), "GET /.well-known/acme-challenge/"); n != 1 {
		t.Errorf("nginx served %d challenge requests, want 1:\n%s", n, log)
	}
	if strings.Contains(string(log), "\" 404 ") {
		t.Errorf("nginx answered a challenge request with 404:\n%s", log)
	}

	s.env.MustDo(t, "POST", "/api/v1/certificates/"+cert.ID+"/renew", s.env.AdminKey, nil, 202)
	s.checkServed(t, cert.ID, first.SerialNumber)
	s.checkCleanedUp(t)
	log, _ = os.ReadFile(s.site.accessLog)
	if n := strings.Count(string(log), "GET /.well-known/acme-challenge/"); n != 2 {
		t.Errorf("after the renewal nginx served %d challenge requests, want 2:\n%s", n, log)
	}
}

// On a host where nothing serves port 80, the agent's own temporary
// listener answers the CA, and closes when the order is done.
func TestHTTP01ThroughAgentListener(t *testing.T) {
	listen := fmt.Sprintf("127.0.0.1:%d", acmetest.FreePort(t))
	s := startHTTP01Setup(t, serverPluginsWithTestIssuer(t), func(c *agent.Config, _ nginxSite) {
		c.HTTP01Listen = listen
	})
	s.createIssuer(t, listen)
	cert := s.createCertificate(t, "localhost")
	s.checkServed(t, cert.ID, "")
	eventually(t, s.env, "the listener to close", func() bool {
		return strings.Contains(s.agentLogs.String(), "HTTP-01 listener closed")
	})
	if !strings.Contains(s.agentLogs.String(), "HTTP-01 challenge fetched") {
		t.Errorf("the agent's listener did not serve the challenge:\n%s", s.agentLogs.String())
	}
	if c, err := net.DialTimeout("tcp", listen, 5*time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after the order", listen)
	}
}

// An agent set up for neither fails the issuance with what to set, and
// the job does not hang.
func TestHTTP01AgentNotConfigured(t *testing.T) {
	s := startHTTP01Setup(t, serverPluginsWithTestIssuer(t), func(*agent.Config, nginxSite) {})
	s.createIssuer(t, s.site.httpAddr)
	cert := s.createCertificate(t, "localhost")
	var job api.Job
	eventually(t, s.env, "the issuance to fail", func() bool {
		var jobs api.List[api.Job]
		s.env.MustDo(t, "GET", "/api/v1/jobs?certificate_id="+cert.ID, s.env.AdminKey, nil, 200).Decode(t, &jobs)
		for _, j := range jobs.Items {
			if j.Kind == "issue" && j.State == "failed" {
				job = j
				return true
			}
		}
		return false
	})
	for _, want := range []string{"CERTCTL_HTTP01_WEBROOT", "CERTCTL_HTTP01_LISTEN", "localhost"} {
		if !strings.Contains(job.LastError, want) {
			t.Errorf("the job's error does not say %q: %s", want, job.LastError)
		}
	}
}

// A challenge report lost on the way (the proxy in front of the server
// answers the first ones 502) is kept and sent again: the job does not
// stay waiting for it.
func TestHTTP01LostReportIsSentAgain(t *testing.T) {
	var dropped atomic.Int32
	s := startHTTP01Setup(t, serverPluginsWithTestIssuer(t), func(c *agent.Config, site nginxSite) {
		c.HTTP01Webroot = site.webroot
		target, err := url.Parse(c.ServerURL)
		if err != nil {
			t.Fatal(err)
		}
		proxy := httputil.NewSingleHostReverseProxy(target)
		proxy.ErrorLog = log.New(io.Discard, "", 0) // long polls cut at the test's end
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/challenges") && dropped.Load() < 2 {
				dropped.Add(1)
				http.Error(w, "bad gateway", http.StatusBadGateway)
				return
			}
			proxy.ServeHTTP(w, r)
		}))
		t.Cleanup(front.Close)
		c.ServerURL = front.URL
	})
	s.createIssuer(t, s.site.httpAddr)
	cert := s.createCertificate(t, "localhost")
	s.checkServed(t, cert.ID, "")
	s.checkCleanedUp(t)
	if dropped.Load() != 2 {
		t.Errorf("%d challenge reports dropped, want 2", dropped.Load())
	}
	if !strings.Contains(s.agentLogs.String(), "report kept for later") {
		t.Errorf("the agent did not keep the lost report:\n%s", s.agentLogs.String())
	}
}

// An agent restarted between its report of a challenge and the CA's fetch
// does not fail the order: stopped (SIGTERM), it closes its listener but
// leaves its webroot file; killed (SIGKILL), it leaves it too; either way
// the certctl-agent binary started again serves every challenge it had
// presented (file kept or rewritten, listener reopened), the CA's fetch
// gets it, the certificate is issued and deployed, and the cleanup then
// removes it. The test holds the CA's fetch back: the server's jobs run
// only when the test runs them.
func TestHTTP01AgentStoppedMidOrder(t *testing.T) {
	t.Run("webroot", func(t *testing.T) { testRestartMidOrder(t, syscall.SIGTERM, false, false) })
	t.Run("listener", func(t *testing.T) { testRestartMidOrder(t, syscall.SIGTERM, true, false) })
}

func TestHTTP01AgentKilledMidOrder(t *testing.T) {
	t.Run("webroot", func(t *testing.T) { testRestartMidOrder(t, syscall.SIGKILL, false, false) })
	t.Run("listener", func(t *testing.T) { testRestartMidOrder(t, syscall.SIGKILL, true, false) })
}

// testRestartMidOrder stops the agent with sig between its report and the
// CA's fetch, through NGINX's webroot or the agent's listener, with the
// test issuer or (withPebble) the ACME issuer against Pebble.
func testRestartMidOrder(t *testing.T, sig syscall.Signal, listener, withPebble bool) {
	listen := ""
	if listener {
		listen = fmt.Sprintf("127.0.0.1:%d", acmetest.FreePort(t))
	}
	plugins := ""
	if withPebble {
		plugins = serverPlugins(t, "issuer/acme")
	} else {
		plugins = serverPluginsWithTestIssuer(t)
	}
	s := startHTTP01Setup(t, plugins, func(c *agent.Config, site nginxSite) {
		c.HTTP01Webroot, c.HTTP01Listen = site.webroot, listen
		if listener {
			c.HTTP01Webroot = ""
		}
	})
	s.stopAgent() // enrolled; from here the binary runs with its credential
	bin := buildAgent(t)
	start := func(logs *lockedBuffer) *exec.Cmd {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "CERTCTL_SERVER_URL="+s.env.URL, "CERTCTL_AGENT_STATE_DIR="+s.stateDir,
			"CERTCTL_KEY_DIR="+s.agentConfig.KeyDir, "CERTCTL_PLUGIN_DIR="+pluginDir, "CERTCTL_LOG_LEVEL=debug")
		if listener {
			cmd.Env = append(cmd.Env, "CERTCTL_HTTP01_LISTEN="+listen)
		} else {
			cmd.Env = append(cmd.Env, "CERTCTL_HTTP01_WEBROOT="+s.site.webroot)
		}
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	var firstLogs, secondLogs lockedBuffer
	first := start(&firstLogs)

	validateAt := s.site.httpAddr
	if listener {
		validateAt = listen
	}
	name, checkIssued := "localhost", func(certID string) { s.checkServed(t, certID, "") }
	if withPebble {
		_, port, err := net.SplitHostPort(validateAt)
		if err != nil {
			t.Fatal(err)
		}
		httpPort, _ := strconv.Atoi(port)
		pebble := acmetest.StartPebble(t, acmetest.PebbleOptions{HTTPPort: httpPort, AuthzReusePercent: -1})
		s.createACMEIssuer(t, pebble)
		name = uniqueName()
		checkIssued = func(certID string) {
			verifyVersion(t, s.waitServed(t, certID, "", 2*time.Minute), pebble.Roots(t, 0), name)
		}
	} else {
		s.createIssuer(t, validateAt)
	}
	cert := s.createCertificate(t, name)
	c := s.runUntilPresented(t, cert.ID)
	challengeURL := "http://" + validateAt + "/.well-known/acme-challenge/" + c.Token
	file := filepath.Join(s.site.webroot, ".well-known", "acme-challenge", c.Token)

	if err := first.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	err := first.Wait()
	if sig == syscall.SIGTERM && err != nil {
		t.Fatalf("the agent stopped with SIGTERM exited with %v:\n%s", err, firstLogs.String())
	}
	if listener {
		if status, _ := fetch(challengeURL); status != 0 {
			t.Fatalf("the stopped agent's listener still answers: %d", status)
		}
	} else {
		// The file stays, and NGINX serves it while the agent is down.
		if status, body := fetch(challengeURL); status != 200 || body != c.KeyAuthorization {
			t.Fatalf("with the agent down, NGINX answers the challenge with %d %q, want the key authorization", status, body)
		}
		// Removed by someone meanwhile, it is the restarted agent that
		// must put it back.
		if err := os.Remove(file); err != nil {
			t.Fatal(err)
		}
	}

	start(&secondLogs)
	// No server job runs until the agent serves it again (eventually would
	// run them, and the CA's fetch with them).
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(secondLogs.String(), "serving again the HTTP-01 challenges an earlier run presented") {
		if time.Now().After(deadline) {
			t.Fatalf("the restarted agent did not say it serves the earlier challenges again:\n%s", secondLogs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for {
		status, body := fetch(challengeURL)
		if status == 200 && body == c.KeyAuthorization {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the restarted agent does not serve the challenge at %s (%d %q):\n%s", challengeURL, status, body,
				secondLogs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Now the CA fetches it: the order succeeds, and the challenge goes.
	checkIssued(cert.ID)
	s.checkCleanedUp(t)
	if listener {
		if !strings.Contains(secondLogs.String(), "HTTP-01 challenge fetched") {
			t.Errorf("the restarted agent's listener did not serve the CA:\n%s", secondLogs.String())
		}
		eventually(t, s.env, "the listener to close", func() bool {
			status, _ := fetch(challengeURL)
			return status == 0
		})
	}
	if job := s.issueJob(t, cert.ID); job.State != "succeeded" {
		t.Errorf("the issue job is %s: %s", job.State, job.LastError)
	}
}

// fetch GETs url as the CA would and returns the status and body; status
// 0 when nothing answers.
func fetch(url string) (int, string) {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// buildAgent builds the certctl-agent binary.
func buildAgent(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "certctl-agent")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/certctl-agent").CombinedOutput(); err != nil {
		t.Fatalf("build certctl-agent: %v\n%s", err, out)
	}
	return bin
}

// issueJob returns the certificate's issue job.
func (s *http01Setup) issueJob(t *testing.T, certID string) api.Job {
	t.Helper()
	var jobs api.List[api.Job]
	s.env.MustDo(t, "GET", "/api/v1/jobs?certificate_id="+certID, s.env.AdminKey, nil, 200).Decode(t, &jobs)
	for _, j := range jobs.Items {
		if j.Kind == "issue" {
			return j
		}
	}
	t.Fatal("no issue job")
	return api.Job{}
}

// recordedChallenge is an entry of the agent's record of the challenges
// it serves (<state-dir>/http01-challenges.json).
type recordedChallenge struct {
	JobID            string `json:"job_id"`
	Token            string `json:"token"`
	KeyAuthorization string `json:"key_authorization"`
}

// recordedChallenges reads the agent's record.
func (s *http01Setup) recordedChallenges(t *testing.T) []recordedChallenge {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.stateDir, "http01-challenges.json"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Challenges []recordedChallenge `json:"challenges"`
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatalf("the agent's record %s: %v", b, err)
	}
	return rec.Challenges
}

// runUntilPresented runs the certificate's issue job until it waits for
// the agent's challenge, and no further: the agent presents it and
// reports, and the job is queued again but not run, so the CA has not
// fetched it. (A job with an order is queued again only by the agent's
// report.) It returns the challenge, as the agent records it.
func (s *http01Setup) runUntilPresented(t *testing.T, certID string) recordedChallenge {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for the agent to present the challenge")
		}
		j := s.issueJob(t, certID)
		switch {
		case j.State == "succeeded" || j.State == "failed":
			t.Fatalf("the job ended before the test stopped the agent: %+v", j)
		case j.OrderID != "" && j.State == "queued":
			rec := s.recordedChallenges(t)
			if len(rec) != 1 || rec[0].JobID != j.ID {
				t.Fatalf("the agent reported a challenge and records %+v", rec)
			}
			return rec[0]
		case j.State != "waiting":
			// One round of the jobs due now, not RunJobs (rounds until none
			// is due): once the agent reports, the job is due again, and a
			// second round would have the CA fetch the challenge.
			if _, err := s.env.Service.NewWorker(service.WorkerOptions{Owner: "apitest"}).RunOnce(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}
