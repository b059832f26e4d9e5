package httpapi_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
)

// localCA creates a local CA issuer and returns it with its CA certificate.
func localCA(t *testing.T, env *apitest.Env, name string) (api.Issuer, *x509.Certificate) {
	t.Helper()
	var iss api.Issuer
	env.MustDo(t, "POST", "/api/v1/issuers", env.AdminKey, api.IssuerRequest{Name: name, Type: "local",
		Config: map[string]any{"ca_key_type": "ecdsa-p256"}}, 201).Decode(t, &iss)
	caPEM, _ := iss.Config["ca_certificate_pem"].(string)
	block, _ := pem.Decode([]byte(caPEM))
	if block == nil {
		t.Fatalf("issuer %s has no ca_certificate_pem: %+v", name, iss.Config)
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return iss, ca
}

func listJobs(t *testing.T, env *apitest.Env, key, query string) []api.Job {
	t.Helper()
	var page api.List[api.Job]
	env.MustDo(t, "GET", "/api/v1/jobs?limit=500&"+query, key, nil, 200).Decode(t, &page)
	return page.Items
}

func listVersions(t *testing.T, env *apitest.Env, certID string) []api.CertificateVersion {
	t.Helper()
	var page api.List[api.CertificateVersion]
	env.MustDo(t, "GET", "/api/v1/certificates/"+certID+"/versions", env.AdminKey, nil, 200).Decode(t, &page)
	return page.Items
}

func listNotifications(t *testing.T, env *apitest.Env, query string) []api.Notification {
	t.Helper()
	var page api.List[api.Notification]
	env.MustDo(t, "GET", "/api/v1/notifications?limit=500&"+query, env.AdminKey, nil, 200).Decode(t, &page)
	return page.Items
}

func getCertificate(t *testing.T, env *apitest.Env, id string) api.Certificate {
	t.Helper()
	var c api.Certificate
	env.MustDo(t, "GET", "/api/v1/certificates/"+id, env.AdminKey, nil, 200).Decode(t, &c)
	return c
}

// wantInvalid checks that a request is refused with 400 naming field.
func wantInvalid(t *testing.T, env *apitest.Env, method, path string, body any, field string) {
	t.Helper()
	r := env.Do(t, method, path, env.AdminKey, body)
	var e api.ErrorResponse
	_ = json.Unmarshal(r.Body, &e)
	if r.Status != 400 || e.Error.Code != api.CodeInvalid || e.Error.Field != field {
		t.Errorf("%s %s %v: %d %s, want 400 on %q", method, path, body, r.Status, r.Body, field)
	}
}

func leafOf(t *testing.T, v api.CertificateVersion) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(v.CertificatePEM))
	if block == nil {
		t.Fatalf("version %s has no PEM certificate", v.ID)
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

func samePublicKey(t *testing.T, key any, cert *x509.Certificate) bool {
	t.Helper()
	signer, ok := key.(crypto.Signer)
	if !ok {
		t.Fatalf("key %T is not a signer", key)
	}
	a, err1 := x509.MarshalPKIXPublicKey(signer.Public())
	b, err2 := x509.MarshalPKIXPublicKey(cert.PublicKey)
	return err1 == nil && err2 == nil && string(a) == string(b)
}

func TestCertificateLifecycleOverHTTP(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir})
	operator := env.NewKey(t, core.RoleOperator)
	viewer := env.NewKey(t, core.RoleViewer)
	iss, caCert := localCA(t, env, "ca")

	// Declaring a certificate (server key mode: no targets) starts its issuance.
	var cert api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", operator, api.CertificateRequest{Name: "app", CommonName: "app.example.com",
		SANs: []string{"app.example.com", "api.example.com"}, IssuerID: iss.ID}, 201).Decode(t, &cert)
	if cert.Status != "issuing" || cert.KeyMode != "server" || cert.LastError != "" {
		t.Fatalf("new certificate = %+v, want issuing in server key mode", cert)
	}
	jobs := listJobs(t, env, viewer, "certificate_id="+cert.ID)
	if len(jobs) != 1 {
		t.Fatalf("jobs of the new certificate = %+v, want one", jobs)
	}
	issue := jobs[0]
	if issue.Kind != "issue" || issue.State != "queued" || issue.Trigger != "created" || issue.CertificateID == nil ||
		*issue.CertificateID != cert.ID || issue.HasCSR || issue.MaxAttempts < 1 || issue.FinishedAt != nil {
		t.Errorf("issue job = %+v", issue)
	}
	var got api.Job
	env.MustDo(t, "GET", "/api/v1/jobs/"+issue.ID, viewer, nil, 200).Decode(t, &got)
	if got.ID != issue.ID || got.Kind != "issue" {
		t.Errorf("GET job = %+v", got)
	}

	if n := env.RunJobs(t); n < 1 {
		t.Fatalf("ran %d jobs, want at least the issuance", n)
	}
	cert = getCertificate(t, env, cert.ID)
	if cert.Status != "active" || cert.CurrentVersionID == nil || cert.NotAfter == nil || cert.NextRenewalAt == nil {
		t.Fatalf("issued certificate = %+v", cert)
	}
	versions := listVersions(t, env, cert.ID)
	if len(versions) != 1 || versions[0].ID != *cert.CurrentVersionID || !versions[0].HasPrivateKey ||
		versions[0].Status != "active" || versions[0].JobID == nil || *versions[0].JobID != issue.ID {
		t.Fatalf("versions = %+v", versions)
	}
	env.MustDo(t, "GET", "/api/v1/jobs/"+issue.ID, viewer, nil, 200).Decode(t, &got)
	if got.State != "succeeded" || got.FinishedAt == nil || got.Attempt != 1 {
		t.Errorf("issue job after running = %+v", got)
	}

	// The renewal explanation.
	var ex api.RenewalExplanation
	env.MustDo(t, "GET", "/api/v1/certificates/"+cert.ID+"/renewal", viewer, nil, 200).Decode(t, &ex)
	if ex.CertificateID != cert.ID || ex.Status != "active" || !ex.Policy.IsDefault || ex.Policy.Mode != "fraction" ||
		ex.NotBefore == nil || !ex.NotBefore.Equal(versions[0].NotBefore) || ex.NotAfter == nil ||
		ex.NextRenewalAt == nil || ex.Due || ex.JobID != nil || !strings.HasPrefix(ex.Reason, "renews") {
		t.Errorf("renewal explanation = %+v", ex)
	}
	if !ex.NextRenewalAt.After(*ex.NotBefore) || !ex.NextRenewalAt.Before(*ex.NotAfter) {
		t.Errorf("next renewal %s is not within the validity %s - %s", ex.NextRenewalAt, ex.NotBefore, ex.NotAfter)
	}
	env.MustDo(t, "GET", "/api/v1/certificates/"+uuid.NewString()+"/renewal", viewer, nil, 404)

	// Renew now: 202 with the job; a second request while it is live is a 409.
	r := env.MustDo(t, "POST", "/api/v1/certificates/"+cert.ID+"/renew", operator, nil, 202)
	var renew api.Job
	r.Decode(t, &renew)
	if renew.Kind != "renew" || renew.State != "queued" || renew.Trigger != "manual" || r.Header.Get("Location") != "/api/v1/jobs/"+renew.ID {
		t.Errorf("renew job = %+v, Location %q", renew, r.Header.Get("Location"))
	}
	if r := env.Do(t, "POST", "/api/v1/certificates/"+cert.ID+"/renew", operator, nil); r.Status != 409 || r.ErrorCode() != api.CodeConflict {
		t.Errorf("second renewal while one is live: %d %s", r.Status, r.Body)
	}
	env.MustDo(t, "GET", "/api/v1/certificates/"+cert.ID+"/renewal", viewer, nil, 200).Decode(t, &ex)
	if ex.JobID == nil || *ex.JobID != renew.ID || ex.Status != "renewing" {
		t.Errorf("explanation during renewal = %+v", ex)
	}
	env.MustDo(t, "POST", "/api/v1/certificates/"+cert.ID+"/renew", viewer, nil, 403)
	env.MustDo(t, "POST", "/api/v1/certificates/"+uuid.NewString()+"/renew", operator, nil, 404)
	env.RunJobs(t)
	versions = listVersions(t, env, cert.ID)
	if len(versions) != 2 || versions[0].Status != "active" || versions[1].Status != "superseded" {
		t.Fatalf("versions after renewal = %+v", versions)
	}
	cert = getCertificate(t, env, cert.ID)
	current := versions[0]
	if cert.Status != "active" || *cert.CurrentVersionID != current.ID {
		t.Fatalf("renewed certificate = %+v", cert)
	}
	leaf := leafOf(t, current)

	// Private key export: admins only, never cached.
	keyPath := "/api/v1/certificates/" + cert.ID + "/versions/" + current.ID + "/private-key"
	env.MustDo(t, "GET", keyPath, operator, nil, 403)
	env.MustDo(t, "GET", keyPath, viewer, nil, 403)
	r = env.MustDo(t, "GET", keyPath, env.AdminKey, nil, 200)
	if ct := r.Header.Get("Content-Type"); ct != "application/x-pem-file" || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("PEM export headers: Content-Type %q, Cache-Control %q", ct, r.Header.Get("Cache-Control"))
	}
	block, rest := pem.Decode(r.Body)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("PEM export does not start with a PRIVATE KEY block: %.40q", r.Body)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !samePublicKey(t, key, leaf) {
		t.Error("exported key does not match the certificate")
	}
	if certBlock, _ := pem.Decode(rest); certBlock == nil || certBlock.Type != "CERTIFICATE" {
		t.Error("PEM export has no certificate after the key")
	}
	r = env.MustDo(t, "GET", keyPath+"?format=pkcs12", env.AdminKey, nil, 200)
	password := r.Header.Get("X-Certctl-PKCS12-Password")
	if r.Header.Get("Content-Type") != "application/x-pkcs12" || password == "" || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("PKCS#12 export headers = %v", r.Header)
	}
	p12Key, p12Leaf, _, err := pkcs12.DecodeChain(r.Body, password)
	if err != nil {
		t.Fatalf("decode PKCS#12: %v", err)
	}
	if p12Leaf.SerialNumber.Cmp(leaf.SerialNumber) != 0 || !samePublicKey(t, p12Key, leaf) {
		t.Error("PKCS#12 export holds another certificate or key")
	}
	if _, _, _, err := pkcs12.DecodeChain(r.Body, password+"x"); err == nil {
		t.Error("PKCS#12 export opens with a wrong password")
	}
	wantInvalid(t, env, "GET", keyPath+"?format=der", nil, "format")
	env.MustDo(t, "GET", "/api/v1/certificates/"+cert.ID+"/versions/"+uuid.NewString()+"/private-key", env.AdminKey, nil, 404)
	var audit api.List[api.AuditEvent]
	env.MustDo(t, "GET", "/api/v1/audit-events?action=certificate.export_key&limit=500", env.AdminKey, nil, 200).Decode(t, &audit)
	outcomes := map[string]int{}
	for _, e := range audit.Items {
		outcomes[e.Outcome]++
	}
	if outcomes["success"] != 2 || outcomes["denied"] != 2 || outcomes["failure"] < 1 {
		t.Errorf("key export audit outcomes = %v", outcomes)
	}

	// Revocation: bad reasons are refused, names and codes are accepted.
	revokePath := "/api/v1/certificates/" + cert.ID + "/revoke"
	wantInvalid(t, env, "POST", revokePath, map[string]any{"reason": "bogus"}, "reason")
	wantInvalid(t, env, "POST", revokePath, map[string]any{"reason": 7}, "reason")
	wantInvalid(t, env, "POST", revokePath, map[string]any{"reason": 1.5}, "reason")
	wantInvalid(t, env, "POST", revokePath, map[string]any{"reason": true}, "reason")
	wantInvalid(t, env, "POST", revokePath, map[string]any{"version_id": "nope"}, "version_id")
	env.MustDo(t, "POST", revokePath, operator, map[string]any{"version_id": uuid.NewString()}, 404)
	env.MustDo(t, "POST", revokePath, viewer, api.RevokeRequest{Reason: "keyCompromise"}, 403)
	r = env.MustDo(t, "POST", revokePath, operator, api.RevokeRequest{Reason: "keyCompromise"}, 202)
	var revoke api.Job
	r.Decode(t, &revoke)
	if revoke.Kind != "revoke" || revoke.VersionID == nil || *revoke.VersionID != current.ID || r.Header.Get("Location") == "" {
		t.Errorf("revoke job = %+v", revoke)
	}
	env.MustDo(t, "POST", revokePath, operator, api.RevokeRequest{Reason: "1"}, 409) // already under way
	env.RunJobs(t)
	var revoked api.CertificateVersion
	env.MustDo(t, "GET", "/api/v1/certificates/"+cert.ID+"/versions/"+current.ID, viewer, nil, 200).Decode(t, &revoked)
	if revoked.Status != "revoked" || revoked.RevokedAt == nil || revoked.RevocationReason != "keyCompromise" {
		t.Errorf("revoked version = %+v", revoked)
	}
	if c := getCertificate(t, env, cert.ID); c.Status != "revoked" {
		t.Errorf("certificate status after revocation = %q", c.Status)
	}
	env.MustDo(t, "POST", revokePath, operator, nil, 409)                               // already revoked
	env.MustDo(t, "POST", "/api/v1/certificates/"+cert.ID+"/renew", operator, nil, 409) // revoked: update it instead
	env.MustDo(t, "GET", "/api/v1/certificates/"+cert.ID+"/renewal", viewer, nil, 200).Decode(t, &ex)
	if ex.Status != "revoked" || !strings.HasPrefix(ex.Reason, "revoked") {
		t.Errorf("explanation of a revoked certificate = %+v", ex)
	}

	// The CRL is public, signed by the CA, and lists the revoked serial.
	for _, ref := range []string{"ca", iss.ID} {
		r := env.MustDo(t, "GET", "/crl/"+ref+".crl", "", nil, 200)
		if r.Header.Get("Content-Type") != "application/pkix-crl" || r.Header.Get("Last-Modified") == "" {
			t.Errorf("CRL headers = %v", r.Header)
		}
		cc := r.Header.Get("Cache-Control")
		age, err := strconv.Atoi(strings.TrimPrefix(cc, "public, max-age="))
		if err != nil || age <= 0 || age > 300 {
			t.Errorf("CRL Cache-Control = %q", cc)
		}
		crl, err := x509.ParseRevocationList(r.Body)
		if err != nil {
			t.Fatalf("parse CRL: %v", err)
		}
		if err := crl.CheckSignatureFrom(caCert); err != nil {
			t.Errorf("CRL signature: %v", err)
		}
		if lm, _ := http.ParseTime(r.Header.Get("Last-Modified")); !lm.Equal(crl.ThisUpdate.Truncate(time.Second)) {
			t.Errorf("Last-Modified %s, CRL thisUpdate %s", r.Header.Get("Last-Modified"), crl.ThisUpdate)
		}
		var listed []string
		for _, e := range crl.RevokedCertificateEntries {
			listed = append(listed, e.SerialNumber.Text(16))
			if e.SerialNumber.Text(16) == revoked.SerialNumber && e.ReasonCode != 1 {
				t.Errorf("CRL entry reason = %d, want 1 (keyCompromise)", e.ReasonCode)
			}
		}
		if len(listed) != 1 || listed[0] != revoked.SerialNumber {
			t.Errorf("CRL lists %v, want only %s", listed, revoked.SerialNumber)
		}
	}
	// Conditional and HEAD requests.
	first := env.MustDo(t, "GET", "/crl/ca.crl", "", nil, 200)
	req, _ := http.NewRequest("GET", env.URL+"/crl/ca.crl", nil)
	req.Header.Set("If-Modified-Since", first.Header.Get("Last-Modified"))
	resp, err := env.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("conditional CRL request: %d, want 304", resp.StatusCode)
	}
	if r := env.Do(t, "HEAD", "/crl/ca.crl", "", nil); r.Status != 200 || len(r.Body) != 0 {
		t.Errorf("HEAD CRL: %d with %d bytes", r.Status, len(r.Body))
	}
	if r := env.Do(t, "GET", "/crl/nope.crl", "", nil); r.Status != 404 || r.ErrorCode() != api.CodeNotFound {
		t.Errorf("CRL of an unknown issuer: %d %s", r.Status, r.Body)
	}

	// Notifications: without a rule, events are recorded as no_notifier.
	notes := listNotifications(t, env, "certificate_id="+cert.ID)
	var events []string
	for _, n := range notes {
		events = append(events, n.Event)
		if n.Status != "no_notifier" || n.NotifierID != nil || n.RuleID != nil || n.CertificateID == nil ||
			*n.CertificateID != cert.ID || len(n.Payload) == 0 {
			t.Errorf("notification = %+v", n)
		}
	}
	if strings.Join(events, ",") != "certificate.revoked,certificate.renewed,certificate.issued" {
		t.Errorf("notification events, newest first = %v", events)
	}
	if n := listNotifications(t, env, "event=certificate.renewed&status=no_notifier&certificate_id="+cert.ID); len(n) != 1 {
		t.Errorf("renewed notifications = %+v", n)
	}
	if n := listNotifications(t, env, "status=sent"); len(n) != 0 {
		t.Errorf("sent notifications = %+v", n)
	}
	wantInvalid(t, env, "GET", "/api/v1/notifications?status=bogus", nil, "status")
	wantInvalid(t, env, "GET", "/api/v1/notifications?certificate_id=nope", nil, "certificate_id")

	// Job lists: filters, newest first, pages.
	all := listJobs(t, env, viewer, "certificate_id="+cert.ID)
	if len(all) != 3 || all[0].Kind != "revoke" || all[1].Kind != "renew" || all[2].Kind != "issue" {
		t.Errorf("jobs, newest first = %+v", all)
	}
	if j := listJobs(t, env, viewer, "kind=renew&certificate_id="+cert.ID); len(j) != 1 || j[0].ID != renew.ID {
		t.Errorf("renew jobs = %+v", j)
	}
	if j := listJobs(t, env, viewer, "state=succeeded&certificate_id="+cert.ID); len(j) != 3 {
		t.Errorf("succeeded jobs = %+v", j)
	}
	var page api.List[api.Job]
	env.MustDo(t, "GET", "/api/v1/jobs?limit=2&certificate_id="+cert.ID, viewer, nil, 200).Decode(t, &page)
	if len(page.Items) != 2 || page.NextCursor == nil {
		t.Fatalf("first page = %+v", page)
	}
	env.MustDo(t, "GET", "/api/v1/jobs?limit=2&certificate_id="+cert.ID+"&cursor="+*page.NextCursor, viewer, nil, 200).Decode(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != issue.ID || page.NextCursor != nil {
		t.Errorf("second page = %+v", page)
	}
	wantInvalid(t, env, "GET", "/api/v1/jobs?kind=bogus", nil, "kind")
	wantInvalid(t, env, "GET", "/api/v1/jobs?state=bogus", nil, "state")
	wantInvalid(t, env, "GET", "/api/v1/jobs?certificate_id=nope", nil, "certificate_id")
	wantInvalid(t, env, "GET", "/api/v1/jobs/nope", nil, "id")
	env.MustDo(t, "GET", "/api/v1/jobs/"+uuid.NewString(), viewer, nil, 404)
}

func TestBulkRenewAndRevoke(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir})
	iss, _ := localCA(t, env, "ca")
	ids := map[string]string{}
	for _, name := range []string{"bulk-a", "bulk-b", "bulk-c", "other"} {
		var c api.Certificate
		env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: name,
			CommonName: name + ".example.com", IssuerID: iss.ID}, 201).Decode(t, &c)
		ids[name] = c.ID
	}
	env.RunJobs(t)

	wantInvalid(t, env, "POST", "/api/v1/certificates/renew", map[string]any{}, "filter")
	wantInvalid(t, env, "POST", "/api/v1/certificates/renew", map[string]any{"status": "bogus"}, "status")
	wantInvalid(t, env, "POST", "/api/v1/certificates/renew", map[string]any{"issuer_id": "nope"}, "issuer_id")
	wantInvalid(t, env, "POST", "/api/v1/certificates/revoke", map[string]any{"name_prefix": "bulk-", "reason": "nope"}, "reason")
	env.MustDo(t, "POST", "/api/v1/certificates/renew", env.NewKey(t, core.RoleViewer), api.BulkRenewRequest{NamePrefix: "bulk-"}, 403)

	var res api.BulkResult
	env.MustDo(t, "POST", "/api/v1/certificates/renew", env.AdminKey, api.BulkRenewRequest{NamePrefix: "bulk-"}, 200).Decode(t, &res)
	if res.Matched != 3 || res.Started != 3 || res.Skipped != 0 || len(res.JobIDs) != 3 {
		t.Fatalf("bulk renew = %+v", res)
	}
	for _, id := range res.JobIDs {
		var j api.Job
		env.MustDo(t, "GET", "/api/v1/jobs/"+id, env.AdminKey, nil, 200).Decode(t, &j)
		if j.Kind != "renew" || j.Trigger != "manual" || j.CertificateID == nil || *j.CertificateID == ids["other"] {
			t.Errorf("bulk renew job = %+v", j)
		}
	}
	// While they are under way, a second bulk renewal skips them.
	env.MustDo(t, "POST", "/api/v1/certificates/renew", env.AdminKey, api.BulkRenewRequest{NamePrefix: "bulk-",
		IssuerID: &iss.ID}, 200).Decode(t, &res)
	if res.Matched != 3 || res.Started != 0 || res.Skipped != 3 || len(res.JobIDs) != 0 {
		t.Errorf("bulk renew while under way = %+v", res)
	}
	env.RunJobs(t)
	for name, id := range ids {
		want := 2
		if name == "other" {
			want = 1
		}
		if v := listVersions(t, env, id); len(v) != want {
			t.Errorf("%s has %d versions, want %d", name, len(v), want)
		}
	}

	env.MustDo(t, "POST", "/api/v1/certificates/revoke", env.AdminKey, map[string]any{"name_prefix": "bulk-", "reason": 4}, 200).Decode(t, &res)
	if res.Matched != 3 || res.Started != 3 || len(res.JobIDs) != 3 {
		t.Fatalf("bulk revoke = %+v", res)
	}
	env.RunJobs(t)
	for name, id := range ids {
		c := getCertificate(t, env, id)
		if want := map[bool]string{true: "active", false: "revoked"}[name == "other"]; c.Status != want {
			t.Errorf("%s is %s, want %s", name, c.Status, want)
		}
		if name != "other" {
			var v api.CertificateVersion
			env.MustDo(t, "GET", "/api/v1/certificates/"+id+"/versions/"+*c.CurrentVersionID, env.AdminKey, nil, 200).Decode(t, &v)
			if v.RevocationReason != "superseded" {
				t.Errorf("%s revoked with reason %q, want superseded", name, v.RevocationReason)
			}
		}
	}
	// Revoked certificates are skipped by both bulk actions.
	env.MustDo(t, "POST", "/api/v1/certificates/revoke", env.AdminKey, api.BulkRevokeRequest{Status: "revoked"}, 200).Decode(t, &res)
	if res.Matched != 3 || res.Started != 0 || res.Skipped != 3 {
		t.Errorf("bulk revoke of revoked certificates = %+v", res)
	}
	env.MustDo(t, "POST", "/api/v1/certificates/renew", env.AdminKey, api.BulkRenewRequest{Status: "revoked"}, 200).Decode(t, &res)
	if res.Matched != 3 || res.Started != 0 || res.Skipped != 3 {
		t.Errorf("bulk renew of revoked certificates = %+v", res)
	}
}

func TestJobsCancelRetryAndCSR(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir})
	operator := env.NewKey(t, core.RoleOperator)
	viewer := env.NewKey(t, core.RoleViewer)
	iss, _ := localCA(t, env, "ca")

	var cert api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", operator, api.CertificateRequest{Name: "c1", CommonName: "c1.example.com",
		IssuerID: iss.ID}, 201).Decode(t, &cert)
	job := listJobs(t, env, operator, "certificate_id="+cert.ID)[0]

	// Cancel a queued job; a job that is not live cannot be cancelled.
	env.MustDo(t, "POST", "/api/v1/jobs/"+job.ID+"/cancel", viewer, nil, 403)
	var j api.Job
	env.MustDo(t, "POST", "/api/v1/jobs/"+job.ID+"/cancel", operator, nil, 200).Decode(t, &j)
	if j.State != "cancelled" || j.FinishedAt == nil || !strings.Contains(j.LastError, "test-operator") {
		t.Errorf("cancelled job = %+v", j)
	}
	if c := getCertificate(t, env, cert.ID); c.Status != "pending" || c.LastError == "" {
		t.Errorf("certificate after cancelling its first issuance = %+v", c)
	}
	if r := env.Do(t, "POST", "/api/v1/jobs/"+job.ID+"/cancel", operator, nil); r.Status != 409 || r.ErrorCode() != api.CodeConflict {
		t.Errorf("cancel a cancelled job: %d %s", r.Status, r.Body)
	}
	if n := env.RunJobs(t); n != 0 {
		t.Errorf("a cancelled job ran (%d jobs)", n)
	}
	// A job that does not wait for a CSR refuses one.
	env.MustDo(t, "POST", "/api/v1/jobs/"+job.ID+"/csr", operator, api.CSRRequest{CSRPEM: "x"}, 409)

	// Retry it: it runs from its first attempt.
	env.MustDo(t, "POST", "/api/v1/jobs/"+job.ID+"/retry", viewer, nil, 403)
	env.MustDo(t, "POST", "/api/v1/jobs/"+job.ID+"/retry", operator, nil, 200).Decode(t, &j)
	if j.State != "queued" || j.Attempt != 0 || j.FinishedAt != nil {
		t.Errorf("retried job = %+v", j)
	}
	env.MustDo(t, "POST", "/api/v1/jobs/"+job.ID+"/retry", operator, nil, 409) // queued, not failed
	env.RunJobs(t)
	env.MustDo(t, "GET", "/api/v1/jobs/"+job.ID, viewer, nil, 200).Decode(t, &j)
	if j.State != "succeeded" {
		t.Errorf("retried job after running = %+v", j)
	}
	if c := getCertificate(t, env, cert.ID); c.Status != "active" {
		t.Errorf("certificate after the retried issuance = %+v", c)
	}
	env.MustDo(t, "POST", "/api/v1/jobs/"+job.ID+"/retry", operator, nil, 409)
	env.MustDo(t, "POST", "/api/v1/jobs/"+job.ID+"/cancel", operator, nil, 409)
	for _, action := range []string{"cancel", "retry"} {
		env.MustDo(t, "POST", "/api/v1/jobs/"+uuid.NewString()+"/"+action, operator, nil, 404)
		wantInvalid(t, env, "POST", "/api/v1/jobs/nope/"+action, nil, "id")
	}

	// Agent key mode: the issuance waits for the agent's CSR.
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	ip := netip.MustParseAddr("10.0.0.7")
	agent := core.Agent{ID: uuid.Must(uuid.NewV7()), Name: "web-1", Status: core.AgentOnline, Labels: map[string]string{},
		OS: "linux", Arch: "amd64", IPAddress: &ip, Hostname: "web-1", AgentVersion: "1.0.0", LastHeartbeatAt: &now,
		EnrolledAt: now, CreatedAt: now, UpdatedAt: now}
	if err := env.Store.Q().CreateAgent(ctx, agent); err != nil {
		t.Fatal(err)
	}
	agentID := agent.ID.String()
	var tgt api.Target
	env.MustDo(t, "POST", "/api/v1/targets", env.AdminKey, api.TargetRequest{Name: "web", Type: "nginx", AgentID: &agentID,
		Config: map[string]any{"cert_path": "/etc/ssl/app.pem"}}, 201).Decode(t, &tgt)
	var ac api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", operator, api.CertificateRequest{Name: "agent-cert",
		CommonName: "app2.example.com", IssuerID: iss.ID, TargetIDs: []string{tgt.ID}}, 201).Decode(t, &ac)
	if ac.KeyMode != "agent" || ac.Status != "issuing" {
		t.Fatalf("agent-mode certificate = %+v", ac)
	}
	waiting := listJobs(t, env, viewer, "certificate_id="+ac.ID)
	if len(waiting) != 1 || waiting[0].State != "waiting" || waiting[0].AgentID == nil || *waiting[0].AgentID != agentID || waiting[0].HasCSR {
		t.Fatalf("agent-mode jobs = %+v", waiting)
	}
	csrPath := "/api/v1/jobs/" + waiting[0].ID + "/csr"
	var ex api.RenewalExplanation
	env.MustDo(t, "GET", "/api/v1/certificates/"+ac.ID+"/renewal", viewer, nil, 200).Decode(t, &ex)
	if ex.JobID == nil || *ex.JobID != waiting[0].ID || !strings.Contains(ex.Reason, "CSR") {
		t.Errorf("explanation of a waiting issuance = %+v", ex)
	}

	csrFor := func(cn string, curve elliptic.Curve) string {
		key, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn},
			DNSNames: []string{cn}}, key)
		if err != nil {
			t.Fatal(err)
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	}
	wantInvalid(t, env, "POST", csrPath, map[string]any{}, "csr_pem")
	wantInvalid(t, env, "POST", csrPath, api.CSRRequest{CSRPEM: "not a CSR"}, "csr_pem")
	wantInvalid(t, env, "POST", csrPath, api.CSRRequest{CSRPEM: csrFor("other.example.com", elliptic.P256())}, "csr_pem")
	wantInvalid(t, env, "POST", csrPath, api.CSRRequest{CSRPEM: csrFor("app2.example.com", elliptic.P384())}, "csr_pem")
	wantInvalid(t, env, "POST", csrPath, map[string]any{"csr": "x"}, "")
	env.MustDo(t, "POST", csrPath, viewer, api.CSRRequest{CSRPEM: csrFor("app2.example.com", elliptic.P256())}, 403)
	env.MustDo(t, "POST", "/api/v1/jobs/"+uuid.NewString()+"/csr", operator, api.CSRRequest{CSRPEM: "x"}, 404)
	env.MustDo(t, "POST", csrPath, operator, api.CSRRequest{CSRPEM: csrFor("app2.example.com", elliptic.P256())}, 200).Decode(t, &j)
	if j.State != "queued" || !j.HasCSR {
		t.Errorf("job after its CSR = %+v", j)
	}
	env.MustDo(t, "POST", csrPath, operator, api.CSRRequest{CSRPEM: csrFor("app2.example.com", elliptic.P256())}, 409)
	env.RunJobs(t)
	ac = getCertificate(t, env, ac.ID)
	if ac.Status != "active" || ac.CurrentVersionID == nil {
		t.Fatalf("agent-mode certificate after issuance = %+v", ac)
	}
	v := listVersions(t, env, ac.ID)
	if len(v) != 1 || v[0].HasPrivateKey {
		t.Errorf("agent-mode versions = %+v", v)
	}
	// The server never had the key: nothing to export.
	env.MustDo(t, "GET", "/api/v1/certificates/"+ac.ID+"/versions/"+v[0].ID+"/private-key", env.AdminKey, nil, 404)
}

func TestRenewalPoliciesOverHTTP(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{})
	viewer := env.NewKey(t, core.RoleViewer)
	var list api.List[api.RenewalPolicy]
	env.MustDo(t, "GET", "/api/v1/renewal-policies", viewer, nil, 200).Decode(t, &list)
	if len(list.Items) != 1 || !list.Items[0].IsDefault || list.Items[0].Mode != "fraction" {
		t.Fatalf("policies at start = %+v", list.Items)
	}
	def := list.Items[0]

	r := env.MustDo(t, "POST", "/api/v1/renewal-policies", env.AdminKey, api.RenewalPolicyRequest{Name: "short",
		Mode: "days_before", DaysBeforeExpiry: 30}, 201)
	var short api.RenewalPolicy
	r.Decode(t, &short)
	if short.JitterFraction != 0.05 || !short.UseIssuerWindow || short.IsDefault || short.DaysBeforeExpiry != 30 ||
		short.RenewFraction != 0 || short.ReuseKey || r.Header.Get("Location") != "/api/v1/renewal-policies/"+short.ID {
		t.Errorf("created policy = %+v", short)
	}
	base := "/api/v1/renewal-policies"
	for field, body := range map[string]map[string]any{
		"mode":               {"name": "p", "mode": "weekly"},
		"renew_fraction":     {"name": "p", "mode": "fraction", "renew_fraction": 1.5},
		"days_before_expiry": {"name": "p", "mode": "days_before"},
		"jitter_fraction":    {"name": "p", "mode": "fraction", "renew_fraction": 0.5, "jitter_fraction": 0.6},
		"name":               {"name": "", "mode": "fraction", "renew_fraction": 0.5},
		"":                   {"name": "p", "mode": "fraction", "renew_fraction": 0.5, "colour": "blue"},
	} {
		wantInvalid(t, env, "POST", base, body, field)
	}
	env.MustDo(t, "POST", base, env.AdminKey, api.RenewalPolicyRequest{Name: "short", Mode: "days_before", DaysBeforeExpiry: 7}, 409)
	env.MustDo(t, "POST", base, viewer, api.RenewalPolicyRequest{Name: "v", Mode: "days_before", DaysBeforeExpiry: 7}, 403)

	var got api.RenewalPolicy
	env.MustDo(t, "GET", base+"/"+short.ID, viewer, nil, 200).Decode(t, &got)
	if got.ID != short.ID || got.Name != "short" {
		t.Errorf("GET policy = %+v", got)
	}
	zero, no := 0.0, false
	env.MustDo(t, "PUT", base+"/"+short.ID, env.AdminKey, api.RenewalPolicyRequest{Name: "short", Mode: "fraction",
		RenewFraction: 0.5, JitterFraction: &zero, UseIssuerWindow: &no, ReuseKey: true}, 200).Decode(t, &got)
	if got.Mode != "fraction" || got.RenewFraction != 0.5 || got.DaysBeforeExpiry != 0 || got.JitterFraction != 0 ||
		got.UseIssuerWindow || !got.ReuseKey || !got.UpdatedAt.After(got.CreatedAt) {
		t.Errorf("updated policy = %+v", got)
	}

	// The default cannot be deleted, nor stop being the default by itself.
	if r := env.Do(t, "DELETE", base+"/"+def.ID, env.AdminKey, nil); r.Status != 409 || r.ErrorCode() != api.CodeConflict {
		t.Errorf("delete the default policy: %d %s", r.Status, r.Body)
	}
	wantInvalid(t, env, "PUT", base+"/"+def.ID, api.RenewalPolicyRequest{Name: def.Name, Mode: "fraction", RenewFraction: 0.4}, "is_default")

	// A policy certificates follow cannot be deleted.
	var iss api.Issuer
	env.MustDo(t, "POST", "/api/v1/issuers", env.AdminKey, api.IssuerRequest{Name: "ca", Type: "local"}, 201).Decode(t, &iss)
	var cert api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "c", CommonName: "c.example.com",
		IssuerID: iss.ID, RenewalPolicyID: &short.ID}, 201).Decode(t, &cert)
	env.MustDo(t, "DELETE", base+"/"+short.ID, env.AdminKey, nil, 409)
	var ex api.RenewalExplanation
	env.MustDo(t, "GET", "/api/v1/certificates/"+cert.ID+"/renewal", viewer, nil, 200).Decode(t, &ex)
	if ex.Policy.ID != short.ID {
		t.Errorf("explanation policy = %+v, want %s", ex.Policy, short.ID)
	}

	// Making another policy the default takes the role from the old one,
	// which can then be deleted.
	env.MustDo(t, "PUT", base+"/"+short.ID, env.AdminKey, api.RenewalPolicyRequest{Name: "short", Mode: "days_before",
		DaysBeforeExpiry: 20, IsDefault: true}, 200).Decode(t, &got)
	if !got.IsDefault {
		t.Errorf("policy made default = %+v", got)
	}
	env.MustDo(t, "GET", base+"/"+def.ID, viewer, nil, 200).Decode(t, &got)
	if got.IsDefault {
		t.Error("the old default is still the default")
	}
	env.MustDo(t, "DELETE", base+"/"+def.ID, env.AdminKey, nil, 204)
	env.MustDo(t, "GET", base+"/"+def.ID, viewer, nil, 404)
	env.MustDo(t, "DELETE", base+"/"+def.ID, env.AdminKey, nil, 404)
	wantInvalid(t, env, "GET", base+"/nope", nil, "id")

	// Paging.
	env.MustDo(t, "POST", base, env.AdminKey, api.RenewalPolicyRequest{Name: "third", Mode: "days_before", DaysBeforeExpiry: 3}, 201)
	env.MustDo(t, "GET", base+"?limit=1", viewer, nil, 200).Decode(t, &list)
	if len(list.Items) != 1 || list.NextCursor == nil || list.Items[0].ID != short.ID {
		t.Fatalf("first page = %+v", list)
	}
	env.MustDo(t, "GET", base+"?limit=1&cursor="+*list.NextCursor, viewer, nil, 200).Decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].Name != "third" || list.NextCursor != nil {
		t.Errorf("second page = %+v", list)
	}
}

func TestNotificationRulesOverHTTP(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir})
	viewer := env.NewKey(t, core.RoleViewer)

	var mu sync.Mutex
	var received []map[string]any
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		mu.Lock()
		received = append(received, m)
		mu.Unlock()
		w.WriteHeader(200)
	}))
	t.Cleanup(receiver.Close)
	var notifier api.Notifier
	env.MustDo(t, "POST", "/api/v1/notifiers", env.AdminKey, api.NotifierRequest{Name: "hook", Type: "webhook",
		Config: map[string]any{"url": receiver.URL}}, 201).Decode(t, &notifier)

	base := "/api/v1/notification-rules"
	r := env.MustDo(t, "POST", base, env.AdminKey, api.NotificationRuleRequest{Name: "issued", NotifierID: notifier.ID,
		Events: []string{"certificate.issued", "certificate.renewed"}}, 201)
	var rule api.NotificationRule
	r.Decode(t, &rule)
	if !rule.Enabled || len(rule.ExpiryDays) != 4 || rule.CertificateLabels == nil || len(rule.Events) != 2 ||
		rule.NotifierID != notifier.ID || r.Header.Get("Location") != base+"/"+rule.ID {
		t.Errorf("created rule = %+v", rule)
	}
	for field, body := range map[string]map[string]any{
		"events":             {"name": "r", "notifier_id": notifier.ID, "events": []string{}},
		"events[1]":          {"name": "r", "notifier_id": notifier.ID, "events": []string{"certificate.issued", "bogus"}},
		"expiry_days[0]":     {"name": "r", "notifier_id": notifier.ID, "events": []string{"*"}, "expiry_days": []int{0}},
		"notifier_id":        {"name": "r", "notifier_id": uuid.NewString(), "events": []string{"*"}},
		"certificate_labels": {"name": "r", "notifier_id": notifier.ID, "events": []string{"*"}, "certificate_labels": map[string]string{"bad key!": "x"}},
		"name":               {"name": "Bad Name", "notifier_id": notifier.ID, "events": []string{"*"}},
	} {
		wantInvalid(t, env, "POST", base, body, field)
	}
	wantInvalid(t, env, "POST", base, map[string]any{"name": "r", "notifier_id": "nope", "events": []string{"*"}}, "notifier_id")
	wantInvalid(t, env, "POST", base, map[string]any{"name": "r", "events": []string{"*"}}, "notifier_id")
	env.MustDo(t, "POST", base, env.AdminKey, api.NotificationRuleRequest{Name: "issued", NotifierID: notifier.ID, Events: []string{"*"}}, 409)
	env.MustDo(t, "POST", base, viewer, api.NotificationRuleRequest{Name: "v", NotifierID: notifier.ID, Events: []string{"*"}}, 403)

	var list api.List[api.NotificationRule]
	env.MustDo(t, "GET", base, viewer, nil, 200).Decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != rule.ID {
		t.Errorf("rules = %+v", list.Items)
	}
	// Replace: all events, only certificates labelled team=web; enabled is kept.
	env.MustDo(t, "PUT", base+"/"+rule.ID, env.AdminKey, api.NotificationRuleRequest{Name: "web", NotifierID: notifier.ID,
		Events: []string{"*"}, ExpiryDays: []int{10}, CertificateLabels: map[string]string{"team": "web"}}, 200).Decode(t, &rule)
	if rule.Name != "web" || !rule.Enabled || rule.Events[0] != "*" || rule.ExpiryDays[0] != 10 || rule.CertificateLabels["team"] != "web" {
		t.Errorf("updated rule = %+v", rule)
	}

	// A certificate the rule matches is announced through the webhook;
	// one it does not match is recorded as no_notifier.
	iss, _ := localCA(t, env, "ca")
	var web, other api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "web", CommonName: "web.example.com",
		IssuerID: iss.ID, Labels: map[string]string{"team": "web"}}, 201).Decode(t, &web)
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "other", CommonName: "other.example.com",
		IssuerID: iss.ID}, 201).Decode(t, &other)
	env.RunJobs(t)
	notes := listNotifications(t, env, "certificate_id="+web.ID)
	if len(notes) != 1 || notes[0].Event != "certificate.issued" || notes[0].Status != "sent" || notes[0].NotifierID == nil ||
		*notes[0].NotifierID != notifier.ID || notes[0].RuleID == nil || *notes[0].RuleID != rule.ID || notes[0].SentAt == nil ||
		notes[0].Attempts != 1 {
		t.Errorf("notifications of the matching certificate = %+v", notes)
	}
	mu.Lock()
	if len(received) != 1 {
		t.Errorf("the receiver got %d deliveries, want 1: %v", len(received), received)
	}
	mu.Unlock()
	if notes := listNotifications(t, env, "certificate_id="+other.ID); len(notes) != 1 || notes[0].Status != "no_notifier" {
		t.Errorf("notifications of the other certificate = %+v", notes)
	}
	if notes := listNotifications(t, env, "status=sent"); len(notes) != 1 {
		t.Errorf("sent notifications = %+v", notes)
	}

	// Disable, then delete.
	no := false
	var disabled api.NotificationRule
	env.MustDo(t, "PUT", base+"/"+rule.ID, env.AdminKey, api.NotificationRuleRequest{Name: "web", NotifierID: notifier.ID,
		Events: []string{"*"}, Enabled: &no}, 200).Decode(t, &disabled)
	if disabled.Enabled || len(disabled.ExpiryDays) != 4 || len(disabled.CertificateLabels) != 0 {
		t.Errorf("disabled rule = %+v", disabled)
	}
	env.MustDo(t, "DELETE", base+"/"+rule.ID, viewer, nil, 403)
	env.MustDo(t, "DELETE", base+"/"+rule.ID, env.AdminKey, nil, 204)
	env.MustDo(t, "GET", base+"/"+rule.ID, viewer, nil, 404)
	env.MustDo(t, "DELETE", base+"/"+rule.ID, env.AdminKey, nil, 404)
	// The notification it routed stays, without its rule.
	if notes := listNotifications(t, env, "certificate_id="+web.ID); len(notes) != 1 || notes[0].RuleID != nil {
		t.Errorf("notification after its rule was deleted = %+v", notes)
	}
}
