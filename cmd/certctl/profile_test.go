package main

import (
	"crypto/x509"
	"path/filepath"
	"slices"
	"testing"

	"github.com/certctl/certctl/sdk/api"
)

// TestCertsProfile: --profile on create reaches the issuer (the local
// CA's "client" profile makes a client-only certificate) and shows in
// get; an update that does not name it keeps it; --profile "" clears it;
// a profile the server refuses is exit 7 and changes nothing.
func TestCertsProfile(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.setupIssuer(t)

	r := s.ok(t, "certs", "create", "svc", "--cn", "svc.example.com", "--issuer", "local", "--profile", "client", "--wait")
	if got := field(t, r.stdout, "PROFILE"); got != "client" {
		t.Errorf("created certificate's PROFILE = %q\n%s", got, r.stdout)
	}
	dir := t.TempDir()
	s.ok(t, "certs", "download", "svc", "--dir", dir)
	if leaf := parseCert(t, filepath.Join(dir, "cert.pem")); !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Errorf("issued with extended key usages %v, want client authentication alone: the profile did not reach the issuer", leaf.ExtKeyUsage)
	}

	// An update of other fields keeps the profile (PUT replaces the whole
	// declaration, so the CLI must send it back).
	r = s.ok(t, "certs", "update", "svc", "--label", "team=svc", "--san", "svc.example.com")
	if field(t, r.stdout, "PROFILE") != "client" || field(t, r.stdout, "LABELS") != "team=svc" {
		t.Errorf("certs update without --profile:\n%s", r.stdout)
	}
	var c api.Certificate
	s.jsonOf(t, &c, "certs", "get", "svc")
	if c.Profile != "client" {
		t.Errorf("certs get -o json after the update: profile %q", c.Profile)
	}

	s.code(t, 7, "certs", "update", "svc", "--profile", "short lived")
	r = s.ok(t, "certs", "update", "svc", "--profile", "")
	if got := field(t, r.stdout, "PROFILE"); got != "-" {
		t.Errorf("PROFILE after --profile \"\" = %q", got)
	}
	var cleared api.Certificate // a fresh one: an omitted profile leaves a field as it was
	s.jsonOf(t, &cleared, "certs", "get", "svc")
	if cleared.Profile != "" || cleared.Labels["team"] != "svc" {
		t.Errorf("after --profile \"\": %+v", cleared)
	}
	s.code(t, 7, "certs", "create", "bad", "--cn", "bad.example.com", "--issuer", "local", "--profile", "a/b")
	s.code(t, 3, "certs", "get", "bad")
}
