package agent_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certctl/certctl/agent"
	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/acmetest"
	"github.com/certctl/certctl/server/apitest"
)

// lockedBuffer collects log output from concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// selfSigned writes a throwaway certificate and key for nginx's first start.
func selfSigned(t *testing.T, certPath, keyPath string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bootstrap"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startNginx runs a real nginx with TLS on a loopback port; it returns the
// config path, the files it serves, and the address.
func startNginx(t *testing.T) (conf, certPath, keyPath, addr string) {
	t.Helper()
	n := runNginx(t, false)
	return n.conf, n.cert, n.key, n.tlsAddr
}

// nginxSite is a running nginx: its config, the certificate and key files
// of its TLS server, and, when asked for, a plain HTTP server on port 80's
// loopback stand-in that serves /.well-known/acme-challenge/ from webroot
// (as a site set up for certctl's HTTP-01 webroot would) and logs its
// requests to accessLog.
type nginxSite struct {
	conf, cert, key, tlsAddr     string
	httpAddr, webroot, accessLog string
}

func runNginx(t *testing.T, http01 bool) nginxSite {
	t.Helper()
	if _, err := exec.LookPath("nginx"); err != nil {
		t.Fatal("nginx is not installed: apt-get install nginx (.ci/run installs it)")
	}
	dir := t.TempDir()
	n := nginxSite{cert: filepath.Join(dir, "site.crt"), key: filepath.Join(dir, "site.key"),
		tlsAddr: fmt.Sprintf("127.0.0.1:%d", acmetest.FreePort(t)), conf: filepath.Join(dir, "nginx.conf")}
	selfSigned(t, n.cert, n.key)
	httpServer := ""
	if http01 {
		n.httpAddr, n.webroot, n.accessLog = fmt.Sprintf("127.0.0.1:%d", acmetest.FreePort(t)), filepath.Join(dir, "www"), filepath.Join(dir, "access.log")
		if err := os.Mkdir(n.webroot, 0o755); err != nil {
			t.Fatal(err)
		}
		httpServer = fmt.Sprintf(`
  server {
    listen %s;
    access_log %s;
    location /.well-known/acme-challenge/ { root %s; default_type text/plain; }
    location / { return 404; }
  }`, n.httpAddr, n.accessLog, n.webroot)
	}
	cfg := fmt.Sprintf(`daemon on;
user root;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  server {
    listen %[2]s ssl;
    ssl_certificate %[3]s;
    ssl_certificate_key %[4]s;
    location / { return 200 "ok"; }
  }%[5]s
}
`, dir, n.tlsAddr, n.cert, n.key, httpServer)
	if err := os.WriteFile(n.conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("nginx", "-c", n.conf).CombinedOutput(); err != nil {
		t.Fatalf("start nginx: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("nginx", "-c", n.conf, "-s", "quit").Run() })
	return n
}

// servedSerial does a TLS handshake and returns the served leaf's serial.
func servedSerial(t *testing.T, addr string) string {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		return ""
	}
	defer conn.Close()
	return strings.ToLower(conn.ConnectionState().PeerCertificates[0].SerialNumber.Text(16))
}

// receiver counts webhook deliveries by event.
type receiver struct {
	url    string
	mu     sync.Mutex
	events map[string]int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{events: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.events[req.Header.Get("X-Certctl-Event")]++
		r.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

func (r *receiver) count(event string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.events[event]
}

func TestEndToEndWithNginx(t *testing.T) {
	var serverLogs, agentLogs lockedBuffer
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir, AgentHub: true,
		Logger: slog.New(slog.NewTextHandler(&serverLogs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	conf, certPath, keyPath, addr := startNginx(t)

	var tok api.EnrollmentToken
	env.MustDo(t, "POST", "/api/v1/enrollment-tokens", env.AdminKey, api.EnrollmentTokenRequest{AgentName: "web-1"}, 201).Decode(t, &tok)
	state := t.TempDir()
	cfg := agent.Config{ServerURL: env.URL, Token: tok.Token, StateDir: state, KeyDir: filepath.Join(state, "keys"),
		PluginDir: pluginDir, HeartbeatInterval: time.Second, PollWait: 5 * time.Second}
	ctxAgent := slog.New(slog.NewTextHandler(&agentLogs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := agent.New(t.Context(), cfg, ctxAgent)
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
	env.MustDo(t, "POST", "/api/v1/targets", env.AdminKey, api.TargetRequest{Name: "nginx-1", Type: "nginx", AgentID: &agents.Items[0].ID,
		Config: map[string]any{"certificate_path": certPath, "key_path": keyPath,
			"validate_command": []any{"nginx", "-t", "-c", conf}, "reload_command": []any{"nginx", "-c", conf, "-s", "reload"},
			"verify_address": addr}}, 201).Decode(t, &tgt)
	var cert api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "site", CommonName: "localhost",
		SANs: []string{"127.0.0.1"}, IssuerID: iss.ID, TargetIDs: []string{tgt.ID}}, 201).Decode(t, &cert)

	version := func() api.CertificateVersion {
		var vs api.List[api.CertificateVersion]
		env.MustDo(t, "GET", "/api/v1/certificates/"+cert.ID+"/versions", env.AdminKey, nil, 200).Decode(t, &vs)
		if len(vs.Items) == 0 {
			return api.CertificateVersion{}
		}
		return vs.Items[0]
	}
	eventually(t, env, "nginx to serve the issued certificate", func() bool {
		v := version()
		return v.SerialNumber != "" && servedSerial(t, addr) == v.SerialNumber
	})
	first := version()
	eventually(t, env, "the deployment to be reported verified", func() bool {
		var deps api.List[api.Deployment]
		env.MustDo(t, "GET", "/api/v1/certificates/"+cert.ID+"/deployments", env.AdminKey, nil, 200).Decode(t, &deps)
		return len(deps.Items) == 1 && deps.Items[0].Status == "succeeded" && deps.Items[0].VerifiedAt != nil
	})

	// A forced renewal: a new key on the agent, a new serial served.
	env.MustDo(t, "POST", "/api/v1/certificates/"+cert.ID+"/renew", env.AdminKey, nil, 202)
	eventually(t, env, "nginx to serve the renewed certificate", func() bool {
		v := version()
		return v.SerialNumber != first.SerialNumber && servedSerial(t, addr) == v.SerialNumber
	})
	if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("deployed key file mode: %v %v", fi, err)
	}

	// A broken NGINX configuration: the next deployment fails validation,
	// the files are restored, NGINX keeps serving the current certificate,
	// and the failure is reported and notified.
	second := version()
	var hook api.Notifier
	receiver := newReceiver(t)
	env.MustDo(t, "POST", "/api/v1/notifiers", env.AdminKey, api.NotifierRequest{Name: "ops", Type: "webhook",
		Config: map[string]any{"url": receiver.url}}, 201).Decode(t, &hook)
	env.MustDo(t, "POST", "/api/v1/notification-rules", env.AdminKey, map[string]any{"name": "deploys",
		"notifier_id": hook.ID, "events": []string{"deployment.failed"}}, 201)
	good, _ := os.ReadFile(conf)
	if err := os.WriteFile(conf, append(good, []byte("\nthis is not nginx syntax;\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	env.MustDo(t, "POST", "/api/v1/certificates/"+cert.ID+"/renew", env.AdminKey, nil, 202)
	var failed api.Deployment
	eventually(t, env, "the failed deployment to be reported", func() bool {
		var deps api.List[api.Deployment]
		env.MustDo(t, "GET", "/api/v1/certificates/"+cert.ID+"/deployments", env.AdminKey, nil, 200).Decode(t, &deps)
		if len(deps.Items) > 0 && deps.Items[0].Status == "failed" {
			failed = deps.Items[0]
			return true
		}
		return false
	})
	if !strings.Contains(failed.Message, "not nginx syntax") && !strings.Contains(failed.Message, "unknown directive") {
		t.Errorf("failure message lacks nginx's output: %q", failed.Message)
	}
	if got := servedSerial(t, addr); got != second.SerialNumber {
		t.Errorf("after the failed deployment nginx serves %s, want the previous %s", got, second.SerialNumber)
	}
	eventually(t, env, "the deployment.failed notification to arrive", func() bool { return receiver.count("deployment.failed") == 1 })
	if err := os.WriteFile(conf, good, 0o644); err != nil {
		t.Fatal(err)
	}

	// The private keys never reached the server: not in its database, not in
	// its logs, not in the agent's logs.
	deployedKey, _ := os.ReadFile(keyPath)
	block, _ := pem.Decode(deployedKey)
	keyBody := strings.Split(strings.TrimSpace(string(deployedKey)), "\n")[1] // a line of the key's base64
	for name, logs := range map[string]string{"server": serverLogs.String(), "agent": agentLogs.String()} {
		if strings.Contains(logs, "PRIVATE KEY") || strings.Contains(logs, keyBody) {
			t.Errorf("the %s log contains key material", name)
		}
	}
	var leaks int
	if err := env.Pool.QueryRow(t.Context(), `SELECT
		(SELECT count(*) FROM certificate_versions WHERE private_key_enc IS NOT NULL OR certificate_pem LIKE '%PRIVATE%') +
		(SELECT count(*) FROM jobs WHERE payload::text LIKE '%'||$1||'%') +
		(SELECT count(*) FROM audit_events WHERE details::text LIKE '%'||$1||'%') +
		(SELECT count(*) FROM deployments WHERE metadata::text LIKE '%'||$1||'%' OR message LIKE '%'||$1||'%')`,
		keyBody).Scan(&leaks); err != nil {
		t.Fatal(err)
	}
	if leaks != 0 || block == nil {
		t.Errorf("the database holds key material (%d rows)", leaks)
	}
}
