package main

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/certctl/certctl/sdk/api"
)

// TestCertificateLifecycle drives a certificate from declaration to
// revocation through the CLI alone: create --wait (with its progress
// lines), get in every format, list, versions, renewal, renew --wait,
// download with the key, revoke --wait, jobs and the audit trail.
func TestCertificateLifecycle(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.setupIssuer(t)

	r := s.ok(t, "certs", "create", "www-example-com", "--cn", "www.example.com", "--san", "example.com",
		"--issuer", "local", "--label", "team=web", "--wait", "--timeout", "2m")
	// stderr is not a terminal here: plain progress lines, the last one
	// saying it is issued.
	// (The issuance may be over by the first look: then that is the only
	// line.)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	for _, l := range lines[:len(lines)-1] {
		if !regexp.MustCompile(`^certificate www-example-com: (issuing|pending)\b.* \(\d+s\)$`).MatchString(l) {
			t.Errorf("progress line %q", l)
		}
	}
	if !regexp.MustCompile(`^certificate www-example-com: active; issued \(\d+s\)$`).MatchString(lines[len(lines)-1]) {
		t.Errorf("progress lines:\n%s", r.stderr)
	}
	t.Logf("certs create --wait progress:\n%s", r.stderr)
	if strings.Contains(r.stderr, "\r") || strings.Contains(r.stderr, "\x1b") {
		t.Errorf("terminal control characters in progress to a pipe: %q", r.stderr)
	}
	if got := field(t, r.stdout, "STATUS"); got != "active" {
		t.Errorf("created certificate's STATUS = %q\n%s", got, r.stdout)
	}
	if got := field(t, r.stdout, "ISSUER"); got != "local" {
		t.Errorf("ISSUER = %q", got)
	}
	if got := field(t, r.stdout, "SANS"); got != "example.com" {
		t.Errorf("SANS = %q", got)
	}

	// The same certificate as JSON, as YAML, by name and by id.
	var c api.Certificate
	s.jsonOf(t, &c, "certs", "get", "www-example-com")
	if c.Status != "active" || c.CurrentVersionID == nil || c.Labels["team"] != "web" {
		t.Fatalf("certs get -o json = %+v", c)
	}
	var byID api.Certificate
	s.jsonOf(t, &byID, "certs", "get", c.ID)
	if byID.Name != "www-example-com" {
		t.Errorf("certs get by id: %+v", byID)
	}
	y := s.ok(t, "certs", "get", "www-example-com", "-o", "yaml")
	var fromYAML map[string]any
	if err := yaml.Unmarshal([]byte(y.stdout), &fromYAML); err != nil {
		t.Fatalf("-o yaml: %v\n%s", err, y.stdout)
	}
	if fromYAML["status"] != "active" || fromYAML["id"] != c.ID || fromYAML["common_name"] != "www.example.com" {
		t.Errorf("-o yaml:\n%s", y.stdout)
	}
	if strings.HasPrefix(strings.TrimSpace(y.stdout), "{") {
		t.Errorf("-o yaml printed flow style:\n%s", y.stdout)
	}

	// The list: a stable table with aligned columns.
	l := s.ok(t, "certs", "list")
	rows := strings.Split(strings.TrimRight(l.stdout, "\n"), "\n")
	if len(rows) != 2 {
		t.Fatalf("certs list:\n%s", l.stdout)
	}
	wantHeader := regexp.MustCompile(`^NAME +STATUS +COMMON NAME +ISSUER +NOT AFTER +NEXT RENEWAL +DEPLOYED$`)
	wantRow := regexp.MustCompile(`^www-example-com +active +www\.example\.com +local +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +-$`)
	if !wantHeader.MatchString(rows[0]) || !wantRow.MatchString(rows[1]) {
		t.Errorf("certs list:\n%s", l.stdout)
	}
	if strings.Index(rows[0], "STATUS") != strings.Index(rows[1], "active") || strings.Index(rows[0], "ISSUER") != strings.Index(rows[1], "local") {
		t.Errorf("columns not aligned:\n%s", l.stdout)
	}
	if again := s.ok(t, "certs", "list"); again.stdout != l.stdout {
		t.Errorf("the same list printed twice differs:\n%s\n%s", l.stdout, again.stdout)
	}
	if nh := s.ok(t, "certs", "list", "--no-headers"); strings.Join(strings.Fields(nh.stdout), " ") != strings.Join(strings.Fields(rows[1]), " ") {
		t.Errorf("--no-headers:\n%s", nh.stdout)
	}
	var list []api.Certificate
	s.jsonOf(t, &list, "certs", "list", "--status", "active")
	if len(list) != 1 || list[0].ID != c.ID {
		t.Errorf("certs list --status active -o json = %+v", list)
	}
	s.jsonOf(t, &list, "certs", "list", "--status", "failed")
	if len(list) != 0 {
		t.Errorf("certs list --status failed = %+v", list)
	}
	if r := s.ok(t, "certs", "renewal", "www-example-com"); !strings.Contains(field(t, r.stdout, "REASON"), "renews when") {
		t.Errorf("certs renewal:\n%s", r.stdout)
	}

	// Renew and wait: the renew job succeeds, and there are two versions.
	r = s.ok(t, "certs", "renew", "www-example-com", "--wait")
	if field(t, r.stdout, "KIND") != "renew" || field(t, r.stdout, "STATE") != "succeeded" {
		t.Errorf("certs renew --wait:\n%s", r)
	}
	if !strings.Contains(r.stderr, "renew job succeeded") {
		t.Errorf("renew progress:\n%s", r.stderr)
	}
	var versions []api.CertificateVersion
	s.jsonOf(t, &versions, "certs", "versions", "www-example-com")
	if len(versions) != 2 || versions[0].Status != "active" || versions[1].Status != "superseded" {
		t.Fatalf("versions after renewal = %+v", versions)
	}

	// Download: certificate files 0644, the key 0600 and never printed;
	// a second download does not overwrite without --force.
	dir := filepath.Join(t.TempDir(), "www")
	r = s.ok(t, "certs", "download", "www-example-com", "--dir", dir, "--key")
	if strings.Contains(r.stdout+r.stderr, "PRIVATE KEY") {
		t.Errorf("download printed the key:\n%s", r)
	}
	if !regexp.MustCompile(`(?m)^FILE +CONTENT +MODE\n.*/www/cert\.pem +certificate +0644\n`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)/www/privkey\.pem +private_key +0600$`).MatchString(r.stdout) {
		t.Errorf("download:\n%s", r.stdout)
	}
	for name, mode := range map[string]os.FileMode{"cert.pem": 0o644, "chain.pem": 0o644, "fullchain.pem": 0o644, "privkey.pem": 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s has mode %04o, want %04o", name, fi.Mode().Perm(), mode)
		}
	}
	leaf := parseCert(t, filepath.Join(dir, "cert.pem"))
	if leaf.Subject.CommonName != "www.example.com" || leaf.SerialNumber.Text(16) != strings.TrimLeft(strings.ToLower(versions[0].SerialNumber), "0") {
		t.Errorf("downloaded certificate %s, serial %x, want the current version %s", leaf.Subject, leaf.SerialNumber, versions[0].SerialNumber)
	}
	keyPEM, _ := os.ReadFile(filepath.Join(dir, "privkey.pem"))
	block, _ := pem.Decode(keyPEM)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("key file: %q", keyPEM)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !publicKeysEqual(key, leaf.PublicKey) {
		t.Error("the downloaded key does not match the downloaded certificate")
	}
	s.code(t, 5, "certs", "download", "www-example-com", "--dir", dir)
	s.ok(t, "certs", "download", "www-example-com", "--dir", dir, "--force")
	// Without --key, no key file; the default directory is the name.
	r = s.ok(t, "certs", "download", "www-example-com", "--dir", t.TempDir(), "-o", "json")
	if strings.Contains(r.stdout, "privkey") {
		t.Errorf("download without --key:\n%s", r.stdout)
	}
	p12 := t.TempDir()
	s.ok(t, "certs", "download", "www-example-com", "--dir", p12, "--key", "--format", "pkcs12")
	for _, name := range []string{"www-example-com.p12", "www-example-com.p12.pass"} {
		if fi, err := os.Stat(filepath.Join(p12, name)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v", name, err, fi)
		}
	}
	if _, err := os.Stat(filepath.Join(p12, "privkey.pem")); err == nil {
		t.Error("--format pkcs12 wrote privkey.pem too")
	}

	// Revoke and wait; the certificate is then revoked.
	r = s.ok(t, "certs", "revoke", "www-example-com", "--reason", "superseded", "--wait", "-o", "json")
	var job api.Job
	if err := jsonUnmarshal(r.stdout, &job); err != nil || job.Kind != "revoke" || job.State != "succeeded" {
		t.Errorf("revoke --wait -o json: %v %+v", err, job)
	}
	s.jsonOf(t, &c, "certs", "get", "www-example-com")
	if c.Status != "revoked" {
		t.Errorf("status after revoke = %s", c.Status)
	}
	// Waiting for a revoked certificate to be issued fails at once.
	if r := s.code(t, 8, "certs", "wait", "www-example-com"); !strings.Contains(r.stderr, "certctl: certificate www-example-com will not be issued: ") {
		t.Errorf("waiting for a revoked certificate:\n%s", r)
	}

	// Jobs: the list, one job, and cancelling an ended one (a conflict).
	var jobs []api.Job
	s.jsonOf(t, &jobs, "jobs", "list", "--cert", "www-example-com")
	kinds := map[string]string{}
	for _, j := range jobs {
		kinds[j.Kind] = j.State
	}
	if kinds["issue"] != "succeeded" || kinds["renew"] != "succeeded" || kinds["revoke"] != "succeeded" {
		t.Errorf("jobs of the certificate: %+v", kinds)
	}
	r = s.ok(t, "jobs", "get", jobs[0].ID)
	if field(t, r.stdout, "ID") != jobs[0].ID {
		t.Errorf("jobs get:\n%s", r.stdout)
	}
	s.code(t, 5, "jobs", "cancel", jobs[0].ID)
	jl := s.ok(t, "jobs", "list")
	if !regexp.MustCompile(`(?m)^ID +KIND +STATE +CERTIFICATE +ATTEMPT +CREATED +WAITING FOR / LAST ERROR$`).MatchString(jl.stdout) {
		t.Errorf("jobs list:\n%s", jl.stdout)
	}

	// The audit trail has the declaration, by the CLI's key.
	var events []api.AuditEvent
	s.jsonOf(t, &events, "audit", "--action", "certificate.create")
	if len(events) != 1 || events[0].ResourceID != c.ID || events[0].Outcome != "success" {
		t.Errorf("audit --action certificate.create = %+v", events)
	}
	a := s.ok(t, "audit", "--resource", "www-example-com", "--since", "1h")
	if !strings.Contains(a.stdout, "certificate.revoke") || !strings.HasPrefix(a.stdout, "TIME") {
		t.Errorf("audit --resource:\n%s", a.stdout)
	}

	// Delete; then it is gone.
	s.ok(t, "certs", "delete", "www-example-com")
	s.code(t, 3, "certs", "get", "www-example-com")
}

// TestProgressOnTerminal: with stderr on a terminal (util-linux's script
// gives the command a pseudo-terminal), the wait redraws one line in place
// and ends it with the outcome; stdout (redirected) gets only the result.
func TestProgressOnTerminal(t *testing.T) {
	t.Parallel()
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		t.Fatalf("script (util-linux; Debian: bsdutils) is needed for this test: %v", err)
	}
	s := startServer(t)
	s.setupIssuer(t)
	out := filepath.Join(t.TempDir(), "stdout.json")
	line := certctlBin + " certs create tty --cn tty.example.com --issuer local --wait -o json >" + out
	cmd := exec.Command(scriptBin, "-qec", line, "/dev/null")
	cmd.Env = append(s.baseEnv(), "CERTCTL_URL="+s.env.URL, "CERTCTL_API_KEY="+s.env.AdminKey)
	term, err := cmd.Output()
	if err != nil {
		t.Fatalf("script: %v\n%q", err, term)
	}
	text := string(term)
	if !strings.HasPrefix(text, "\r\x1b[K") || !regexp.MustCompile(`\r\x1b\[Kcertificate tty: active; issued \(\d+s\)\r?\n$`).MatchString(text) {
		t.Errorf("terminal progress: %q", text)
	}
	var c api.Certificate
	data, _ := os.ReadFile(out)
	if err := jsonUnmarshal(string(data), &c); err != nil || c.Status != "active" {
		t.Errorf("stdout: %v %q", err, data)
	}
}
