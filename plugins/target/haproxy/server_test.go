package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/plugins/target/internal/servertest"
	"github.com/certctl/certctl/sdk/plugin"
)

// haproxyServer is a real HAProxy in master-worker mode, started by the
// test in the foreground on a loopback port, with its configuration, pid
// file and combined PEM file under the test's temporary directory. It is
// reloaded as systemd reloads it: SIGUSR2 to the master, which re-reads
// the configuration and replaces its worker. (Daemon mode with -sf works
// the same for the plugin, but leaves the old processes to init, which
// does not reap them in every container.)
type haproxyServer struct {
	*servertest.Server
	dir, conf, addr, pem string
	pidFile              string
	reloads              string // one line per run of the reload command
}

// startHAProxy writes a bootstrap PEM file and a configuration serving
// it, and starts HAProxy.
func startHAProxy(t *testing.T) *haproxyServer {
	t.Helper()
	servertest.Require(t, "haproxy")
	dir := t.TempDir()
	s := &haproxyServer{dir: dir, conf: filepath.Join(dir, "haproxy.cfg"), addr: servertest.FreeAddr(t),
		pem: filepath.Join(dir, "certs", "server.pem"), pidFile: filepath.Join(dir, "haproxy.pid"),
		reloads: filepath.Join(dir, "reloads")}
	if err := os.Mkdir(filepath.Join(dir, "certs"), 0o755); err != nil {
		t.Fatal(err)
	}
	servertest.WriteBootstrap(t, "", "", "", s.pem)
	conf := fmt.Sprintf(`global
    maxconn 100

defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s

frontend tls
    bind %[1]s ssl crt %[2]s
    http-request return status 200 content-type text/plain string ok
`, s.addr, s.pem)
	if err := os.WriteFile(s.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Server = servertest.Start(t, filepath.Join(dir, "haproxy.out"), s.addr,
		"haproxy", "-W", "-db", "-f", s.conf, "-p", s.pidFile)
	return s
}

// config deploys to this server: haproxy -c, and a counted SIGUSR2 to the
// master.
func (s *haproxyServer) config() plugin.Config {
	return plugin.Config{
		"pem_path":         s.pem,
		"validate_command": []any{"haproxy", "-c", "-f", s.conf},
		"reload_command":   servertest.Counting(s.reloads, "sh", "-c", `kill -USR2 "$(cat "$0")"`, s.pidFile),
		"verify_address":   s.addr,
		"verify_timeout":   "15s",
		"command_timeout":  "20s",
	}
}

// breakConfig adds an unknown keyword, which haproxy -c refuses.
func (s *haproxyServer) breakConfig(t *testing.T) (repair func()) {
	t.Helper()
	orig, err := os.ReadFile(s.conf)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(orig), "maxconn 100", "maxconn 100\n    certctl-broken-keyword on", 1)
	if err := os.WriteFile(s.conf, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := os.WriteFile(s.conf, orig, 0o644); err != nil {
			t.Error(err)
		}
	}
}
