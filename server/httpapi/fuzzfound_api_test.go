package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
)

// PostgreSQL text holds only valid UTF-8. JSON bodies always decode to
// valid UTF-8, but query parameters and path variables are percent-decoded
// bytes: a parameter that is not UTF-8 must be a 400 naming it, not a
// database error.
func TestParameterNotUTF8IsRefused(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{})
	viewer := env.NewKey(t, core.RoleViewer)
	cases := []struct{ name, path, field string }{
		{"agents os", "/api/v1/agents?os=%FF", "os"},
		{"certificates name_prefix", "/api/v1/certificates?name_prefix=caf%C3", "name_prefix"},
		{"audit actor", "/api/v1/audit-events?actor=%E2%82", "actor"},
		{"issuers type", "/api/v1/issuers?type=%C0%AF", "type"},
		{"CRL issuer in the path", "/crl/a%FFb.crl", "issuer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := env.Do(t, "GET", c.path, viewer, nil)
			var e api.ErrorResponse
			if err := json.Unmarshal(r.Body, &e); err != nil {
				t.Fatalf("GET %s: %d, body not a JSON error: %q", c.path, r.Status, r.Body)
			}
			if r.Status != 400 || e.Error.Code != api.CodeInvalid || e.Error.Field != c.field {
				t.Errorf("GET %s: %d %s, want 400 invalid on %q", c.path, r.Status, r.Body, c.field)
			}
		})
	}
	// Valid UTF-8 beyond ASCII is a filter like any other.
	env.MustDo(t, "GET", "/api/v1/certificates?name_prefix=caf%C3%A9", viewer, nil, 200)
}

// An agent's deployment report message is cut to 64 KiB on a character
// boundary: a cut through a character would leave bytes the database refuses.
func TestLongDeployReportIsCutOnACharacter(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir})
	a, cred := enroll(t, env, "cut")
	var iss api.Issuer
	env.MustDo(t, "POST", "/api/v1/issuers", env.AdminKey, api.IssuerRequest{Name: "ca", Type: "local",
		Config: map[string]any{"ca_key_type": "ecdsa-p256"}}, 201).Decode(t, &iss)
	var tgt api.Target
	env.MustDo(t, "POST", "/api/v1/targets", env.AdminKey, api.TargetRequest{Name: "web", Type: "nginx", AgentID: &a.ID,
		Config: map[string]any{"certificate_path": "/etc/ssl/a.pem"}}, 201).Decode(t, &tgt)
	var cert api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "app", CommonName: "app.example.com",
		IssuerID: iss.ID, TargetIDs: []string{tgt.ID}}, 201).Decode(t, &cert)
	var w api.AgentWork
	env.MustDo(t, "GET", "/api/v1/agent/work", cred, nil, 200).Decode(t, &w)
	if len(w.Items) != 1 || w.Items[0].Kind != api.AgentWorkCSR {
		t.Fatalf("work = %+v", w)
	}
	env.MustDo(t, "POST", "/api/v1/agent/jobs/"+w.Items[0].JobID+"/csr", cred, api.CSRRequest{CSRPEM: csrFor(t, "app.example.com")}, 200)
	env.RunJobs(t)
	env.MustDo(t, "GET", "/api/v1/agent/work", cred, nil, 200).Decode(t, &w)
	if len(w.Items) != 1 || w.Items[0].Kind != api.AgentWorkDeploy {
		t.Fatalf("deploy work = %+v", w)
	}
	// "é" is two bytes; the 64 KiB limit falls between them.
	msg := strings.Repeat("x", 64<<10-1) + "é and more"
	env.MustDo(t, "POST", "/api/v1/agent/jobs/"+w.Items[0].JobID+"/result", cred, api.AgentDeployResult{Message: msg}, 204)
	var deps api.List[api.Deployment]
	env.MustDo(t, "GET", "/api/v1/certificates/"+cert.ID+"/deployments", env.AdminKey, nil, 200).Decode(t, &deps)
	if len(deps.Items) != 1 || deps.Items[0].Status != "failed" || deps.Items[0].Message != msg[:64<<10-1] {
		t.Fatalf("deployments = %+v", deps.Items)
	}
}

// SANs are stored as the certificate will hold them, and a URI an X.509
// parser would refuse is refused here, not by the issuer.
func TestSANsAreStoredAsCertificatesHoldThem(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir})
	var iss api.Issuer
	env.MustDo(t, "POST", "/api/v1/issuers", env.AdminKey, api.IssuerRequest{Name: "ca", Type: "local"}, 201).Decode(t, &iss)
	var cert api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "mapped", CommonName: "mapped.example.com",
		SANs: []string{"::ffff:10.0.0.1", "2001:DB8:0::1", "HTTPS://Example.com/a"}, IssuerID: iss.ID}, 201).Decode(t, &cert)
	want := []string{"10.0.0.1", "2001:db8::1", "https://Example.com/a"}
	if strings.Join(cert.SANs, ",") != strings.Join(want, ",") {
		t.Errorf("sans = %q, want %q", cert.SANs, want)
	}
	env.RunJobs(t)
	env.MustDo(t, "GET", "/api/v1/certificates/"+cert.ID, env.AdminKey, nil, 200).Decode(t, &cert)
	if cert.Status != "active" {
		t.Errorf("status = %s, want active", cert.Status)
	}
	for _, san := range []string{"a://.", "spiffe://example..org/x", "é@example.com"} {
		r := env.Do(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "bad", CommonName: "bad.example.com",
			SANs: []string{san}, IssuerID: iss.ID})
		if r.Status != 400 {
			t.Errorf("san %q: %d %s, want 400", san, r.Status, r.Body)
		}
	}
}
