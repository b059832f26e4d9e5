// Tests through the real plugin process: the binary is built, started by
// the SDK's host side and called over gRPC, and runs real commands: the
// documented OpenSSL CA script, and small scripts that fail in the ways a
// CA's tooling does.

package main

import (
	"bufio"
	"context"
	"crypto"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

// TestOpenSSLCA issues, renews and revokes through the documented script
// and a CA made with openssl, and checks what the command was told.
func TestOpenSSLCA(t *testing.T) {
	// The server's environment may hold secrets; commands must not see it.
	t.Setenv("CERTCTL_DATABASE_URL", "postgres://certctl:secret-db-password@db/certctl")
	ca := newOpenSSLCA(t)
	iss := openPlugin(t)
	ctx := callCtx(t)

	// A wrapper records the environment the command gets, then runs the
	// documented script as configured.
	dump := filepath.Join(t.TempDir(), "env")
	wrapper := writeScript(t, t.TempDir(), "recording-issue.sh",
		"env > "+strconv.Quote(dump)+"\nexec "+strconv.Quote(ca.script)+" issue\n")
	cfg := ca.config()
	cfg[fieldCommand] = []any{wrapper}
	cfg[fieldProfile] = "tls-server"

	req, key := request(t, cfg, "ecdsa-p384", "app.example.com", "www.example.com", "*.app.example.com", "192.0.2.7")
	res, err := iss.IssueCertificate(ctx, req)
	if err != nil {
		t.Fatalf("IssueCertificate: %v", err)
	}
	leaf := parseCert(t, res.CertificatePEM)
	roots := x509.NewCertPool()
	roots.AddCert(parseCert(t, res.ChainPEM))
	if !parseCert(t, res.ChainPEM).Equal(ca.root) {
		t.Error("the chain is not the CA certificate")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "x.app.example.com",
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Errorf("leaf does not verify: %v", err)
	}
	if !leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()) {
		t.Error("the leaf does not certify the CSR's key")
	}
	if got := leaf.NotAfter.Sub(leaf.NotBefore); got != 7*24*time.Hour {
		t.Errorf("lifetime %s, want the configured 7d", got)
	}
	if !strings.Contains(ca.index(t), strings.ToUpper(leaf.SerialNumber.Text(16))) {
		t.Errorf("serial %s is not in the CA's database:\n%s", leaf.SerialNumber.Text(16), ca.index(t))
	}

	env := readEnv(t, dump)
	for name, want := range map[string]string{
		"CERTCTL_OPERATION":        "issue",
		"CERTCTL_COMMON_NAME":      "app.example.com",
		"CERTCTL_SANS":             "www.example.com,*.app.example.com,192.0.2.7",
		"CERTCTL_DNS_NAMES":        "app.example.com,www.example.com,*.app.example.com",
		"CERTCTL_IP_ADDRESSES":     "192.0.2.7",
		"CERTCTL_EMAIL_ADDRESSES":  "",
		"CERTCTL_URIS":             "",
		"CERTCTL_IDEMPOTENCY_KEY":  req.IdempotencyKey,
		"CERTCTL_PROFILE":          "tls-server",
		"CERTCTL_VALIDITY_SECONDS": "604800",
		"CERTCTL_NOW":              req.Now.UTC().Format(time.RFC3339),
		"CA_DIR":                   ca.dir,
	} {
		if got, ok := env[name]; !ok || got != want {
			t.Errorf("%s = %q (set %v), want %q", name, got, ok, want)
		}
	}
	for _, name := range []string{"CERTCTL_DATABASE_URL", "CERTCTL_PLUGIN_ISSUER", "PLUGIN_CLIENT_CERT", "CERTCTL_RENEW_PREVIOUS_SERIAL"} {
		if _, ok := env[name]; ok {
			t.Errorf("the command got %s", name)
		}
	}
	if env["PATH"] == "" {
		t.Error("the command got no PATH")
	}

	// A renewal runs the same command, told which certificate it replaces,
	// for the configured lifetime.
	renewReq, _ := request(t, cfg, "ed25519", "app.example.com", "www.example.com")
	renewed, err := iss.RenewCertificate(ctx, plugin.RenewRequest{IssueRequest: renewReq,
		PreviousSerial: leaf.SerialNumber.Text(16), PreviousCertificatePEM: res.CertificatePEM})
	if err != nil {
		t.Fatalf("RenewCertificate: %v", err)
	}
	env = readEnv(t, dump)
	if env["CERTCTL_OPERATION"] != "renew" || env["CERTCTL_RENEW_PREVIOUS_SERIAL"] != leaf.SerialNumber.Text(16) ||
		env["CERTCTL_VALIDITY_SECONDS"] != "604800" {
		t.Errorf("renewal environment: operation %q, previous serial %q, validity %q", env["CERTCTL_OPERATION"],
			env["CERTCTL_RENEW_PREVIOUS_SERIAL"], env["CERTCTL_VALIDITY_SECONDS"])
	}
	if got := parseCert(t, renewed.CertificatePEM); got.NotAfter.Sub(got.NotBefore) != 7*24*time.Hour {
		t.Errorf("renewed lifetime %s, want the configured 7 days", got.NotAfter.Sub(got.NotBefore))
	}

	// Revocation marks the certificate revoked in openssl's database, and
	// a repeated revocation succeeds.
	rev := plugin.RevokeRequest{Config: cfg, SerialNumber: leaf.SerialNumber.Text(16), Reason: plugin.ReasonKeyCompromise,
		CertificatePEM: res.CertificatePEM}
	for range 2 {
		if err := iss.RevokeCertificate(ctx, rev); err != nil {
			t.Fatalf("RevokeCertificate: %v", err)
		}
	}
	if line := indexLine(ca.index(t), leaf.SerialNumber); !strings.HasPrefix(line, "R\t") || !strings.Contains(line, ",keyCompromise\t") {
		t.Errorf("index entry after revocation: %q", line)
	}

	// Without a revoke_command, certctl records the revocation alone.
	delete(cfg, fieldRevokeCommand)
	wantCode(t, iss.RevokeCertificate(ctx, plugin.RevokeRequest{Config: cfg, SerialNumber: "0a", CertificatePEM: res.CertificatePEM}),
		plugin.CodeUnimplemented)
	wantCode(t, iss.RevokeCertificate(ctx, plugin.RevokeRequest{Config: cfg, SerialNumber: "zz"}), plugin.CodeInvalidInput)
}

// TestCommandFailures runs scripts that fail in the ways signing tools
// do, and checks each error's code and message.
func TestCommandFailures(t *testing.T) {
	ca := newOpenSSLCA(t)
	iss := openPlugin(t)
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	const secret = "hunter2-not-for-logs"

	for _, tc := range []struct {
		name, script string
		timeout      string
		code         string
		want         []string // in the message
		notWant      []string
	}{
		{name: "exit status with stderr", script: "cat >/dev/null\necho 'profile gold is not known' >&2\nexit 3\n",
			code: plugin.CodePermanent, want: []string{"exited with status 3", "profile gold is not known"}},
		{name: "temporary failure", script: "echo 'HSM busy' >&2\nexit 75\n",
			code: plugin.CodeTransient, want: []string{"status 75", "HSM busy"}},
		{name: "request refused", script: "echo 'name not allowed' >&2\nexit 65\n",
			code: plugin.CodeInvalidInput, want: []string{"status 65", "name not allowed"}},
		{name: "no stderr", script: "exit 1\n", code: plugin.CodePermanent, want: []string{"nothing on stderr"}},
		{name: "killed by a signal", script: "kill -9 $$\n", code: plugin.CodePermanent, want: []string{"was killed"}},
		{name: "timeout kills the process group", timeout: "1s",
			script: "echo 'waiting for the HSM' >&2\nsleep 300 &\necho $! > " + strconv.Quote(pidFile) + "\nwait\n",
			code:   plugin.CodeTransient, want: []string{"timed out after 1s", "waiting for the HSM"}},
		{name: "not PEM", script: "echo 'signed OK'\n", code: plugin.CodePermanent, want: []string{"printed no PEM certificate"}},
		{name: "garbage certificate", script: "printf -- '-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n'\n",
			code: plugin.CodePermanent, want: []string{"does not parse"}},
		{name: "private key printed", script: "printf -- '-----BEGIN PRIVATE KEY-----\\nc2VjcmV0LWtleS1ieXRlcw==\\n-----END PRIVATE KEY-----\\n'\n",
			code: plugin.CodePermanent, want: []string{"printed a private key"}, notWant: []string{"c2VjcmV0"}},
		{name: "certificate for another key", script: "cat \"$CA_DIR/ca.pem\"\n",
			code: plugin.CodePermanent, want: []string{"not for the CSR's key", "Example OpenSSL CA"}},
		{name: "secret on stderr", script: "echo \"login failed with password $SIGNER_PASSWORD\" >&2\nexit 1\n",
			code: plugin.CodePermanent, want: []string{"login failed with password [redacted]"}, notWant: []string{secret}},
		{name: "stderr bounded", script: "i=0\nwhile [ $i -lt 5000 ]; do echo \"line $i of noise\" >&2; i=$((i+1)); done\necho 'the real error' >&2\nexit 1\n",
			code: plugin.CodePermanent, want: []string{"the real error", "…"}, notWant: []string{"line 0 of noise"}},
		{name: "stdout bounded", script: "head -c 2000000 /dev/zero | tr '\\0' 'a'\n",
			code: plugin.CodePermanent, want: []string{"more than 1048576 bytes on stdout"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ca.config()
			cfg[fieldCommand] = []any{writeScript(t, dir, strings.ReplaceAll(tc.name, " ", "-")+".sh", tc.script)}
			cfg[fieldEnv] = []any{"CA_DIR=" + ca.dir, "SIGNER_PASSWORD=" + secret}
			if tc.timeout != "" {
				cfg[fieldTimeout] = tc.timeout
			}
			req, _ := request(t, cfg, "ecdsa-p256", "app.example.com")
			_, err := iss.IssueCertificate(callCtx(t), req)
			wantCode(t, err, tc.code)
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(msg, w) {
					t.Errorf("error %q says %q", msg, w)
				}
			}
			if len(msg) > maxStderrInError+500 {
				t.Errorf("error message is %d bytes long", len(msg))
			}
		})
	}

	// The timeout killed the script's child too, not only the script.
	pid, err := strconv.Atoi(strings.TrimSpace(readFile(t, pidFile)))
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	stop := time.Now().Add(30 * time.Second) // reaping an orphan may take a moment
	for syscall.Kill(pid, 0) == nil && !zombie(pid) {
		if time.Now().After(stop) {
			t.Fatalf("the script's child %d outlived the timeout", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestHostDeadline checks that the host's own deadline ends a command that
// the configured timeout would let run, with the deadline code.
func TestHostDeadline(t *testing.T) {
	ca := newOpenSSLCA(t)
	iss := openPlugin(t)
	cfg := ca.config()
	cfg[fieldCommand] = []any{writeScript(t, t.TempDir(), "slow.sh", "sleep 300\n")}
	req, _ := request(t, cfg, "ecdsa-p256", "app.example.com")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := iss.IssueCertificate(ctx, req)
	wantCode(t, err, plugin.CodeDeadline)
	// The process serves the next call.
	if _, err := iss.Info(callCtx(t)); err != nil {
		t.Fatalf("Info after a deadline: %v", err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// readEnv reads the output of env(1).
func readEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(readFile(t, path)))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			out[k] = v
		}
	}
	return out
}

// indexLine returns the line of openssl's index.txt for serial.
func indexLine(index string, serial interface{ Text(int) string }) string {
	want := strings.ToUpper(serial.Text(16))
	if len(want)%2 == 1 {
		want = "0" + want
	}
	for line := range strings.SplitSeq(index, "\n") {
		if f := strings.Split(line, "\t"); len(f) > 3 && f[3] == want {
			return line
		}
	}
	return ""
}

// zombie reports whether process pid has exited and awaits reaping.
func zombie(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true // gone
	}
	_, after, _ := strings.Cut(string(b), ") ")
	return slices.Contains([]string{"Z", "X"}, strings.SplitN(after, " ", 2)[0])
}
