package main

import (
	"encoding/pem"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTLS: a server behind HTTPS with a certificate of a private CA is
// refused until certctl is given the CA (--ca-file, CERTCTL_CA_FILE or a
// context's ca-file), or told to skip verification.
func TestTLS(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	backend, err := url.Parse(s.env.URL)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(backend))
	t.Cleanup(front.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: front.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"CERTCTL_URL=" + front.URL, "CERTCTL_API_KEY=" + s.env.AdminKey}

	if r := s.runWith(t, env, "", "certs", "list"); r.code != 1 || !strings.Contains(r.stderr, "certificate") {
		t.Errorf("an unknown CA: %s", r)
	}
	if r := s.runWith(t, env, "", "certs", "list", "--ca-file", caFile); r.code != 0 {
		t.Errorf("--ca-file: %s", r)
	}
	if r := s.runWith(t, append(env, "CERTCTL_CA_FILE="+caFile), "", "certs", "list"); r.code != 0 {
		t.Errorf("CERTCTL_CA_FILE: %s", r)
	}
	if r := s.runWith(t, env, "", "certs", "list", "--insecure-skip-verify"); r.code != 0 {
		t.Errorf("--insecure-skip-verify: %s", r)
	}
	if r := s.runWith(t, env, "", "certs", "list", "--ca-file", filepath.Join(t.TempDir(), "missing.pem")); r.code != 1 {
		t.Errorf("a missing CA file: %s", r)
	}
	// A context with the CA file.
	s.ok(t, "config", "set-context", "tls", "--url", front.URL, "--api-key", s.env.AdminKey, "--ca-file", caFile)
	if r := s.runWith(t, nil, "", "certs", "list"); r.code != 0 {
		t.Errorf("a context with ca-file: %s", r)
	}
}
