package service_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

var pluginDir string

func TestMain(m *testing.M) {
	code := apitest.MainWithPlugins(m, &pluginDir, "issuer/local", "notifier/webhook")
	removePendingPlugin()
	os.Exit(code)
}

// clock is a test clock moved by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// world is a service with the real local CA and a clock.
type world struct {
	env   *apitest.Env
	clock *clock
	ctx   context.Context
	ca    core.Issuer
}

func newWorld(t *testing.T, caConfig map[string]any, wrap ...func(service.IssuerProvider) service.IssuerProvider) *world {
	t.Helper()
	c := &clock{now: time.Now().UTC().Truncate(time.Second)}
	jobs := service.DefaultJobSettings()
	jobs.MaxAttempts[core.JobRenew], jobs.MaxAttempts[core.JobIssue] = 3, 3
	o := apitest.Options{PluginDir: pluginDir, Clock: c.Now, Jobs: &jobs}
	if len(wrap) > 0 {
		o.WrapIssuers = wrap[0]
	}
	env := apitest.Start(t, o)
	w := &world{env: env, clock: c, ctx: core.WithActor(context.Background(), core.SystemActor)}
	if caConfig == nil {
		caConfig = map[string]any{}
	}
	caConfig["ca_key_type"] = "ecdsa-p256"
	iss, err := env.Service.CreateIssuer(w.ctx, service.IssuerInput{Name: "ca", Type: "local", Config: caConfig})
	if err != nil {
		t.Fatal(err)
	}
	w.ca = iss
	return w
}

func (w *world) cert(t *testing.T, name string) core.Certificate {
	t.Helper()
	c, err := w.env.Service.CreateCertificate(w.ctx, service.CertificateInput{Name: name, CommonName: name + ".example.com",
		SANs: []string{"www." + name + ".example.com"}, IssuerID: w.ca.ID})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (w *world) get(t *testing.T, id uuid.UUID) core.Certificate {
	t.Helper()
	c, err := w.env.Service.GetCertificate(w.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (w *world) versions(t *testing.T, id uuid.UUID) []core.CertificateVersion {
	t.Helper()
	vs, _, err := w.env.Service.ListVersions(w.ctx, id, core.Page{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func (w *world) sweep(t *testing.T) {
	t.Helper()
	if err := w.env.Service.Sweep(w.ctx); err != nil {
		t.Fatal(err)
	}
}

func (w *world) jobs(t *testing.T, f core.JobFilter) []core.Job {
	t.Helper()
	f.Limit = 500
	js, _, err := w.env.Service.ListJobs(w.ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func TestCertificateIsIssuedOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	c := w.cert(t, "shop")
	if c.Status != core.CertIssuing {
		t.Fatalf("status after create = %q, want issuing", c.Status)
	}
	if n := w.env.RunJobs(t); n != 1 {
		t.Fatalf("ran %d jobs, want 1 issue job", n)
	}
	c = w.get(t, c.ID)
	vs := w.versions(t, c.ID)
	if c.Status != core.CertActive || len(vs) != 1 || c.CurrentVersionID == nil || *c.CurrentVersionID != vs[0].ID {
		t.Fatalf("after issuance: status %q, %d versions", c.Status, len(vs))
	}
	// The version is real: it chains to the CA and carries the names.
	block, _ := pem.Decode([]byte(vs[0].CertificatePEM))
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	caBlock, _ := pem.Decode([]byte(w.ca.Config["ca_certificate_pem"].(string)))
	caCert, _ := x509.ParseCertificate(caBlock.Bytes)
	roots := x509.NewCertPool()
	roots.AddCert(caCert)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "www.shop.example.com", CurrentTime: w.clock.Now()}); err != nil {
		t.Fatalf("leaf does not verify: %v", err)
	}
	// Nothing more happens: no second issuance, no renewal yet.
	w.sweep(t)
	if n := w.env.RunJobs(t); n != 0 {
		t.Fatalf("%d more jobs ran", n)
	}
	if vs := w.versions(t, c.ID); len(vs) != 1 {
		t.Fatalf("%d versions", len(vs))
	}
	// The job and the issuance are in the audit trail.
	events, _, err := w.env.Service.ListAudit(w.ctx, core.AuditFilter{ResourceID: c.ID.String(), Page: core.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	if fmt.Sprint(actions) != "[certificate.issued certificate.create]" {
		t.Errorf("certificate audit = %v", actions)
	}
	if js := w.jobs(t, core.JobFilter{CertificateID: &c.ID}); len(js) != 1 || js[0].State != core.JobSucceeded {
		t.Errorf("jobs = %+v", js)
	}
}

func TestRenewedOnceWhenItsWindowOpens(t *testing.T) {
	t.Parallel()
	w := newWorld(t, map[string]any{"validity": "30d"})
	c := w.cert(t, "api")
	w.env.RunJobs(t)
	c = w.get(t, c.ID)
	v1 := w.versions(t, c.ID)[0]
	if got := v1.NotAfter.Sub(v1.NotBefore); got < 30*24*time.Hour || got > 30*24*time.Hour+2*time.Minute {
		t.Fatalf("lifetime %s", got)
	}
	due := *c.NextRenewalAt
	// Renew at two thirds of the lifetime, moved earlier by at most 5% of it.
	base := v1.NotAfter.Add(-10 * 24 * time.Hour)
	if due.After(base) || base.Sub(due) > 36*time.Hour {
		t.Fatalf("next renewal %s, policy point %s", due, base)
	}
	expl, err := w.env.Service.ExplainRenewal(w.ctx, c.ID)
	if err != nil || expl.Due {
		t.Fatalf("explanation: %+v %v", expl, err)
	}
	t.Logf("renewal: %s", expl.Reason)

	// A minute before: nothing.
	w.clock.Set(due.Add(-time.Minute))
	w.sweep(t)
	if js := w.jobs(t, core.JobFilter{Kind: core.JobRenew}); len(js) != 0 {
		t.Fatalf("renewal enqueued before its time: %+v", js)
	}
	// When due: one renewal, however many sweeps.
	w.clock.Set(due.Add(time.Minute))
	w.sweep(t)
	w.sweep(t)
	if js := w.jobs(t, core.JobFilter{Kind: core.JobRenew}); len(js) != 1 {
		t.Fatalf("%d renewal jobs, want 1", len(js))
	}
	if st := w.get(t, c.ID).Status; st != core.CertRenewing {
		t.Errorf("status while renewing = %q", st)
	}
	w.env.RunJobs(t)
	w.sweep(t)
	w.env.RunJobs(t)
	vs := w.versions(t, c.ID)
	c = w.get(t, c.ID)
	if len(vs) != 2 || c.Status != core.CertActive || *c.CurrentVersionID != vs[0].ID {
		t.Fatalf("after renewal: %d versions, status %s", len(vs), c.Status)
	}
	if vs[1].Status != core.VersionSuperseded || vs[0].SerialNumber == vs[1].SerialNumber {
		t.Errorf("old version %s, serials %s %s", vs[1].Status, vs[0].SerialNumber, vs[1].SerialNumber)
	}
	if !c.NextRenewalAt.After(w.clock.Now().Add(15 * 24 * time.Hour)) {
		t.Errorf("next renewal after renewing: %s (now %s)", c.NextRenewalAt, w.clock.Now())
	}
}

// The CA refuses the renewal when its name policy stops allowing the
// certificate's names: a real refusal from the real local CA.
func TestRenewalFailureRetriesAndAlerts(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var alerts []string
	receiver := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		alerts = append(alerts, r.Header.Get("X-Certctl-Event")+" "+string(body))
		mu.Unlock()
	}))
	t.Cleanup(receiver.Close)
	w := newWorld(t, map[string]any{"validity": "30d", "allowed_domains": []any{"example.com"}})
	n, err := w.env.Service.CreateNotifier(w.ctx, service.NotifierInput{Name: "hook", Type: "webhook",
		Config: map[string]any{"url": receiver.URL, "retry_backoff": "0s"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.env.Service.CreateRule(w.ctx, service.NotificationRuleInput{Name: "all", NotifierID: n.ID,
		Events: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	c := w.cert(t, "pay")
	w.env.RunJobs(t)
	// Now the CA refuses the certificate's names: every renewal attempt fails.
	if _, err := w.env.Service.UpdateIssuer(w.ctx, w.ca.ID, service.IssuerInput{Name: "ca",
		Config: map[string]any{"allowed_domains": []any{"other.org"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.env.Service.RenewCertificate(w.ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	w.env.RunJobs(t)
	j := w.jobs(t, core.JobFilter{Kind: core.JobRenew})[0]
	// The CA's refusal is permanent: no point retrying the same request.
	if j.State != core.JobFailed || j.Attempt != 1 || j.LastError == "" {
		t.Fatalf("renew job after a permanent refusal: %+v", j)
	}
	c = w.get(t, c.ID)
	if c.Status != core.CertFailed || c.NextRenewalAt == nil || c.LastError == "" {
		t.Fatalf("certificate after failed renewal: status %s next %v error %q", c.Status, c.NextRenewalAt, c.LastError)
	}
	w.env.RunJobs(t) // deliver notifications
	mu.Lock()
	var failed int
	for _, a := range alerts {
		if len(a) > 0 && a[:len("certificate.renewal_failed")] == "certificate.renewal_failed" {
			failed++
		}
	}
	mu.Unlock()
	if failed != 1 {
		t.Errorf("%d renewal_failed alerts delivered, want 1: %v", failed, alerts)
	}
	// The scheduler tries again later; with the CA fixed it succeeds.
	if _, err := w.env.Service.UpdateIssuer(w.ctx, w.ca.ID, service.IssuerInput{Name: "ca",
		Config: map[string]any{"allowed_domains": nil}}); err != nil {
		t.Fatal(err)
	}
	w.clock.Set(c.NextRenewalAt.Add(time.Second))
	w.sweep(t)
	w.env.RunJobs(t)
	if c = w.get(t, c.ID); c.Status != core.CertActive || len(w.versions(t, c.ID)) != 2 {
		t.Fatalf("after the retry: status %s, %d versions", c.Status, len(w.versions(t, c.ID)))
	}
}

// unavailableIssuers stands for a CA that cannot be reached: every call
// fails with a transient error.
type unavailableIssuers struct{}

func (unavailableIssuers) Issuer(string) (plugin.Issuer, error) {
	return nil, plugin.Errorf(plugin.CodeTransient, "CA unreachable (test)")
}

func TestTransientFailuresRetryWithBackoff(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil, func(service.IssuerProvider) service.IssuerProvider { return unavailableIssuers{} })
	c := w.cert(t, "flaky")
	w.env.RunJobs(t)
	js := w.jobs(t, core.JobFilter{CertificateID: &c.ID})
	if len(js) != 1 || js[0].State != core.JobRetrying || js[0].Attempt != 1 || !js[0].RunAt.After(w.clock.Now()) {
		t.Fatalf("job after a transient failure: %+v", js)
	}
	first := js[0].RunAt.Sub(w.clock.Now())
	w.clock.Set(js[0].RunAt)
	w.env.RunJobs(t)
	js = w.jobs(t, core.JobFilter{CertificateID: &c.ID})
	second := js[0].RunAt.Sub(w.clock.Now())
	if js[0].Attempt != 2 || second <= first/2 {
		t.Fatalf("second delay %s after first %s", second, first)
	}
	w.clock.Set(js[0].RunAt)
	w.env.RunJobs(t)
	js = w.jobs(t, core.JobFilter{CertificateID: &c.ID})
	if js[0].State != core.JobFailed || js[0].Attempt != 3 {
		t.Fatalf("job after max attempts: %+v", js[0])
	}
}

func TestExpiryAlertsFireOncePerThreshold(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var days []string
	receiver := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var body struct {
			Details map[string]string `json:"details"`
		}
		_ = jsonDecode(r.Body, &body)
		mu.Lock()
		days = append(days, body.Details["days"])
		mu.Unlock()
	}))
	t.Cleanup(receiver.Close)
	w := newWorld(t, map[string]any{"validity": "60d"})
	n, err := w.env.Service.CreateNotifier(w.ctx, service.NotifierInput{Name: "hook", Type: "webhook",
		Config: map[string]any{"url": receiver.URL}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.env.Service.CreateRule(w.ctx, service.NotificationRuleInput{Name: "expiry", NotifierID: n.ID,
		Events: []string{service.EventExpiring}}); err != nil {
		t.Fatal(err)
	}
	c := w.cert(t, "old")
	w.env.RunJobs(t)
	notAfter := *w.get(t, c.ID).NotAfter
	scan := func(at time.Time) {
		t.Helper()
		w.clock.Set(at)
		for range 2 { // twice: the second must add nothing
			if _, err := w.env.Service.ScanExpiring(w.ctx, 100); err != nil {
				t.Fatal(err)
			}
		}
		w.env.RunJobs(t)
	}
	scan(notAfter.Add(-31 * 24 * time.Hour)) // nothing yet
	scan(notAfter.Add(-29 * 24 * time.Hour)) // 30
	scan(notAfter.Add(-20 * 24 * time.Hour)) // nothing new
	scan(notAfter.Add(-13 * 24 * time.Hour)) // 14
	scan(notAfter.Add(-12 * time.Hour))      // jumps past 7: only 1
	scan(notAfter.Add(-time.Hour))           // nothing new
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(days) != "[30 14 1]" {
		t.Fatalf("expiry alerts delivered for thresholds %v, want [30 14 1]", days)
	}
	list, _, err := w.env.Service.ListNotifications(w.ctx, core.NotificationFilter{Event: service.EventExpiring, Page: core.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range list {
		if n.Status != core.NotificationSent {
			t.Errorf("notification %s is %s", n.ID, n.Status)
		}
	}
	if len(list) != 3 {
		t.Errorf("%d expiring notifications recorded, want 3", len(list))
	}
}

func TestEventsWithoutNotifierAreRecordedNotSent(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	c := w.cert(t, "quiet")
	w.env.RunJobs(t)
	list, _, err := w.env.Service.ListNotifications(w.ctx, core.NotificationFilter{CertificateID: &c.ID, Page: core.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Event != service.EventIssued || list[0].Status != core.NotificationNoNotifier || list[0].SentAt != nil {
		t.Fatalf("notifications = %+v", list)
	}
}

func TestRevocationAppearsInCRL(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	c := w.cert(t, "gone")
	w.env.RunJobs(t)
	keep := w.cert(t, "kept")
	w.env.RunJobs(t)
	if _, err := w.env.Service.RevokeCertificate(w.ctx, c.ID, service.RevokeInput{Reason: 1}); err != nil {
		t.Fatal(err)
	}
	w.env.RunJobs(t)
	c = w.get(t, c.ID)
	v := w.versions(t, c.ID)[0]
	if c.Status != core.CertRevoked || v.Status != core.VersionRevoked || v.RevocationReason != "keyCompromise" {
		t.Fatalf("after revoke: cert %s version %s %q", c.Status, v.Status, v.RevocationReason)
	}
	der, _, err := w.env.Service.CRL(w.ctx, "ca")
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	caBlock, _ := pem.Decode([]byte(w.ca.Config["ca_certificate_pem"].(string)))
	caCert, _ := x509.ParseCertificate(caBlock.Bytes)
	if err := crl.CheckSignatureFrom(caCert); err != nil {
		t.Fatalf("CRL signature: %v", err)
	}
	if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Text(16) != v.SerialNumber ||
		crl.RevokedCertificateEntries[0].ReasonCode != 1 {
		t.Fatalf("CRL entries = %+v, want serial %s", crl.RevokedCertificateEntries, v.SerialNumber)
	}
	kept := w.versions(t, keep.ID)[0]
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber.Text(16) == kept.SerialNumber {
			t.Error("an unrevoked certificate is in the CRL")
		}
	}
	// Served again within the interval: the same CRL, not re-signed.
	again, _, _ := w.env.Service.CRL(w.ctx, w.ca.ID.String())
	if string(again) != string(der) {
		t.Error("CRL re-signed without a change")
	}
	// A second revocation shows after the minimum interval.
	if _, err := w.env.Service.RevokeCertificate(w.ctx, keep.ID, service.RevokeInput{Reason: 4}); err != nil {
		t.Fatal(err)
	}
	w.env.RunJobs(t)
	w.clock.Add(time.Minute)
	der, _, _ = w.env.Service.CRL(w.ctx, "ca")
	crl, _ = x509.ParseRevocationList(der)
	if len(crl.RevokedCertificateEntries) != 2 || crl.Number.Int64() != 2 {
		t.Fatalf("second CRL: %d entries, number %v", len(crl.RevokedCertificateEntries), crl.Number)
	}
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

func TestShortLivedCertificatesAreNotAnnouncedAtBirth(t *testing.T) {
	t.Parallel()
	w := newWorld(t, map[string]any{"validity": "7d"})
	c := w.cert(t, "brief")
	w.env.RunJobs(t)
	expiring := func() int {
		list, _, err := w.env.Service.ListNotifications(w.ctx, core.NotificationFilter{Event: service.EventExpiring,
			CertificateID: &c.ID, Page: core.Page{Limit: 100}})
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	if _, err := w.env.Service.ScanExpiring(w.ctx, 100); err != nil {
		t.Fatal(err)
	}
	if n := expiring(); n != 0 {
		t.Fatalf("a new 7-day certificate was announced as expiring %d times", n)
	}
	// Only the 1-day threshold (under half its lifetime) applies.
	w.clock.Set(w.get(t, c.ID).NotAfter.Add(-12 * time.Hour))
	if _, err := w.env.Service.ScanExpiring(w.ctx, 100); err != nil {
		t.Fatal(err)
	}
	if n := expiring(); n != 1 {
		t.Fatalf("%d expiring notifications a day before expiry, want 1", n)
	}
}

func TestUnrenewedCertificateBecomesExpiredAndRecovers(t *testing.T) {
	t.Parallel()
	w := newWorld(t, map[string]any{"validity": "30d"})
	c := w.cert(t, "late")
	w.env.RunJobs(t)
	notAfter := *w.get(t, c.ID).NotAfter
	// Past its expiry without a sweep in between (e.g. the server was down).
	w.clock.Set(notAfter.Add(time.Hour))
	// The sweep marks it expired, then enqueues its overdue renewal, which
	// makes it active again.
	if err := w.env.Service.Sweep(w.ctx); err != nil {
		t.Fatal(err)
	}
	w.env.RunJobs(t)
	if got := w.get(t, c.ID); got.Status != core.CertActive || len(w.versions(t, c.ID)) != 2 {
		t.Fatalf("after the overdue renewal: %s, %d versions", got.Status, len(w.versions(t, c.ID)))
	}
	// A certificate whose renewal keeps failing does expire.
	if _, err := w.env.Service.UpdateIssuer(w.ctx, w.ca.ID, service.IssuerInput{Name: "ca",
		Config: map[string]any{"allowed_domains": []any{"other.org"}}}); err != nil {
		t.Fatal(err)
	}
	c = w.get(t, c.ID)
	w.clock.Set(c.NextRenewalAt.Add(time.Minute))
	w.sweep(t)
	w.env.RunJobs(t) // the CA refuses: failed
	if got := w.get(t, c.ID); got.Status != core.CertFailed {
		t.Fatalf("after a refused renewal: %s", got.Status)
	}
	w.clock.Set(c.NotAfter.Add(time.Minute))
	if err := w.env.Service.Sweep(w.ctx); err != nil {
		t.Fatal(err)
	}
	// Expired, and its renewal enqueued again (the CA still refuses it).
	w.env.RunJobs(t)
	events, _, err := w.env.Service.ListAudit(w.ctx, core.AuditFilter{ResourceID: c.ID.String(), Action: "certificate.expired",
		Page: core.Page{Limit: 10}})
	if err != nil || len(events) != 2 || w.get(t, c.ID).Status == core.CertActive {
		t.Fatalf("after expiry: status %s, %d expired events, %v", w.get(t, c.ID).Status, len(events), err)
	}
}
