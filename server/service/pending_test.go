package service_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/keys"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/secrets"
	"github.com/certctl/certctl/server/service"
)

// The pending issuer (testdata/pendingissuer) behaves as an ACME CA: it
// answers pending with HTTP-01 challenges and checks them over real HTTP.
var pendingPlugin struct {
	once sync.Once
	dir  string
	err  error
}

// pendingPluginDir returns a plugin directory holding the pending issuer
// as certctl-plugin-issuer-pending, built once per test binary.
func pendingPluginDir(t *testing.T) string {
	t.Helper()
	pendingPlugin.once.Do(func() {
		pendingPlugin.dir, pendingPlugin.err = os.MkdirTemp("", "certctl-pending-plugin-")
		if pendingPlugin.err != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(pendingPlugin.dir, "certctl-plugin-issuer-pending"),
			"./testdata/pendingissuer").CombinedOutput()
		if err != nil {
			pendingPlugin.err = fmt.Errorf("build the pending issuer: %v\n%s", err, out)
		}
	})
	if pendingPlugin.err != nil {
		t.Fatal(pendingPlugin.err)
	}
	return pendingPlugin.dir
}

func removePendingPlugin() {
	if pendingPlugin.dir != "" {
		os.RemoveAll(pendingPlugin.dir)
	}
}

// acmeWorld is a service whose issuer answers as an ACME CA does.
type acmeWorld struct {
	env   *apitest.Env
	clock *clock
	ctx   context.Context
	state string // the issuer's state directory
	iss   core.Issuer
}

func newACMEWorld(t *testing.T, cfg map[string]any, jobs *service.JobSettings) *acmeWorld {
	t.Helper()
	c := &clock{now: time.Now().UTC().Truncate(time.Second)}
	if jobs == nil {
		j := service.DefaultJobSettings()
		jobs = &j
	}
	env := apitest.Start(t, apitest.Options{PluginDir: pendingPluginDir(t), Clock: c.Now, Jobs: jobs})
	w := &acmeWorld{env: env, clock: c, ctx: core.WithActor(context.Background(), core.SystemActor), state: t.TempDir()}
	cfg["state_dir"] = w.state
	if _, ok := cfg["validate_addr"]; !ok {
		u, _ := url.Parse(env.URL)
		cfg["validate_addr"] = u.Host // the server's own responder
	}
	iss, err := env.Service.CreateIssuer(w.ctx, service.IssuerInput{Name: "acme-like", Type: "pending", Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	w.iss = iss
	return w
}

func (w *acmeWorld) job(t *testing.T, certID uuid.UUID) core.Job {
	t.Helper()
	js, _, err := w.env.Service.ListJobs(w.ctx, core.JobFilter{CertificateID: &certID, Page: core.Page{Limit: 10}})
	if err != nil || len(js) == 0 {
		t.Fatalf("jobs of %s: %v (%d)", certID, err, len(js))
	}
	return js[0] // the newest
}

func (w *acmeWorld) challenges(t *testing.T) (rows int, tokens []string) {
	t.Helper()
	r, err := w.env.Pool.Query(context.Background(), `SELECT token FROM http01_challenges ORDER BY token`)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for r.Next() {
		var tok string
		if err := r.Scan(&tok); err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tok)
	}
	return len(tokens), tokens
}

func (w *acmeWorld) ordersCreated(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(w.state, "orders-created"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ids []string
	for s := bufio.NewScanner(f); s.Scan(); {
		ids = append(ids, s.Text())
	}
	return ids
}

func (w *acmeWorld) audits(t *testing.T, action, jobID string) []core.AuditEvent {
	t.Helper()
	evs, _, err := w.env.Service.ListAudit(w.ctx, core.AuditFilter{Action: action, ResourceID: jobID, Page: core.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// verifyChain checks that a version's certificate chains to the pending
// issuer's CA.
func (w *acmeWorld) verifyChain(t *testing.T, v core.CertificateVersion, name string) {
	t.Helper()
	caPEM, err := os.ReadFile(filepath.Join(w.state, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	block, _ := pem.Decode([]byte(v.CertificatePEM))
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err != nil {
		t.Fatalf("the issued certificate does not verify: %v", err)
	}
}

// A server-key certificate from a CA that answers pending: the server
// presents the HTTP-01 challenges itself (the CA fetches them from its
// responder over HTTP), polls the order after the CA's Retry-After without
// counting failed attempts, and finishes with one order, one version, the
// same key throughout, and no challenge left behind.
func TestPendingOrderThroughTheServersResponder(t *testing.T) {
	t.Parallel()
	w := newACMEWorld(t, map[string]any{"solver": "server", "processing_polls": 2, "retry_after": "30s"}, nil)
	c, err := w.env.Service.CreateCertificate(w.ctx, service.CertificateInput{Name: "shop", CommonName: "shop.example.com",
		SANs: []string{"www.shop.example.com"}, IssuerID: w.iss.ID, Profile: "tlsserver"})
	if err != nil {
		t.Fatal(err)
	}
	if c.KeyMode != core.KeyModeServer {
		t.Fatalf("key mode %q, want server", c.KeyMode)
	}
	// The order opens, the server presents both challenges, the CA checks
	// them over HTTP and is processing: the job comes back in 30 s.
	w.env.RunJobs(t)
	j := w.job(t, c.ID)
	if j.State != core.JobQueued || j.Attempt != 0 || j.Payload.OrderID == "" || !j.RunAt.Equal(w.clock.Now().Add(30*time.Second)) {
		t.Fatalf("job after the first runs: %s, attempt %d, order %q, run at %s (now %s); want queued 30s later, no attempt counted",
			j.State, j.Attempt, j.Payload.OrderID, j.RunAt, w.clock.Now())
	}
	if !strings.Contains(j.WaitingFor, "order "+j.Payload.OrderID) {
		t.Errorf("waiting_for = %q, want it to name the order", j.WaitingFor)
	}
	var shown api.Job
	w.env.MustDo(t, "GET", "/api/v1/jobs/"+j.ID.String(), w.env.AdminKey, nil, 200).Decode(t, &shown)
	if shown.OrderID != j.Payload.OrderID || shown.HasCSR || shown.State != "queued" {
		t.Errorf("the API's job: order %q has_csr %v state %s; want the order, no agent CSR, queued", shown.OrderID, shown.HasCSR, shown.State)
	}
	n, tokens := w.challenges(t)
	if n != 2 {
		t.Fatalf("%d challenge rows, want 2", n)
	}
	// The responder serves them without credentials, and nothing else.
	resp := w.env.Do(t, "GET", "/.well-known/acme-challenge/"+tokens[0], "", nil)
	if resp.Status != 200 || string(resp.Body) != tokens[0]+".test-account-thumbprint" || resp.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("responder: %d %q (%s)", resp.Status, resp.Body, resp.Header.Get("Content-Type"))
	}
	if resp := w.env.Do(t, "GET", "/.well-known/acme-challenge/no-such-token", "", nil); resp.Status != 404 {
		t.Fatalf("responder for an unknown token: %d", resp.Status)
	}
	// Nothing runs before the CA's Retry-After.
	if n := w.env.RunJobs(t); n != 0 {
		t.Fatalf("%d jobs ran before the Retry-After", n)
	}
	for range 2 {
		w.clock.Add(30 * time.Second)
		if n := w.env.RunJobs(t); n != 1 {
			t.Fatalf("%d jobs ran after the Retry-After, want 1", n)
		}
	}
	c = w.get(t, c.ID)
	j = w.job(t, c.ID)
	if c.Status != core.CertActive || j.State != core.JobSucceeded || j.Attempt != 1 {
		t.Fatalf("after the order: certificate %s (%s), job %s attempt %d", c.Status, c.LastError, j.State, j.Attempt)
	}
	if orders := w.ordersCreated(t); len(orders) != 1 || orders[0] != j.Payload.OrderID {
		t.Fatalf("orders created %v, want exactly the job's %q", orders, j.Payload.OrderID)
	}
	// The certificate's profile reached the issuer (on every call: the
	// issuer refuses a call with another).
	raw, err := os.ReadFile(filepath.Join(w.state, "order-"+j.Payload.OrderID+".json"))
	if err != nil || !strings.Contains(string(raw), `"profile":"tlsserver"`) {
		t.Fatalf("the order does not record the certificate's profile: %s %v", raw, err)
	}
	vs, _, err := w.env.Service.ListVersions(w.ctx, c.ID, core.Page{Limit: 10})
	if err != nil || len(vs) != 1 {
		t.Fatalf("versions: %d, %v", len(vs), err)
	}
	w.verifyChain(t, vs[0], "www.shop.example.com")
	if n, _ := w.challenges(t); n != 0 {
		t.Fatalf("%d challenge rows left after the job ended", n)
	}
	if resp := w.env.Do(t, "GET", "/.well-known/acme-challenge/"+tokens[0], "", nil); resp.Status != 404 {
		t.Fatalf("the responder still answers a finished job's token: %d", resp.Status)
	}
	if evs := w.audits(t, "job.pending", j.ID.String()); len(evs) != 1 || evs[0].Details["order_id"] != j.Payload.OrderID {
		t.Fatalf("job.pending audit events: %+v, want one naming the order", evs)
	}
}

func (w *acmeWorld) get(t *testing.T, id uuid.UUID) core.Certificate {
	t.Helper()
	c, err := w.env.Service.GetCertificate(w.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A CA that answers 429 with Retry-After: the retry waits that long (not
// the shorter backoff), capped at an hour, and the CA's words reach the
// job's last error and the audit trail.
func TestRateLimitedIssuanceWaitsForRetryAfter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		retryAfter string
		want       time.Duration
	}{{"20m", 20 * time.Minute}, {"5h", time.Hour}} {
		t.Run(tc.retryAfter, func(t *testing.T) {
			t.Parallel()
			w := newACMEWorld(t, map[string]any{"rate_limited": true, "retry_after": tc.retryAfter}, nil)
			c, err := w.env.Service.CreateCertificate(w.ctx, service.CertificateInput{Name: "busy", CommonName: "busy.example.com",
				IssuerID: w.iss.ID})
			if err != nil {
				t.Fatal(err)
			}
			if n := w.env.RunJobs(t); n != 1 {
				t.Fatalf("ran %d jobs, want 1", n)
			}
			j := w.job(t, c.ID)
			if j.State != core.JobRetrying || !j.RunAt.Equal(w.clock.Now().Add(tc.want)) {
				t.Fatalf("job %s, run at %s; want retrying at now+%s (%s)", j.State, j.RunAt, tc.want, w.clock.Now().Add(tc.want))
			}
			if !strings.Contains(j.LastError, "rateLimited") {
				t.Errorf("last_error %q lacks the CA's problem", j.LastError)
			}
			evs := w.audits(t, "job.retrying", j.ID.String())
			if len(evs) != 1 || !strings.Contains(fmt.Sprint(evs[0].Details["error"]), "rateLimited") ||
				evs[0].Details["retry_after_seconds"] == nil {
				t.Fatalf("job.retrying audit: %+v", evs)
			}
			w.clock.Add(tc.want - time.Second)
			if n := w.env.RunJobs(t); n != 0 {
				t.Fatalf("%d jobs ran before the Retry-After", n)
			}
			w.clock.Add(time.Second)
			if n := w.env.RunJobs(t); n != 1 {
				t.Fatalf("%d jobs ran at the Retry-After, want 1", n)
			}
		})
	}
}

// An order that stays pending past the limit fails its job with a clear
// message, and its challenges go.
func TestOrderPendingTooLongFails(t *testing.T) {
	t.Parallel()
	jobs := service.DefaultJobSettings()
	jobs.PendingLimit = time.Hour
	w := newACMEWorld(t, map[string]any{"solver": "server", "processing_polls": 1000, "retry_after": "20m"}, &jobs)
	c, err := w.env.Service.CreateCertificate(w.ctx, service.CertificateInput{Name: "slow", CommonName: "slow.example.com",
		IssuerID: w.iss.ID})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		w.env.RunJobs(t)
		w.clock.Add(20 * time.Minute)
	}
	j := w.job(t, c.ID)
	if j.State != core.JobFailed || !strings.Contains(j.LastError, "still pending after") {
		t.Fatalf("job %s: %q; want failed, still pending", j.State, j.LastError)
	}
	if c := w.get(t, c.ID); c.Status != core.CertFailed {
		t.Errorf("certificate %s, want failed", c.Status)
	}
	if n, _ := w.challenges(t); n != 0 {
		t.Errorf("%d challenge rows left", n)
	}
	if orders := w.ordersCreated(t); len(orders) != 1 {
		t.Errorf("orders created: %v, want 1", orders)
	}
}

// enrollAgent enrolls an agent through the API and returns its id and credential.
func enrollAgent(t *testing.T, env *apitest.Env, name string) (string, string) {
	t.Helper()
	var tok api.EnrollmentToken
	env.MustDo(t, "POST", "/api/v1/enrollment-tokens", env.AdminKey, api.EnrollmentTokenRequest{AgentName: name}, 201).Decode(t, &tok)
	var res api.AgentEnrollResponse
	env.MustDo(t, "POST", "/api/v1/agent/enroll", "", api.AgentEnrollRequest{Token: tok.Token,
		Facts: api.AgentFacts{OS: "linux", Arch: "amd64", Hostname: name}}, 201).Decode(t, &res)
	env.MustDo(t, "POST", "/api/v1/agent/heartbeat", res.Credential, api.AgentFacts{OS: "linux", Arch: "amd64", Hostname: name}, 200)
	return res.Agent.ID, res.Credential
}

func agentWork(t *testing.T, env *apitest.Env, cred string) map[string]api.AgentWorkItem {
	t.Helper()
	var w api.AgentWork
	env.MustDo(t, "GET", "/api/v1/agent/work", cred, nil, 200).Decode(t, &w)
	items := map[string]api.AgentWorkItem{}
	for _, it := range w.Items {
		key := it.Kind
		if it.Kind == api.AgentWorkHTTP01 {
			key += fmt.Sprintf(" present=%v", it.Present)
		}
		items[key] = it
	}
	return items
}

// agentCertificate declares an agent-key certificate on a target of a
// fresh agent, and has the agent send its CSR.
func (w *acmeWorld) agentCertificate(t *testing.T, name string) (core.Certificate, string, string) {
	t.Helper()
	agentID, cred := enrollAgent(t, w.env, name+"-host")
	var tgt api.Target
	w.env.MustDo(t, "POST", "/api/v1/targets", w.env.AdminKey, api.TargetRequest{Name: name + "-web", Type: "nginx", AgentID: &agentID,
		Config: map[string]any{"certificate_path": "/etc/ssl/" + name + ".pem"}}, 201).Decode(t, &tgt)
	var cert api.Certificate
	w.env.MustDo(t, "POST", "/api/v1/certificates", w.env.AdminKey, api.CertificateRequest{Name: name, CommonName: name + ".example.com",
		IssuerID: w.iss.ID.String(), TargetIDs: []string{tgt.ID}}, 201).Decode(t, &cert)
	csr := agentWork(t, w.env, cred)[api.AgentWorkCSR]
	if csr.JobID == "" {
		t.Fatal("no csr work")
	}
	key, err := keys.Generate("ecdsa-p256")
	if err != nil {
		t.Fatal(err)
	}
	der, err := keys.CSR(name+".example.com", nil, key)
	if err != nil {
		t.Fatal(err)
	}
	w.env.MustDo(t, "POST", "/api/v1/agent/jobs/"+csr.JobID+"/csr", cred,
		api.CSRRequest{CSRPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))}, 200)
	return w.get(t, uuid.MustParse(cert.ID)), agentID, cred
}

// An agent-key certificate whose targets are on an agent: the agent gets
// http-01 work, serves the tokens (here on a listener of the test, where
// the CA fetches them), reports, and the order completes; when the job has
// ended the agent is told to clean up, and its report removes the rows.
func TestPendingOrderThroughTheAgent(t *testing.T) {
	t.Parallel()
	served := map[string]string{}
	var mu sync.Mutex
	host := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		ka, ok := served[strings.TrimPrefix(r.URL.Path, "/.well-known/acme-challenge/")]
		if !ok {
			http.NotFound(rw, r)
			return
		}
		fmt.Fprint(rw, ka)
	}))
	t.Cleanup(host.Close)
	u, _ := url.Parse(host.URL)
	w := newACMEWorld(t, map[string]any{"validate_addr": u.Host, "retry_after": "5s"}, nil)
	c, agentID, cred := w.agentCertificate(t, "edge")

	w.env.RunJobs(t)
	j := w.job(t, c.ID)
	if j.State != core.JobWaiting || j.Attempt != 0 || j.AgentID == nil || j.AgentID.String() != agentID ||
		j.WaitingFor != "agent edge-host to present HTTP-01 challenges for edge.example.com" {
		t.Fatalf("job after the order opened: %s attempt %d, waiting for %q", j.State, j.Attempt, j.WaitingFor)
	}
	// The responder does not answer the agent's challenges.
	_, tokens := w.challenges(t)
	if resp := w.env.Do(t, "GET", "/.well-known/acme-challenge/"+tokens[0], "", nil); resp.Status != 404 {
		t.Fatalf("the server's responder answers an agent's token: %d", resp.Status)
	}
	item, ok := agentWork(t, w.env, cred)["http-01 present=true"]
	if !ok || item.JobID != j.ID.String() || len(item.Challenges) != 1 || item.Challenges[0].Identifier != "edge.example.com" {
		t.Fatalf("agent work: %+v", agentWork(t, w.env, cred))
	}
	// Another agent cannot report on it.
	_, other := enrollAgent(t, w.env, "elsewhere")
	w.env.MustDo(t, "POST", "/api/v1/agent/jobs/"+item.JobID+"/challenges", other,
		api.AgentChallengeReport{Present: true, Tokens: []string{item.Challenges[0].Token}}, 404)

	mu.Lock()
	served[item.Challenges[0].Token] = item.Challenges[0].KeyAuthorization
	mu.Unlock()
	w.env.MustDo(t, "POST", "/api/v1/agent/jobs/"+item.JobID+"/challenges", cred,
		api.AgentChallengeReport{Present: true, Tokens: []string{item.Challenges[0].Token}}, 204)
	if j := w.job(t, c.ID); j.State != core.JobQueued {
		t.Fatalf("job after the report: %s, want queued", j.State)
	}
	// The same report again (its answer lost) is accepted and changes nothing.
	w.env.MustDo(t, "POST", "/api/v1/agent/jobs/"+item.JobID+"/challenges", cred,
		api.AgentChallengeReport{Present: true, Tokens: []string{item.Challenges[0].Token}}, 204)
	w.env.RunJobs(t)
	c = w.get(t, c.ID)
	if j := w.job(t, c.ID); c.Status != core.CertActive {
		t.Fatalf("certificate %s (%s), job %s (%s)", c.Status, c.LastError, j.State, j.LastError)
	}
	work := agentWork(t, w.env, cred)
	clean, ok := work["http-01 present=false"]
	if !ok || len(clean.Challenges) != 1 || clean.Challenges[0].Token != item.Challenges[0].Token {
		t.Fatalf("agent work after issuance: %+v, want a cleanup item", work)
	}
	if _, ok := work[api.AgentWorkDeploy]; !ok {
		t.Errorf("no deploy work after issuance: %+v", work)
	}
	w.env.MustDo(t, "POST", "/api/v1/agent/jobs/"+clean.JobID+"/challenges", cred,
		api.AgentChallengeReport{Present: false, Tokens: []string{clean.Challenges[0].Token}}, 204)
	if n, _ := w.challenges(t); n != 0 {
		t.Fatalf("%d challenge rows after the cleanup report", n)
	}
	if _, ok := agentWork(t, w.env, cred)["http-01 present=false"]; ok {
		t.Fatal("cleanup work offered again after the report")
	}
}

// An agent that cannot present the challenges fails the job with its
// words; the challenges go to cleanup.
func TestAgentThatCannotPresentFailsTheJob(t *testing.T) {
	t.Parallel()
	w := newACMEWorld(t, map[string]any{"validate_addr": "127.0.0.1:1"}, nil)
	c, _, cred := w.agentCertificate(t, "locked")
	w.env.RunJobs(t)
	item := agentWork(t, w.env, cred)["http-01 present=true"]
	if item.JobID == "" {
		t.Fatal("no http-01 work")
	}
	w.env.MustDo(t, "POST", "/api/v1/agent/jobs/"+item.JobID+"/challenges", cred,
		api.AgentChallengeReport{Present: true, Error: "webroot /var/www/acme is not writable"}, 204)
	j := w.job(t, c.ID)
	if j.State != core.JobFailed || !strings.Contains(j.LastError, "webroot /var/www/acme is not writable") ||
		!strings.Contains(j.LastError, "locked-host") {
		t.Fatalf("job %s: %q", j.State, j.LastError)
	}
	if c := w.get(t, c.ID); c.Status != core.CertFailed {
		t.Errorf("certificate %s, want failed", c.Status)
	}
	if _, ok := agentWork(t, w.env, cred)["http-01 present=false"]; !ok {
		t.Error("no cleanup work after the failure")
	}
	// A second report is a conflict: the job no longer waits.
	w.env.MustDo(t, "POST", "/api/v1/agent/jobs/"+item.JobID+"/challenges", cred,
		api.AgentChallengeReport{Present: true, Tokens: []string{item.Challenges[0].Token}}, 409)
}

// A CA that wants the agent to present, for a certificate with no agent:
// a clear permanent error, not a stuck job.
func TestAgentSolverWithoutAnAgentFails(t *testing.T) {
	t.Parallel()
	w := newACMEWorld(t, map[string]any{"solver": "agent"}, nil)
	c, err := w.env.Service.CreateCertificate(w.ctx, service.CertificateInput{Name: "lonely", CommonName: "lonely.example.com",
		IssuerID: w.iss.ID})
	if err != nil {
		t.Fatal(err)
	}
	w.env.RunJobs(t)
	j := w.job(t, c.ID)
	if j.State != core.JobFailed || !strings.Contains(j.LastError, "none of its targets is bound to an agent") {
		t.Fatalf("job %s: %q", j.State, j.LastError)
	}
}

// A pending order's private key (server key mode) is sealed in its job:
// an encryption key rotation re-seals it, and a server with the new key
// alone finalizes the order with it.
func TestPendingOrderKeyIsResealedByKeyRotation(t *testing.T) {
	t.Parallel()
	w := newACMEWorld(t, map[string]any{"solver": "server", "processing_polls": 1, "retry_after": "10s"}, nil)
	c, err := w.env.Service.CreateCertificate(w.ctx, service.CertificateInput{Name: "rotated", CommonName: "rotated.example.com",
		IssuerID: w.iss.ID})
	if err != nil {
		t.Fatal(err)
	}
	w.env.RunJobs(t)
	if j := w.job(t, c.ID); j.Payload.SealedKey == nil || j.Payload.OrderID == "" {
		t.Fatalf("pending job keeps no sealed key: %+v", j.Payload)
	}
	newKey := bytes.Repeat([]byte{0x42}, secrets.KeySize)
	oldKey := bytes.Repeat([]byte{0x5e}, secrets.KeySize) // apitest's
	both, err := secrets.New(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	rotating := service.New(service.Options{Store: w.env.Store, Secrets: both, Clock: w.clock.Now, Issuers: w.env.Plugins})
	rot, err := rotating.RotateEncryptionKey(w.ctx)
	if err != nil || !rot.Complete || len(rot.Failed) > 0 {
		t.Fatalf("rotation: %+v, %v", rot, err)
	}
	j := w.job(t, c.ID)
	if !both.IsCurrent(j.Payload.SealedKey) {
		t.Fatal("the pending order's key was not re-sealed with the new key")
	}
	onlyNew, err := secrets.New(newKey)
	if err != nil {
		t.Fatal(err)
	}
	next := service.New(service.Options{Store: w.env.Store, Secrets: onlyNew, Clock: w.clock.Now, Issuers: w.env.Plugins})
	w.clock.Add(10 * time.Second)
	worker := next.NewWorker(service.WorkerOptions{Owner: "after-rotation"})
	if n, err := worker.RunOnce(context.Background()); err != nil || n != 1 {
		t.Fatalf("ran %d jobs: %v", n, err)
	}
	j = w.job(t, c.ID)
	if got := w.get(t, c.ID); got.Status != core.CertActive || j.Payload.SealedKey != nil {
		t.Fatalf("after the rotation: certificate %s (%s), job %s (%s), sealed key kept: %v", got.Status, got.LastError,
			j.State, j.LastError, j.Payload.SealedKey != nil)
	}
}

// An agent that never presents its challenges (it is offline) does not
// leave the job waiting for ever: past the pending limit, the scheduler's
// sweep fails it, and the agent is told to clean up when it comes back.
func TestUnpresentedChallengesFailAfterThePendingLimit(t *testing.T) {
	t.Parallel()
	jobs := service.DefaultJobSettings()
	jobs.PendingLimit = time.Hour
	w := newACMEWorld(t, map[string]any{"validate_addr": "127.0.0.1:1"}, &jobs)
	c, _, cred := w.agentCertificate(t, "silent")
	w.env.RunJobs(t)
	if j := w.job(t, c.ID); j.State != core.JobWaiting {
		t.Fatalf("job %s, want waiting for the agent", j.State)
	}
	w.clock.Add(59 * time.Minute)
	if err := w.env.Service.Sweep(w.ctx); err != nil {
		t.Fatal(err)
	}
	if j := w.job(t, c.ID); j.State != core.JobWaiting {
		t.Fatalf("job %s before the limit, want still waiting", j.State)
	}
	w.clock.Add(2 * time.Minute)
	if err := w.env.Service.Sweep(w.ctx); err != nil {
		t.Fatal(err)
	}
	j := w.job(t, c.ID)
	if j.State != core.JobFailed || !strings.Contains(j.LastError, "were not presented within 1h0m0s") {
		t.Fatalf("job %s: %q; want failed, not presented", j.State, j.LastError)
	}
	if _, ok := agentWork(t, w.env, cred)["http-01 present=false"]; !ok {
		t.Error("no cleanup work for the agent")
	}
}

// A profile is a short token; anything else is refused on the field.
func TestCertificateProfileIsValidated(t *testing.T) {
	t.Parallel()
	w := newACMEWorld(t, map[string]any{}, nil)
	for _, bad := range []string{"short lived", strings.Repeat("p", 65), "a/b"} {
		_, err := w.env.Service.CreateCertificate(w.ctx, service.CertificateInput{Name: "bad", CommonName: "bad.example.com",
			IssuerID: w.iss.ID, Profile: bad})
		if core.ErrorCode(err) != core.EINVALID || !strings.Contains(err.Error(), "profile") {
			t.Errorf("profile %q: %v, want invalid on profile", bad, err)
		}
	}
	resp := w.env.Do(t, "POST", "/api/v1/certificates", w.env.AdminKey, api.CertificateRequest{Name: "ok", CommonName: "ok.example.com",
		IssuerID: w.iss.ID.String(), Profile: "shortlived"})
	var c api.Certificate
	resp.Decode(t, &c)
	if resp.Status != 201 || c.Profile != "shortlived" {
		t.Fatalf("create with a profile: %d %s", resp.Status, resp.Body)
	}
}

// The CA's renewal window (ARI) is followed when it comes before the
// policy's point, and never past it: a 12-hour certificate renews at half
// its life by policy, so a window 1 to 2 hours in is used, and one 10 to 11
// hours in is not.
func TestRenewalFollowsTheCAsWindowButNotPastThePolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		start, end string
		inWindow   bool
	}{{"1h", "2h", true}, {"10h", "11h", false}} {
		t.Run(tc.start, func(t *testing.T) {
			t.Parallel()
			w := newACMEWorld(t, map[string]any{"solver": "server", "window_start": tc.start, "window_end": tc.end}, nil)
			c, err := w.env.Service.CreateCertificate(w.ctx, service.CertificateInput{Name: "ari", CommonName: "ari.example.com",
				IssuerID: w.iss.ID})
			if err != nil {
				t.Fatal(err)
			}
			w.env.RunJobs(t)
			c = w.get(t, c.ID)
			vs, _, err := w.env.Service.ListVersions(w.ctx, c.ID, core.Page{Limit: 10})
			if err != nil || len(vs) != 1 || c.NextRenewalAt == nil {
				t.Fatalf("certificate %s, %d versions, next renewal %v: %v", c.Status, len(vs), c.NextRenewalAt, err)
			}
			v, at := vs[0], *c.NextRenewalAt
			start, _ := time.ParseDuration(tc.start)
			end, _ := time.ParseDuration(tc.end)
			policy := v.NotBefore.Add(v.NotAfter.Sub(v.NotBefore) / 2) // lifetimes under 10 days renew at half
			if at.After(policy) {
				t.Fatalf("renews at %s, after the policy's point %s", at, policy)
			}
			inWindow := !at.Before(v.NotBefore.Add(start)) && !at.After(v.NotBefore.Add(end))
			if inWindow != tc.inWindow {
				t.Fatalf("renews at %s (not before %s): in the CA's window %v, want %v", at, v.NotBefore, inWindow, tc.inWindow)
			}
			if !tc.inWindow && !at.Equal(policy) {
				t.Fatalf("renews at %s, want the policy's point %s", at, policy)
			}
		})
	}
}
