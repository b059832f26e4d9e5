package client_test

import (
	"context"
	"crypto/x509"
	"reflect"
	"slices"
	"testing"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// TestCertificateRequestFromEveryField: every field of a declaration is
// taken from the certificate, so a field added to both later cannot be
// dropped by read-modify-write updates (the CLI's among them) without
// this failing; and the copy shares no slice or map with the certificate.
func TestCertificateRequestFromEveryField(t *testing.T) {
	t.Parallel()
	var c api.Certificate
	cv := reflect.ValueOf(&c).Elem()
	rt := reflect.TypeFor[api.CertificateRequest]()
	for i := range rt.NumField() {
		name := rt.Field(i).Name
		f := cv.FieldByName(name)
		if !f.IsValid() {
			t.Fatalf("api.Certificate has no field %s that api.CertificateRequest has", name)
		}
		switch v := f.Addr().Interface().(type) {
		case *string:
			*v = "value-of-" + name
		case *[]string:
			*v = []string{"value-of-" + name}
		case **string:
			s := "value-of-" + name
			*v = &s
		case *map[string]string:
			*v = map[string]string{"key": "value-of-" + name}
		default:
			t.Fatalf("field %s is a %s: teach this test to fill it", name, f.Type())
		}
	}
	req := client.CertificateRequestFrom(c)
	rv := reflect.ValueOf(req)
	for i := range rt.NumField() {
		name := rt.Field(i).Name
		if got, want := rv.Field(i).Interface(), cv.FieldByName(name).Interface(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", name, got, want)
		}
	}
	req.SANs[0], req.TargetIDs[0], req.Labels["key"], *req.RenewalPolicyID = "x", "x", "x", "x"
	if c.SANs[0] == "x" || c.TargetIDs[0] == "x" || c.Labels["key"] == "x" || *c.RenewalPolicyID == "x" {
		t.Errorf("changing the request changed the certificate: %+v", c)
	}
}

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
