package sdkclient_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// parseCert parses the first certificate in PEM text.
func parseCert(t *testing.T, text string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(text))
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("no certificate in %.60q", text)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// TestLifecycle issues, renews, exports and revokes a certificate through
// the client against the real server and its local CA plugin.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	env, c := start(t)
	ctx := context.Background()

	iss := must(c.CreateIssuer(ctx, api.IssuerRequest{Name: "ca", Type: "local", Config: map[string]any{"ca_key_type": "ecdsa-p256"}}))(t)
	caCert := parseCert(t, iss.Config["ca_certificate_pem"].(string))
	cert := must(c.CreateCertificate(ctx, api.CertificateRequest{Name: "app", CommonName: "app.example.com",
		SANs: []string{"app.example.com", "api.example.com"}, IssuerID: iss.ID}))(t)
	if cert.Status != "issuing" || cert.KeyMode != "server" {
		t.Fatalf("new certificate = %+v", cert)
	}
	jobs := must(c.ListJobs(ctx, client.JobListOptions{CertificateID: cert.ID}))(t)
	if len(jobs.Items) != 1 || jobs.Items[0].Kind != "issue" || jobs.Items[0].State != "queued" {
		t.Fatalf("jobs of the new certificate = %+v", jobs)
	}
	issue := jobs.Items[0]

	// Issuance.
	if n := env.RunJobs(t); n < 1 {
		t.Fatalf("ran %d jobs", n)
	}
	cert = must(c.GetCertificate(ctx, cert.ID))(t)
	if cert.Status != "active" || cert.CurrentVersionID == nil || cert.NotAfter == nil {
		t.Fatalf("issued certificate = %+v", cert)
	}
	if j := must(c.GetJob(ctx, issue.ID))(t); j.State != "succeeded" || j.FinishedAt == nil {
		t.Errorf("issue job after running = %+v", j)
	}
	versions := must(c.ListCertificateVersions(ctx, cert.ID, client.ListOptions{}))(t)
	if len(versions.Items) != 1 || versions.Items[0].ID != *cert.CurrentVersionID || !versions.Items[0].HasPrivateKey {
		t.Fatalf("versions = %+v", versions)
	}
	v1 := must(c.GetCertificateVersion(ctx, cert.ID, *cert.CurrentVersionID))(t)
	leaf := parseCert(t, v1.CertificatePEM)
	if err := leaf.CheckSignatureFrom(caCert); err != nil || leaf.Subject.CommonName != "app.example.com" {
		t.Errorf("issued leaf %s: %v", leaf.Subject, err)
	}
	if d := must(c.ListDeployments(ctx, cert.ID, client.ListOptions{}))(t); len(d.Items) != 0 {
		t.Errorf("deployments of a certificate without targets = %+v", d)
	}

	// The renewal explanation, then renewing now.
	ex := must(c.ExplainRenewal(ctx, cert.ID))(t)
	if ex.CertificateID != cert.ID || ex.Due || ex.NextRenewalAt == nil || !ex.Policy.IsDefault || ex.Reason == "" {
		t.Errorf("renewal explanation = %+v", ex)
	}
	renew := must(c.RenewCertificate(ctx, cert.ID))(t)
	if renew.Kind != "renew" || renew.Trigger != "manual" {
		t.Errorf("renew job = %+v", renew)
	}
	if _, err := c.RenewCertificate(ctx, cert.ID); !client.IsConflict(err) {
		t.Errorf("second renewal while one is live: %v, want conflict", err)
	}
	if ex := must(c.ExplainRenewal(ctx, cert.ID))(t); ex.JobID == nil || *ex.JobID != renew.ID {
		t.Errorf("explanation during renewal = %+v", ex)
	}
	env.RunJobs(t)
	all := must(client.Collect(c.AllCertificateVersions(ctx, cert.ID, client.ListOptions{Limit: 1})))(t)
	if len(all) != 2 || all[0].Status != "active" || all[1].Status != "superseded" || all[1].ID != v1.ID {
		t.Fatalf("versions after renewal = %+v", all)
	}
	current := all[0]
	leaf = parseCert(t, current.CertificatePEM)

	// Private key export, PEM and PKCS#12; admins only.
	pemKey := must(c.ExportPrivateKey(ctx, cert.ID, current.ID, client.KeyFormatPEM))(t)
	if pemKey.Format != client.KeyFormatPEM || pemKey.ContentType != "application/x-pem-file" || pemKey.Password != "" {
		t.Errorf("PEM export = %v", pemKey)
	}
	block, _ := pem.Decode(pemKey.Data)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("PEM export does not start with a PRIVATE KEY block")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if pub, ok := key.(crypto.Signer); !ok || !pub.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(leaf.PublicKey) {
		t.Error("the exported key does not match the certificate")
	}
	p12 := must(c.ExportPrivateKey(ctx, cert.ID, current.ID, client.KeyFormatPKCS12))(t)
	if p12.Format != client.KeyFormatPKCS12 || p12.ContentType != "application/x-pkcs12" || p12.Password == "" || len(p12.Data) == 0 {
		t.Errorf("PKCS#12 export = %v", p12)
	}
	if _, err := c.ExportPrivateKey(ctx, cert.ID, current.ID, "der"); !client.IsInvalid(err) {
		t.Errorf("export in an unknown format: %v", err)
	}
	viewerKey := must(c.CreateAPIKey(ctx, api.APIKeyRequest{Name: "viewer", Role: "viewer"}))(t)
	viewer := must(client.New(env.URL, client.WithAPIKey(viewerKey.Key)))(t)
	if _, err := viewer.ExportPrivateKey(ctx, cert.ID, current.ID, ""); !client.IsForbidden(err) {
		t.Errorf("viewer exporting a key: %v, want forbidden", err)
	}

	// Revocation, then the CRL lists the serial.
	revoke := must(c.RevokeCertificate(ctx, cert.ID, api.RevokeRequest{Reason: "keyCompromise"}))(t)
	if revoke.Kind != "revoke" || revoke.VersionID == nil || *revoke.VersionID != current.ID {
		t.Errorf("revoke job = %+v", revoke)
	}
	if _, err := c.RevokeCertificate(ctx, cert.ID, api.RevokeRequest{Reason: "bogus"}); !client.IsInvalid(err) {
		t.Errorf("revoking with a bad reason: %v", err)
	} else if e, _ := client.AsError(err); e.Field != "reason" {
		t.Errorf("bad reason names field %q", e.Field)
	}
	env.RunJobs(t)
	revoked := must(c.GetCertificateVersion(ctx, cert.ID, current.ID))(t)
	if revoked.Status != "revoked" || revoked.RevocationReason != "keyCompromise" || revoked.RevokedAt == nil {
		t.Errorf("revoked version = %+v", revoked)
	}
	if got := must(c.GetCertificate(ctx, cert.ID))(t); got.Status != "revoked" {
		t.Errorf("certificate after revocation = %+v", got)
	}
	anon := must(client.New(env.URL))(t) // CRLs need no key
	for _, ref := range []string{iss.Name, iss.ID} {
		der := must(anon.CRL(ctx, ref))(t)
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			t.Fatalf("parse CRL of %s: %v", ref, err)
		}
		if err := crl.CheckSignatureFrom(caCert); err != nil {
			t.Errorf("CRL signature: %v", err)
		}
		if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(leaf.SerialNumber) != 0 {
			t.Errorf("CRL of %s lists %+v, want serial %s", ref, crl.RevokedCertificateEntries, leaf.SerialNumber)
		}
	}
	if _, err := anon.CRL(ctx, "nope"); !client.IsNotFound(err) {
		t.Errorf("CRL of an unknown issuer: %v", err)
	}

	// Job actions: cancel a queued issuance, retry it, and a CSR for a job
	// that waits for none is a conflict.
	other := must(c.CreateCertificate(ctx, api.CertificateRequest{Name: "other", CommonName: "other.example.com", IssuerID: iss.ID}))(t)
	jobs = must(c.ListJobs(ctx, client.JobListOptions{CertificateID: other.ID, Kind: "issue"}))(t)
	if len(jobs.Items) != 1 {
		t.Fatalf("jobs of %s = %+v", other.Name, jobs)
	}
	cancelled := must(c.CancelJob(ctx, jobs.Items[0].ID))(t)
	if cancelled.State != "cancelled" {
		t.Errorf("cancelled job = %+v", cancelled)
	}
	if _, err := c.CancelJob(ctx, cancelled.ID); !client.IsConflict(err) {
		t.Errorf("cancelling a cancelled job: %v", err)
	}
	if retried := must(c.RetryJob(ctx, cancelled.ID))(t); retried.State != "queued" {
		t.Errorf("retried job = %+v", retried)
	}
	if _, err := c.SubmitCSR(ctx, cancelled.ID, []byte("-----BEGIN CERTIFICATE REQUEST-----\n")); !client.IsConflict(err) {
		t.Errorf("CSR for a job that waits for none: %v", err)
	}
	env.RunJobs(t)

	// Bulk actions select by filter.
	res := must(c.BulkRenewCertificates(ctx, api.BulkRenewRequest{NamePrefix: "oth"}))(t)
	if res.Matched != 1 || res.Started != 1 || len(res.JobIDs) != 1 {
		t.Errorf("bulk renew = %+v", res)
	}
	env.RunJobs(t)
	res = must(c.BulkRevokeCertificates(ctx, api.BulkRevokeRequest{IssuerID: &iss.ID, Reason: "superseded"}))(t)
	if res.Matched != 2 || res.Started != 1 || res.Skipped != 1 {
		t.Errorf("bulk revoke = %+v (one of the two is revoked already)", res)
	}
	if _, err := c.BulkRenewCertificates(ctx, api.BulkRenewRequest{}); !client.IsInvalid(err) {
		t.Errorf("bulk renew without a filter: %v", err)
	}

	// The audit trail carries the request ID the caller chose.
	rctx := client.WithRequestID(ctx, "sdk-test-renew-1")
	_, err = c.RenewCertificate(rctx, cert.ID) // revoked: a conflict
	var e *client.Error
	if !errors.As(err, &e) || e.RequestID != "sdk-test-renew-1" || e.StatusCode != 409 {
		t.Errorf("renewing a revoked certificate: %#v", err)
	}
	found := false
	for ev, err := range c.AllAuditEvents(ctx, client.AuditEventListOptions{Action: "certificate.renew", ResourceID: cert.ID}) {
		if err != nil {
			t.Fatal(err)
		}
		found = found || ev.RequestID == "sdk-test-renew-1"
	}
	if !found {
		t.Error("no audit event carries the request ID the client sent")
	}
	if n := must(c.ListNotifications(ctx, client.NotificationListOptions{CertificateID: cert.ID}))(t); len(n.Items) == 0 {
		t.Errorf("no notifications recorded for %s", cert.Name)
	}
}
