package provider

// examples_test.go applies examples/complete as a user would: the built
// provider (bin/terraform-provider-certctl) installed with dev_overrides,
// the real terraform, a real agent (bin/certctl-agent) started by the
// configuration with an ephemeral enrollment token, and a real NGINX; then
// it checks with a TLS handshake that NGINX serves the serial Terraform
// reports.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/tools/doctest"
)

func TestExampleComplete(t *testing.T) {
	root := doctest.RepoRoot(t)
	for _, b := range []string{"terraform-provider-certctl", "certctl-agent"} {
		if _, err := os.Stat(filepath.Join(root, "bin", b)); err != nil {
			t.Fatalf("bin/%s is missing: run make build first: %v", b, err)
		}
	}
	nginxBin, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr != nil {
			t.Fatal("nginx is needed for this test (Debian: apt-get install nginx)")
		}
		nginxBin = "/usr/sbin/nginx"
	}
	// The working directory lives where the state scan looks.
	work, err := os.MkdirTemp(os.Getenv("TF_ACC_TEMP_DIR"), "example-complete-")
	if err != nil {
		t.Fatal(err)
	}
	cfgDir := filepath.Join(work, "config")
	copyDir(t, filepath.Join(root, "examples", "complete"), cfgDir)

	// Terraform finds the provider through dev_overrides (no registry here).
	cli := filepath.Join(work, "terraformrc")
	writeFile(t, cli, fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"certctl/certctl\" = %q\n  }\n  direct {}\n}\n",
		filepath.Join(root, "bin")))

	// A private NGINX with a placeholder certificate.
	nginxDir := filepath.Join(work, "nginx")
	addr := freeAddr(t)
	certPath, keyPath, conf := filepath.Join(nginxDir, "site.crt"), filepath.Join(nginxDir, "site.key"), filepath.Join(nginxDir, "nginx.conf")
	placeholderCert(t, certPath, keyPath)
	writeFile(t, conf, fmt.Sprintf(`pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events {}
http {
  access_log off;
  client_body_temp_path %[1]s/tmp; proxy_temp_path %[1]s/tmp;
  fastcgi_temp_path %[1]s/tmp; uwsgi_temp_path %[1]s/tmp; scgi_temp_path %[1]s/tmp;
  server {
    listen %[2]s ssl;
    ssl_certificate     %[3]s;
    ssl_certificate_key %[4]s;
    location / { return 200 "hello\n"; }
  }
}
`, nginxDir, addr, certPath, keyPath))
	if out, err := exec.Command(nginxBin, "-c", conf).CombinedOutput(); err != nil {
		t.Fatalf("start nginx: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(nginxBin, "-c", conf, "-s", "quit").Run() })

	agentDir := filepath.Join(work, "agent")
	t.Cleanup(func() { stopPidFile(filepath.Join(agentDir, "agent.pid")) })

	tf := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Getenv("TF_ACC_TERRAFORM_PATH"), append([]string{"-chdir=" + cfgDir}, args...)...)
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cli, "TF_IN_AUTOMATION=1",
			"PATH="+os.Getenv("PATH")+":/usr/sbin")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	vars := []string{
		"-var", "server_url=" + env.url,
		"-var", "agent_binary=" + filepath.Join(root, "bin", "certctl-agent"),
		"-var", "agent_state_dir=" + agentDir,
		"-var", "nginx_conf=" + conf,
		"-var", "certificate_path=" + certPath,
		"-var", "key_path=" + keyPath,
		"-var", "verify_address=" + addr,
	}
	if out, err := tf(append([]string{"apply", "-auto-approve", "-input=false", "-no-color"}, vars...)...); err != nil {
		t.Fatalf("terraform apply: %v\n%s\nagent log:\n%s", err, out, readFile(filepath.Join(agentDir, "agent.log")))
	}
	out, err := tf("output", "-raw", "serial_number")
	if err != nil {
		t.Fatalf("terraform output: %v\n%s", err, out)
	}
	served := servedSerial(t, addr)
	if !sameSerial(served, out) {
		t.Errorf("NGINX serves serial %s, Terraform says %s", served, out)
	}
	t.Logf("NGINX serves serial %s, the one Terraform reports", served)
	// Nothing left to do: the plan is empty.
	if out, err := tf(append([]string{"plan", "-detailed-exitcode", "-input=false", "-no-color"}, vars...)...); err != nil {
		t.Errorf("terraform plan after apply: %v (exit 2 means changes)\n%s", err, out)
	}
	if out, err := tf(append([]string{"destroy", "-auto-approve", "-input=false", "-no-color"}, vars...)...); err != nil {
		t.Fatalf("terraform destroy: %v\n%s", err, out)
	}
	if _, err := env.client.FindCertificate(context.Background(), "www"); err == nil {
		t.Error("certificate www still exists after destroy")
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") || strings.Contains(e.Name(), ".tfstate") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// freeAddr returns a loopback address with a port free at this moment.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func placeholderCert(t *testing.T, certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "placeholder"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, certPath, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyPath, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})))
}

// servedSerial returns the serial (hexadecimal) of the certificate served
// at addr.
func servedSerial(t *testing.T, addr string) string {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr,
		&tls.Config{InsecureSkipVerify: true}) //nolint:gosec // the serial is all that is read
	if err != nil {
		t.Fatalf("TLS handshake with %s: %v", addr, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Text(16)
}

// sameSerial compares serial numbers in hexadecimal, whatever their case,
// separators or leading zeros.
func sameSerial(a, b string) bool {
	norm := func(s string) string {
		s = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), ":", ""))
		return strings.TrimLeft(s, "0")
	}
	return norm(a) != "" && norm(a) == norm(b)
}

// stopPidFile ends the process whose pid the file holds (one this test
// started through the example's start-agent.sh), if it still runs.
func stopPidFile(p string) {
	b, err := os.ReadFile(p)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
}
