// Package servertest helps the tests of the file-based target plugins
// (nginx, Apache httpd, HAProxy) work against the real servers: it makes
// test CAs and certificates, starts a server in the foreground on a
// loopback port and stops it when the test ends, waits (boundedly) for
// what it serves, and runs the deployment scenario every file-based
// target must pass (lifecycle.go) through the plugin's real process.
package servertest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

// Bounded waits.
const (
	startTimeout = 20 * time.Second // a server answering TLS after start
	serveTimeout = 20 * time.Second // a server serving a new certificate after reload
	stopTimeout  = 10 * time.Second // a server gone after SIGTERM
)

// installHint says how to get the servers the tests need.
const installHint = "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx apache2 haproxy"

// Require fails the test unless every command is installed (on PATH or
// in an sbin directory).
func Require(t testing.TB, commands ...string) {
	t.Helper()
	for _, c := range commands {
		if _, err := lookPath(c); err != nil {
			t.Fatalf("%s is not installed, and this test runs the real server: install it with\n  %s\n(.ci/run does)", c, installHint)
		}
	}
}

func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/local/sbin", "/usr/sbin", "/sbin"} {
		if p, err := exec.LookPath(dir + "/" + name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

// CA is a throwaway certificate authority.
type CA struct {
	Cert *x509.Certificate
	PEM  string
	key  *ecdsa.PrivateKey
}

// NewCA makes a CA called name.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: randomSerial(t), Subject: pkix.Name{CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &CA{Cert: cert, PEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), key: key}
}

// Leaf is a server certificate with its chain and key, as PEM.
type Leaf struct {
	CertPEM, ChainPEM, KeyPEM string
	Serial                    *big.Int
}

// Issue makes a server certificate for names (DNS names and IP
// addresses), with a random serial, its chain being the CA.
func (ca *CA) Issue(t testing.TB, names ...string) Leaf {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{SerialNumber: randomSerial(t), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return Leaf{
		CertPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		ChainPEM: ca.PEM,
		KeyPEM:   string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
		Serial:   tmpl.SerialNumber,
	}
}

// Request returns the request that deploys l with cfg.
func (l Leaf) Request(cfg plugin.Config) plugin.DeployRequest {
	return plugin.DeployRequest{Config: cfg, CertificatePEM: l.CertPEM, ChainPEM: l.ChainPEM, PrivateKeyPEM: l.KeyPEM,
		Metadata: map[string]string{"certificate_name": "servertest"}}
}

func randomSerial(t testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return n.Add(n, big.NewInt(1))
}

// WriteBootstrap writes a certificate (and its chain) for localhost from
// a CA of its own to certPath, chainPath (if not "", else appended to
// certPath) and keyPath, so that a server can start before the first
// deployment, as a server being put under certctl's management does.
// Paths that are "" are skipped; combinedPath, if not "", receives all
// three as HAProxy wants them.
func WriteBootstrap(t testing.TB, certPath, chainPath, keyPath, combinedPath string) Leaf {
	t.Helper()
	l := NewCA(t, "bootstrap CA").Issue(t, "localhost", "127.0.0.1")
	write := func(path, content string, mode fs.FileMode) {
		if path == "" {
			return
		}
		if err := os.WriteFile(path, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil { // no umask
			t.Fatal(err)
		}
	}
	if chainPath != "" {
		write(certPath, l.CertPEM, 0o644)
		write(chainPath, l.ChainPEM, 0o644)
	} else {
		write(certPath, l.CertPEM+l.ChainPEM, 0o644)
	}
	write(keyPath, l.KeyPEM, 0o600)
	write(combinedPath, l.CertPEM+l.ChainPEM+l.KeyPEM, 0o600)
	return l
}

// FreeAddr returns a loopback address with a port that was free a moment
// ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Served returns the certificates the TLS server at addr presents, with
// an independent handshake (no SNI).
func Served(addr string) ([]*x509.Certificate, error) {
	d := &net.Dialer{Timeout: 2 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only the serial is read
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates, nil
}

// stableFor is how long a server must serve the same certificate, on
// every new connection, before WaitServes believes it: after a reload the
// old workers go on accepting connections for a moment (nginx's master
// waits 100ms before telling them to stop).
const stableFor = 400 * time.Millisecond

// WaitServes waits until every new connection to addr gets the
// certificate with serial, and returns what the server presents; it
// fails the test after a bounded wait, or as soon as srv (if not nil) has
// exited.
func WaitServes(t testing.TB, srv *Server, addr string, serial *big.Int) []*x509.Certificate {
	t.Helper()
	deadline := time.Now().Add(serveTimeout)
	var last string
	var since time.Time // start of the current run of matching handshakes
	for {
		certs, err := Served(addr)
		switch {
		case err == nil && certs[0].SerialNumber.Cmp(serial) == 0:
			if since.IsZero() {
				since = time.Now()
			} else if time.Since(since) >= stableFor {
				return certs
			}
		case err != nil:
			since, last = time.Time{}, err.Error()
		default:
			since, last = time.Time{}, "serial "+certs[0].SerialNumber.Text(16)
		}
		if srv != nil && srv.Exited() {
			t.Fatalf("the server exited while waiting for it to serve serial %s:\n%s", serial.Text(16), srv.Log())
		}
		if time.Now().After(deadline) {
			msg := ""
			if srv != nil {
				msg = srv.Log()
			}
			t.Fatalf("%s does not serve serial %s steadily after %s (last: %s)\n%s", addr, serial.Text(16), serveTimeout, last, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Server is a server process running in the foreground, as a child of
// the test (so that it is reaped however it ends).
type Server struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
}

// Start starts argv with its output in logPath, waits until it answers a
// TLS handshake at addr, and stops it (SIGTERM, then SIGKILL to its
// process group) when the test ends.
func Start(t testing.TB, logPath, addr string, argv ...string) *Server {
	t.Helper()
	out, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	path, err := lookPath(argv[0])
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("start %s: %v", strings.Join(argv, " "), err)
	}
	s := &Server{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		out.Close()
		close(s.done)
	}()
	t.Cleanup(s.stop)
	deadline := time.Now().Add(startTimeout)
	for {
		if _, err := Served(addr); err == nil {
			return s
		} else if s.Exited() || time.Now().After(deadline) {
			t.Fatalf("%s does not answer TLS at %s (%v):\n%s", strings.Join(argv, " "), addr, err, s.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Exited reports whether the server process has ended.
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Pid is the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Log returns what the server printed so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

func (s *Server) stop() {
	if s.Exited() {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
	// Worker processes that outlived their parent.
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
}

// Counting wraps argv so that each run appends a line to countFile before
// running argv: tests count reloads with Count.
func Counting(countFile string, argv ...string) []any {
	out := []any{"sh", "-c", `echo run >> "$0" && exec "$@"`, countFile}
	for _, a := range argv {
		out = append(out, a)
	}
	return out
}

// Count returns the number of lines in path (0 if it does not exist).
func Count(t testing.TB, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		n++
	}
	return n
}

// Open starts the plugin binary bin as a certctl agent does and returns
// it as a Target; it is killed when the test ends.
func Open(t testing.TB, bin string) plugin.Target {
	t.Helper()
	p := openProcess(t, bin)
	if p.Target() == nil {
		t.Fatal("the plugin process does not serve a target")
	}
	return p.Target()
}
