package sdkclient_test

import (
	"context"
	"crypto/x509"
	"slices"
	"testing"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// TestCertificateProfile: a certificate's profile goes to the server and
// back, reaches the issuer (the local CA's "client" profile makes a
// client-only certificate), survives an update made from
// CertificateRequestFrom, and "" clears it; the server refuses a profile
// that is not a short token, naming the field.
func TestCertificateProfile(t *testing.T) {
	t.Parallel()
	env, c := start(t)
	ctx := context.Background()
	iss := must(c.CreateIssuer(ctx, api.IssuerRequest{Name: "ca", Type: "local"}))(t)
	cert := must(c.CreateCertificate(ctx, api.CertificateRequest{Name: "svc", CommonName: "svc.example.com",
		IssuerID: iss.ID, Profile: "client"}))(t)
	if cert.Profile != "client" {
		t.Fatalf("created certificate's Profile = %q", cert.Profile)
	}
	if n := env.RunJobs(t); n < 1 {
		t.Fatalf("ran %d jobs", n)
	}
	cert = must(c.GetCertificate(ctx, cert.ID))(t)
	if cert.Profile != "client" || cert.CurrentVersionID == nil {
		t.Fatalf("issued certificate = %+v", cert)
	}
	v := must(c.GetCertificateVersion(ctx, cert.ID, *cert.CurrentVersionID))(t)
	if leaf := parseCert(t, v.CertificatePEM); !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Errorf("issued with extended key usages %v, want client authentication alone (the profile did not reach the issuer)", leaf.ExtKeyUsage)
	}

	req := client.CertificateRequestFrom(*cert)
	req.Labels = map[string]string{"team": "svc"}
	if got := must(c.UpdateCertificate(ctx, cert.ID, req))(t); got.Profile != "client" || got.Labels["team"] != "svc" {
		t.Errorf("update from CertificateRequestFrom: %+v, want the profile kept", got)
	}
	req.Profile = ""
	if got := must(c.UpdateCertificate(ctx, cert.ID, req))(t); got.Profile != "" {
		t.Errorf("update with Profile \"\": Profile = %q, want it cleared", got.Profile)
	}
	req.Profile = "short lived"
	_, err := c.UpdateCertificate(ctx, cert.ID, req)
	if e, ok := client.AsError(err); !ok || !client.IsInvalid(err) || e.Field != "profile" {
		t.Errorf("a profile with a space: %v, want invalid on profile", err)
	}
}
