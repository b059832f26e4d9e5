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

// modulesDir is where Debian's apache2 package keeps its modules.
const modulesDir = "/usr/lib/apache2/modules"

// apacheServer is a real Apache httpd, started by the test in the
// foreground on a loopback port, with its configuration, pid file, logs
// and runtime directory under the test's temporary directory.
type apacheServer struct {
	*servertest.Server
	dir, conf, addr  string
	cert, chain, key string
	reloads          string // one line per run of the reload command
}

// startApache writes a bootstrap certificate and a configuration serving
// it, and starts Apache. With separateChain the chain is in a file of its
// own named by SSLCertificateChainFile; otherwise SSLCertificateFile
// holds the full chain.
func startApache(t *testing.T, separateChain bool) *apacheServer {
	t.Helper()
	servertest.Require(t, "apache2")
	dir := t.TempDir()
	s := &apacheServer{dir: dir, conf: filepath.Join(dir, "apache2.conf"), addr: servertest.FreeAddr(t),
		cert: filepath.Join(dir, "ssl", "server.crt"), key: filepath.Join(dir, "ssl", "server.key"),
		reloads: filepath.Join(dir, "reloads")}
	if separateChain {
		s.chain = filepath.Join(dir, "ssl", "chain.crt")
	}
	for _, d := range []string{"ssl", "run", "htdocs"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	servertest.WriteBootstrap(t, s.cert, s.chain, s.key, "")
	chainLine := ""
	if separateChain {
		chainLine = "SSLCertificateChainFile " + s.chain
	}
	// Apache reads certificates and keys in its parent process, as root;
	// its children run as nobody and need none of the test's files.
	conf := fmt.Sprintf(`ServerRoot %[1]s
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
LogLevel notice
DocumentRoot %[1]s/htdocs
SSLSessionCache shmcb:%[1]s/run/ssl_scache(512000)
SSLEngine on
SSLCertificateFile %[4]s
SSLCertificateKeyFile %[5]s
%[6]s
`, dir, s.addr, modulesDir, s.cert, s.key, chainLine)
	if err := os.WriteFile(s.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Server = servertest.Start(t, filepath.Join(dir, "apache2.out"), s.addr, s.apache("-DFOREGROUND")...)
	return s
}

// apache is the command line for this server's httpd.
func (s *apacheServer) apache(args ...string) []string {
	return append([]string{"apache2", "-f", s.conf}, args...)
}

// config deploys to this server: apache2 -t, and a counted graceful
// restart (what apachectl configtest and apachectl -k graceful run).
func (s *apacheServer) config() plugin.Config {
	validate := []any{}
	for _, a := range s.apache("-t") {
		validate = append(validate, a)
	}
	cfg := plugin.Config{
		"certificate_path": s.cert,
		"key_path":         s.key,
		"validate_command": validate,
		"reload_command":   servertest.Counting(s.reloads, s.apache("-k", "graceful")...),
		"verify_address":   s.addr,
		"verify_timeout":   "15s",
		"command_timeout":  "20s",
	}
	if s.chain != "" {
		cfg["chain_path"] = s.chain
	}
	return cfg
}

// breakConfig adds an unknown directive, which apache2 -t refuses.
func (s *apacheServer) breakConfig(t *testing.T) (repair func()) {
	t.Helper()
	orig, err := os.ReadFile(s.conf)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(orig), "LogLevel notice", "LogLevel notice\nCertctlBrokenDirective on", 1)
	if err := os.WriteFile(s.conf, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := os.WriteFile(s.conf, orig, 0o644); err != nil {
			t.Error(err)
		}
	}
}
