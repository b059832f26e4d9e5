package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// runNginx measures what an operator waits for: from a renewal asked
// through the API until NGINX serves the new certificate. A real server
// (embedded PostgreSQL, defaults), a real certctl-agent enrolled with it,
// a real NGINX with one TLS port per certificate, and -nginx-certs
// certificates deployed there through nginx targets (agent key mode: the
// agent makes each key and sends a CSR). Each renewal is timed from the
// request until a TLS handshake on the certificate's port shows the new
// serial: first one at a time, then all at once. The agent's memory is
// read idle (enrolled, nothing deployed) and after the deployments, its
// own and its plugin processes' apart.
func runNginx(ctx context.Context, e *env) ([]row, error) {
	nginx, err := findNginx()
	if err != nil {
		return nil, err
	}
	srv, err := startServer(ctx, e)
	if err != nil {
		return nil, err
	}
	defer srv.stop(e)
	dir := filepath.Join(srv.dir, "nginx-step")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}

	// The agent, enrolled with a token of its own.
	tok, err := srv.api.CreateEnrollmentToken(ctx, api.EnrollmentTokenRequest{AgentName: "bench-agent", TTL: "1h"})
	if err != nil {
		return nil, fmt.Errorf("enrollment token: %w", err)
	}
	ag, err := startAgent(ctx, e, srv, dir, tok.Token)
	if err != nil {
		return nil, err
	}
	defer ag.stop(e)
	agentID, err := waitAgentOnline(ctx, srv.api, "bench-agent")
	if err != nil {
		return nil, err
	}
	if err := sleepCtx(ctx, e.cfg.idleSettle); err != nil {
		return nil, err
	}
	idle, err := readTreeMem(ag.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(e.out, "bench: agent idle (enrolled, nothing deployed): agent %s; its plugins %s\n", idle.self, idle.others)

	// NGINX with one TLS server per certificate, each serving a
	// throwaway certificate until the first deployment.
	n := e.cfg.nginxCerts
	ng, err := startNginx(ctx, e, nginx, filepath.Join(dir, "nginx"), n)
	if err != nil {
		return nil, err
	}
	defer ng.stop(ctx, e)

	local, err := srv.api.FindIssuer(ctx, "local")
	if err != nil {
		return nil, fmt.Errorf("the local issuer: %w", err)
	}
	certs := make([]string, n)
	t0 := time.Now()
	for i := range n {
		tgt, err := srv.api.CreateTarget(ctx, api.TargetRequest{Name: fmt.Sprintf("bench-nginx-%02d", i), Type: "nginx", AgentID: &agentID,
			Config: map[string]any{
				"certificate_path": ng.crt(i), "key_path": ng.key(i),
				"validate_command": []string{nginx, "-t", "-q", "-c", ng.conf},
				"reload_command":   []string{nginx, "-s", "reload", "-c", ng.conf},
				"verify_address":   ng.addrs[i],
			}})
		if err != nil {
			return nil, fmt.Errorf("create target %d: %w", i, err)
		}
		c, err := srv.api.CreateCertificate(ctx, api.CertificateRequest{Name: fmt.Sprintf("bench-site-%02d", i), CommonName: "localhost",
			SANs: []string{"127.0.0.1"}, IssuerID: local.ID, TargetIDs: []string{tgt.ID}})
		if err != nil {
			return nil, fmt.Errorf("create certificate %d: %w", i, err)
		}
		certs[i] = c.ID
	}
	// First deployments: every certificate declared, until each is served.
	first, err := servedAll(ctx, srv.api, ng, certs, nil)
	if err != nil {
		return nil, fmt.Errorf("first deployments: %w", err)
	}
	fmt.Fprintf(e.out, "bench: %d certificates declared and served by nginx %s after the first request (each: p50 %s, max %s)\n",
		n, time.Since(t0).Round(time.Millisecond), pct(first, 50).Round(time.Millisecond), pct(first, 100).Round(time.Millisecond))

	// Renewals one at a time: the latency of one, with nothing else to do.
	var serial []time.Duration
	for i := range n {
		d, err := renewAndWait(ctx, srv.api, ng, certs[i], i)
		if err != nil {
			return nil, fmt.Errorf("renewal of certificate %d: %w", i, err)
		}
		serial = append(serial, d)
		fmt.Fprintf(e.out, "bench: renewal %2d: served after %s\n", i, d.Round(time.Millisecond))
	}
	// Renewals all at once: the same, when they queue behind each other.
	burst, err := servedAll(ctx, srv.api, ng, certs, func(id string) error {
		_, err := srv.api.RenewCertificate(ctx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("renewals all at once: %w", err)
	}
	after, err := readTreeMem(ag.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(e.out, "bench: agent after %d deployments: agent %s; its plugins %s\n", 3*n, after.self, after.others)
	rows := []row{
		latencyRow(fmt.Sprintf("certificate declared → served by NGINX, %d at once (issued from the agent's CSR, deployed, reloaded)", n), first),
		latencyRow(fmt.Sprintf("renewal requested → served by NGINX, one at a time (%d certificates, agent key)", n), serial),
		latencyRow(fmt.Sprintf("renewal requested → served by NGINX, %d at once", n), burst),
		agentMemRow("agent memory idle (enrolled, nothing deployed)", idle),
		agentMemRow(fmt.Sprintf("agent memory after %d deployments to NGINX", 3*n), after),
	}
	return rows, nil
}

func latencyRow(name string, d []time.Duration) row {
	msf := func(p float64) float64 { return float64(pct(d, p).Microseconds()) / 1000 }
	return row{figure: name, unit: "ms p50 / p99", value: num(msf(50)) + " / " + num(msf(99))}
}

func agentMemRow(name string, t treeMem) row {
	return row{figure: name + ": the agent / its target plugins (" + strconv.Itoa(t.others.procs) + " processes)", unit: "MiB PSS (RSS)",
		value: fmt.Sprintf("%s (%s) / %s (%s)", num(toMiB(t.self.pss)), num(toMiB(t.self.rss)), num(toMiB(t.others.pss)), num(toMiB(t.others.rss)))}
}

// pct is the p-th percentile of sorted durations (nearest rank).
func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(p/100*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

// renewAndWait asks for a renewal of certificate id and times it until
// port i serves a serial other than the one it served before, then checks
// that this is the serial of the certificate's current version.
func renewAndWait(ctx context.Context, c *client.Client, ng *nginxProc, id string, i int) (time.Duration, error) {
	old, err := servedSerial(ctx, ng.addrs[i])
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	if _, err := c.RenewCertificate(ctx, id); err != nil {
		return 0, err
	}
	got, err := waitServed(ctx, ng.addrs[i], func(s *big.Int) bool { return s.Cmp(old) != 0 })
	if err != nil {
		return 0, err
	}
	d := time.Since(t0)
	return d, checkCurrent(ctx, c, id, got)
}

// servedAll starts something for every certificate at once (start nil:
// nothing, they were just declared) and times each until its port serves
// a new serial that is its current version's.
func servedAll(ctx context.Context, c *client.Client, ng *nginxProc, ids []string, start func(id string) error) ([]time.Duration, error) {
	olds := make([]*big.Int, len(ids))
	for i := range ids {
		s, err := servedSerial(ctx, ng.addrs[i])
		if err != nil {
			return nil, err
		}
		olds[i] = s
	}
	t0 := time.Now()
	out := make([]time.Duration, len(ids))
	var wg sync.WaitGroup
	errs := make([]error, len(ids))
	for i, id := range ids {
		wg.Go(func() {
			if start != nil {
				if err := start(id); err != nil {
					errs[i] = err
					return
				}
			}
			got, err := waitServed(ctx, ng.addrs[i], func(s *big.Int) bool { return s.Cmp(olds[i]) != 0 })
			if err != nil {
				errs[i] = err
				return
			}
			out[i] = time.Since(t0)
			errs[i] = checkCurrent(ctx, c, id, got)
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// checkCurrent insists that serial is that of the certificate's current
// version: what NGINX serves is what the API says was issued.
func checkCurrent(ctx context.Context, c *client.Client, id string, serial *big.Int) error {
	crt, err := c.GetCertificate(ctx, id)
	if err != nil {
		return err
	}
	if crt.CurrentVersionID == nil {
		return fmt.Errorf("certificate %s has no current version", id)
	}
	v, err := c.GetCertificateVersion(ctx, id, *crt.CurrentVersionID)
	if err != nil {
		return err
	}
	want, ok := new(big.Int).SetString(strings.ReplaceAll(v.SerialNumber, ":", ""), 16)
	if !ok || want.Cmp(serial) != 0 {
		return fmt.Errorf("nginx serves serial %x, the current version of %s is %s", serial, id, v.SerialNumber)
	}
	return nil
}

// waitServed polls addr with TLS handshakes until the served serial
// satisfies ok, for at most two minutes.
func waitServed(ctx context.Context, addr string, ok func(*big.Int) bool) (*big.Int, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		s, err := servedSerial(ctx, addr)
		if err == nil && ok(s) {
			return s, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s did not serve the new certificate within 2 minutes (last error: %v)", addr, err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// servedSerial is the serial of the certificate addr presents.
func servedSerial(ctx context.Context, addr string) (*big.Int, error) {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 2 * time.Second},
		// Only the serial is read; what matters is which certificate is served, not whether it is trusted.
		Config: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // reading the served serial only
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s presented no certificate", addr)
	}
	return certs[0].SerialNumber, nil
}

// agentProc is a running certctl-agent.
type agentProc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func startAgent(ctx context.Context, e *env, srv *server, dir, token string) (*agentProc, error) {
	bin := filepath.Join(e.bin, "certctl-agent")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s is missing: run make build: %w", bin, err)
	}
	a := &agentProc{log: filepath.Join(dir, "agent.log"), done: make(chan struct{})}
	logf, err := os.Create(a.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	a.cmd = exec.Command(bin)
	a.cmd.Env = append(os.Environ(), "CERTCTL_SERVER_URL="+srv.url, "CERTCTL_AGENT_TOKEN="+token,
		"CERTCTL_AGENT_STATE_DIR="+filepath.Join(dir, "agent"), "CERTCTL_PLUGIN_DIR="+filepath.Join(e.bin, "plugins"))
	a.cmd.Stdout, a.cmd.Stderr = logf, logf
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := a.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the agent: %w", err)
	}
	go func() { _ = a.cmd.Wait(); close(a.done) }()
	fmt.Fprintf(e.out, "bench: agent pid %d\n", a.cmd.Process.Pid)
	return a, nil
}

func (a *agentProc) stop(e *env) {
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
		<-a.done
	}
	printProblems(e, a.log, "agent")
}

func waitAgentOnline(ctx context.Context, c *client.Client, name string) (string, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		a, err := c.FindAgent(ctx, name)
		if err == nil && a.Status == "online" {
			return a.ID, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("the agent %s was not online within a minute (last: %v)", name, err)
		}
		if err := sleepCtx(ctx, 200*time.Millisecond); err != nil {
			return "", err
		}
	}
}

// nginxProc is NGINX with its own configuration: one TLS server per
// certificate on loopback ports.
type nginxProc struct {
	bin, dir, conf string
	addrs          []string
}

func (n *nginxProc) crt(i int) string { return filepath.Join(n.dir, fmt.Sprintf("site-%02d.crt", i)) }
func (n *nginxProc) key(i int) string { return filepath.Join(n.dir, fmt.Sprintf("site-%02d.key", i)) }

func findNginx() (string, error) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil { // Debian keeps it there, off a user's PATH
		return "/usr/sbin/nginx", nil
	}
	return "", errors.New("nginx is not installed (apt-get install nginx)")
}

func startNginx(ctx context.Context, e *env, bin, dir string, n int) (*nginxProc, error) {
	ng := &nginxProc{bin: bin, dir: dir, conf: filepath.Join(dir, "nginx.conf")}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return nil, err
	}
	var servers strings.Builder
	for i := range n {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		ng.addrs = append(ng.addrs, addr)
		if err := bootstrapCert(ng.crt(i), ng.key(i)); err != nil {
			return nil, err
		}
		fmt.Fprintf(&servers, "  server {\n    listen %s ssl;\n    ssl_certificate %s;\n    ssl_certificate_key %s;\n    location / { return 200 \"ok\\n\"; }\n  }\n",
			addr, ng.crt(i), ng.key(i))
	}
	tmp := filepath.Join(dir, "tmp")
	conf := fmt.Sprintf(`pid %s;
error_log %s;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path %s; proxy_temp_path %s; fastcgi_temp_path %s; uwsgi_temp_path %s; scgi_temp_path %s;
%s}
`, filepath.Join(dir, "nginx.pid"), filepath.Join(dir, "error.log"), tmp, tmp, tmp, tmp, tmp, servers.String())
	if err := os.WriteFile(ng.conf, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	if out, err := exec.CommandContext(ctx, bin, "-c", ng.conf).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("start nginx: %w: %s", err, out)
	}
	fmt.Fprintf(e.out, "bench: nginx serving %d TLS ports from %s\n", n, ng.conf)
	return ng, nil
}

// stop asks NGINX to quit and waits until its master is gone.
func (n *nginxProc) stop(ctx context.Context, e *env) {
	pidData, _ := os.ReadFile(filepath.Join(n.dir, "nginx.pid"))
	_ = exec.CommandContext(context.WithoutCancel(ctx), n.bin, "-c", n.conf, "-s", "quit").Run()
	pid, err := strconv.Atoi(strings.TrimSpace(string(pidData)))
	if err != nil {
		return
	}
	for range 100 {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintf(e.out, "bench: nginx (pid %d) did not quit in 10 s; killing it\n", pid)
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// bootstrapCert writes a throwaway self-signed certificate and key, for
// NGINX to start with before the first deployment.
func bootstrapCert(crtPath, keyPath string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bootstrap"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(crtPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
}
