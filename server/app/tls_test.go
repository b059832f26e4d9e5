package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/server/pgtest"
)

// selfSigned writes a certificate for 127.0.0.1 and its key; it returns
// their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "tls.pem"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// Over TLS the API speaks HTTP/1.1 and HTTP/2, as before the listener
// took over TLS (httpapi.Server.Listener): an agent's long poll over
// HTTP/1.1 is parked and its connection then serves the agent's next
// request; over HTTP/2 it waits on its stream and answers the same.
func TestTLSListenerServesHTTP1AndHTTP2Polls(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	s := runServer(t, map[string]string{"CERTCTL_DATABASE_URL": pgtest.NewDatabase(t), "CERTCTL_DATA_DIR": t.TempDir(),
		"CERTCTL_PLUGIN_DIR": pluginDir, "CERTCTL_BOOTSTRAP_ADMIN_KEY": presetKey,
		"CERTCTL_TLS_CERT_FILE": certFile, "CERTCTL_TLS_KEY_FILE": keyFile})
	tlsConfig := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	h1 := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig, MaxConnsPerHost: 1,
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}} // HTTP/1.1 only
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig, ForceAttemptHTTP2: true}}
	t.Cleanup(func() {
		h1.CloseIdleConnections()
		h2.CloseIdleConnections()
	})
	var reused []bool
	do := func(c *http.Client, method, path, key, body string, want int) (map[string]any, *http.Response) {
		t.Helper()
		req, err := http.NewRequest(method, "https://"+s.addr+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req = req.WithContext(httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) }}))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, data, want)
		}
		out := map[string]any{}
		_ = json.Unmarshal(data, &out)
		return out, resp
	}
	tok, _ := do(h1, "POST", "/api/v1/enrollment-tokens", presetKey, `{"agent_name":"tls-01"}`, 201)
	enrolled, _ := do(h1, "POST", "/api/v1/agent/enroll", "", fmt.Sprintf(`{"token":%q}`, tok["token"]), 201)
	cred := enrolled["credential"].(string)

	reused = nil
	work, resp := do(h1, "GET", "/api/v1/agent/work?wait=1s", cred, "", 200)
	if resp.ProtoMajor != 1 || work["items"] == nil || len(work["items"].([]any)) != 0 {
		t.Fatalf("HTTP/1.1 poll: %s %v", resp.Proto, work)
	}
	hb, _ := do(h1, "POST", "/api/v1/agent/heartbeat", cred, `{"os":"linux","hostname":"tls-01"}`, 200)
	if hb["agent"].(map[string]any)["hostname"] != "tls-01" {
		t.Fatalf("heartbeat: %v", hb)
	}
	if len(reused) != 2 || !reused[1] {
		t.Fatalf("connections reused by the poll and the heartbeat: %v; want the heartbeat on the poll's connection", reused)
	}

	work, resp = do(h2, "GET", "/api/v1/agent/work?wait=1s", cred, "", 200)
	if resp.ProtoMajor != 2 || work["items"] == nil || len(work["items"].([]any)) != 0 {
		t.Fatalf("HTTP/2 poll: %s %v", resp.Proto, work)
	}
}
