package filetarget

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certctl/certctl/plugins/target/internal/servertest"
	"github.com/certctl/certctl/sdk/plugin"
)

// testSpec is a target with nginx's layout and harmless commands.
var testSpec = Spec{
	Name:        "test",
	Description: "a test target",
	PathFields: []plugin.Field{
		{Name: "certificate_path", Type: plugin.TypeString, Required: true, Description: "cert"},
		{Name: "chain_path", Type: plugin.TypeString, Description: "chain"},
		{Name: "key_path", Type: plugin.TypeString, Required: true, Description: "key"},
	},
	LeafField:       "certificate_path",
	DefaultValidate: []string{"true"},
	DefaultReload:   []string{"true"},
	ValidateExample: `["true"]`,
	ReloadExample:   `["true"]`,
	Layout:          SeparateFiles("certificate_path", "chain_path", "key_path"),
}

func testConfig(dir string) plugin.Config {
	return plugin.Config{"certificate_path": filepath.Join(dir, "cert.pem"), "key_path": filepath.Join(dir, "key.pem")}
}

func TestSchema(t *testing.T) {
	info, err := New(testSpec, nil).Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := info.Schema.Check(); err != nil {
		t.Fatal(err)
	}
	if info.Kind != plugin.KindTarget || info.Version != Version || info.Schema.Fields[0].Name != "certificate_path" {
		t.Errorf("Info = %+v", info)
	}
	cfg, err := info.Schema.Normalize(testConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Duration(FieldCommandTimeout) != 30*time.Second || cfg.Duration(FieldVerifyTimeout) != 10*time.Second ||
		len(cfg.Strings(FieldReloadCommand)) != 1 {
		t.Errorf("defaults not applied: %v", cfg)
	}
}

// The validate command's output reaches the error, without a key the
// command printed.
func TestValidateFailureOutput(t *testing.T) {
	dir := t.TempDir()
	l := servertest.NewCA(t, "ft CA").Issue(t, "a.example.com")
	cfg := testConfig(dir)
	cfg[FieldValidateCommand] = []any{"sh", "-c", `echo "config test failed in $0:"; cat "$0"; exit 1`, filepath.Join(dir, "key.pem")}
	_, err := New(testSpec, nil).DeployCertificate(context.Background(), l.Request(cfg))
	var pe *plugin.Error
	if !errors.As(err, &pe) || pe.Code != plugin.CodePermanent {
		t.Fatalf("deploy: %v", err)
	}
	body := strings.Split(l.KeyPEM, "\n")[1]
	if strings.Contains(pe.Message, body[:24]) || !strings.Contains(pe.Message, "[private key redacted]") ||
		!strings.Contains(pe.Message, "config test failed") || !strings.HasPrefix(pe.Message, "validate_command failed: ") {
		t.Errorf("message = %q", pe.Message)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d files left after a failed first deployment", len(entries))
	}
}

// Concurrent deployments to the same files take turns: no two validate
// commands run at once (mkdir fails if another holds the directory), and
// what each sees on disk is one deployment's certificate and key.
func TestConcurrentDeployments(t *testing.T) {
	dir, snaps := t.TempDir(), t.TempDir()
	ca := servertest.NewCA(t, "ft CA")
	target := New(testSpec, nil)
	cfg := testConfig(dir)
	cfg[FieldValidateCommand] = []any{"sh", "-c", `mkdir "$1/busy" || exit 1; cat "$0/cert.pem" "$0/key.pem" > "$1/$$"; sleep 0.05; rmdir "$1/busy"`, dir, snaps}
	var wg sync.WaitGroup
	var ok atomic.Int32
	for range 6 {
		l := ca.Issue(t, "a.example.com")
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := target.DeployCertificate(context.Background(), l.Request(cfg)); err != nil {
				t.Errorf("deploy: %v", err)
				return
			}
			ok.Add(1)
		}()
	}
	wg.Wait()
	os.Remove(filepath.Join(snaps, "busy"))
	entries, err := os.ReadDir(snaps)
	if err != nil || ok.Load() != 6 || len(entries) != 6 {
		t.Fatalf("%d deployments succeeded, %d validate runs (%v); want 6 each", ok.Load(), len(entries), err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(snaps, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		// X509KeyPair picks the certificate from one and the key from the
		// other, skipping the rest.
		if _, err := tls.X509KeyPair(data, data); err != nil {
			t.Errorf("a validate run saw files of two deployments: %v", err)
		}
	}
}

// tlsServer serves old for the first n handshakes, then new, and records
// the SNI it was sent.
type tlsServer struct {
	addr     string
	mu       sync.Mutex
	sni      []string
	old, new *tls.Certificate
	n        int
}

func startTLS(t *testing.T, old, new servertest.Leaf, n int) *tlsServer {
	t.Helper()
	pair := func(l servertest.Leaf) *tls.Certificate {
		c, err := tls.X509KeyPair([]byte(l.CertPEM), []byte(l.KeyPEM))
		if err != nil {
			t.Fatal(err)
		}
		return &c
	}
	s := &tlsServer{old: pair(old), new: pair(new), n: n}
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.sni = append(s.sni, h.ServerName)
		if len(s.sni) <= s.n {
			return s.old, nil
		}
		return s.new, nil
	}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	s.addr = srv.Listener.Addr().String()
	return s
}

func TestValidateDeploymentWaitsForReload(t *testing.T) {
	ca := servertest.NewCA(t, "ft CA")
	old, new := ca.Issue(t, "*.example.com", "www.example.com"), ca.Issue(t, "www.example.com")
	srv := startTLS(t, old, new, 3)
	dir := t.TempDir()
	cfg := testConfig(dir)
	if _, err := New(testSpec, nil).DeployCertificate(context.Background(), old.Request(cfg)); err != nil {
		t.Fatal(err)
	}
	cfg[FieldVerifyAddress] = srv.addr
	target := New(testSpec, nil)
	res, err := target.ValidateDeployment(context.Background(), plugin.ValidateDeploymentRequest{Config: cfg,
		SerialNumber: strings.ToUpper("00" + new.Serial.Text(16))})
	if err != nil || !res.Valid || res.ServedSerial != new.Serial.Text(16) {
		t.Fatalf("ValidateDeployment = %+v, %v; want Valid once the server serves the new certificate", res, err)
	}
	srv.mu.Lock()
	if len(srv.sni) != 4 || srv.sni[0] != "www.example.com" {
		t.Errorf("handshakes %v, want 4 with the certificate file's first non-wildcard name as SNI", srv.sni)
	}
	srv.mu.Unlock()

	// A server that keeps serving another certificate: Valid false once
	// verify_timeout has passed, after looking more than once (counted in
	// handshakes, not in time: a loaded machine stretches time).
	cfg[FieldVerifyTimeout] = "600ms"
	cfg[FieldVerifyServerName] = "other.example.com"
	srv.mu.Lock()
	before := len(srv.sni)
	srv.mu.Unlock()
	res, err = target.ValidateDeployment(context.Background(), plugin.ValidateDeploymentRequest{Config: cfg,
		SerialNumber: old.Serial.Text(16)})
	if err != nil || res.Valid || res.ServedSerial != new.Serial.Text(16) {
		t.Errorf("ValidateDeployment of a serial not served = %+v, %v", res, err)
	}
	srv.mu.Lock()
	if n := len(srv.sni) - before; n < 2 {
		t.Errorf("ValidateDeployment of a serial not served looked %d times, want it to look again until verify_timeout", n)
	}
	if last := srv.sni[len(srv.sni)-1]; last != "other.example.com" {
		t.Errorf("SNI %q, want verify_server_name", last)
	}
	srv.mu.Unlock()

	// The caller's deadline ends the waiting.
	cfg[FieldVerifyTimeout] = "1m"
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = target.ValidateDeployment(ctx, plugin.ValidateDeploymentRequest{Config: cfg, SerialNumber: old.Serial.Text(16)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ValidateDeployment past its deadline: %v", err)
	}
}
