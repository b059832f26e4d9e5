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

// nginxServer is a real nginx, started by the test in the foreground on
// a loopback port, with its configuration, pid file, logs and temporary
// directories under the test's temporary directory.
type nginxServer struct {
	*servertest.Server
	dir, conf, addr string
	cert, key       string
	reloads         string // one line per run of the reload command
}

// startNginx writes a bootstrap certificate and a configuration serving
// it, and starts nginx.
func startNginx(t *testing.T) *nginxServer {
	t.Helper()
	servertest.Require(t, "nginx")
	dir := t.TempDir()
	s := &nginxServer{dir: dir, conf: filepath.Join(dir, "nginx.conf"), addr: servertest.FreeAddr(t),
		cert: filepath.Join(dir, "ssl", "server.crt"), key: filepath.Join(dir, "ssl", "server.key"),
		reloads: filepath.Join(dir, "reloads")}
	if err := os.Mkdir(filepath.Join(dir, "ssl"), 0o755); err != nil {
		t.Fatal(err)
	}
	servertest.WriteBootstrap(t, s.cert, "", s.key, "")
	// As root, nginx's workers run as the user named here; root keeps
	// the test's private temporary directory readable for them.
	conf := fmt.Sprintf(`daemon off;
master_process on;
user root;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log notice;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    server {
        listen %[2]s ssl;
        server_name localhost;
        ssl_certificate %[3]s;
        ssl_certificate_key %[4]s;
        location / { return 200 "ok\n"; }
    }
}
`, dir, s.addr, s.cert, s.key)
	if err := os.WriteFile(s.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Server = servertest.Start(t, filepath.Join(dir, "nginx.out"), s.addr, s.nginx()...)
	return s
}

// nginx is the command line for this server's nginx; -e keeps nginx away
// from the system's log directory before it has read the configuration.
func (s *nginxServer) nginx(args ...string) []string {
	return append([]string{"nginx", "-e", filepath.Join(s.dir, "error.log"), "-c", s.conf}, args...)
}

// config deploys to this server: nginx -t, and nginx -s reload counted.
func (s *nginxServer) config() plugin.Config {
	validate := []any{}
	for _, a := range s.nginx("-t") {
		validate = append(validate, a)
	}
	return plugin.Config{
		"certificate_path": s.cert,
		"key_path":         s.key,
		"validate_command": validate,
		"reload_command":   servertest.Counting(s.reloads, s.nginx("-s", "reload")...),
		"verify_address":   s.addr,
		"verify_timeout":   "15s",
		"command_timeout":  "20s",
	}
}

// breakConfig adds an unknown directive, which nginx -t refuses.
func (s *nginxServer) breakConfig(t *testing.T) (repair func()) {
	t.Helper()
	orig, err := os.ReadFile(s.conf)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(orig), "worker_processes 1;", "worker_processes 1;\ncertctl_broken_directive on;", 1)
	if err := os.WriteFile(s.conf, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := os.WriteFile(s.conf, orig, 0o644); err != nil {
			t.Error(err)
		}
	}
}
