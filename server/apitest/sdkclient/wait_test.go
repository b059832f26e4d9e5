package sdkclient_test

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
	"github.com/certctl/certctl/sdk/keys"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/service"
)

// TestWaitAndDeploymentHealth: WaitJob and WaitCertificate answer with the
// settled resource, a deploy job with nowhere to go says why, and the
// deployment_health filter reaches the server. The HTTP client's own
// timeout is shorter than the waits: the client gives waiting reads room.
func TestWaitAndDeploymentHealth(t *testing.T) {
	t.Parallel()
	env, _ := start(t)
	c, err := client.New(env.URL, client.WithAPIKey(env.AdminKey), client.WithHTTPClient(&http.Client{Timeout: 2 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	iss := must(c.CreateIssuer(ctx, api.IssuerRequest{Name: "ca", Type: "local", Config: map[string]any{"ca_key_type": "ecdsa-p256"}}))(t)
	tgt := must(c.CreateTarget(ctx, api.TargetRequest{Name: "lonely", Type: "nginx",
		Config: map[string]any{"certificate_path": "/etc/ssl/l.pem", "key_path": "/etc/ssl/l.key"}}))(t)
	cert := must(c.CreateCertificate(ctx, api.CertificateRequest{Name: "app", CommonName: "app.example.com",
		IssuerID: iss.ID, TargetIDs: []string{tgt.ID}}))(t)
	issue := must(c.ListJobs(ctx, client.JobListOptions{CertificateID: cert.ID, Kind: "issue"}))(t).Items[0]

	env.RunJobs(t)
	if j := must(c.WaitJob(ctx, issue.ID, 30*time.Second))(t); j.State != "succeeded" {
		t.Errorf("waited issue job = %s", j.State)
	}
	// The deploy job cannot progress (its target has no agent), so the
	// certificate is settled; a wait on the job itself runs out, longer
	// than the HTTP client's 2 s timeout, and answers with its state.
	got := must(c.WaitCertificate(ctx, cert.ID, 30*time.Second))(t)
	if got.Status != "active" || got.DeploymentHealth.Total != 1 || got.DeploymentHealth.Pending != 1 {
		t.Errorf("waited certificate: %s, health %+v", got.Status, got.DeploymentHealth)
	}
	deploy := must(c.ListJobs(ctx, client.JobListOptions{Kind: "deploy"}))(t).Items[0]
	if j := must(c.WaitJob(ctx, deploy.ID, 3*time.Second))(t); j.State != "waiting" || j.WaitingFor != "target lonely has no agent" {
		t.Errorf("waited deploy job: %s, waiting for %q", j.State, j.WaitingFor)
	}
	if _, err := c.WaitJob(ctx, deploy.ID, 2*time.Minute); err == nil {
		t.Error("a wait over client.MaxWait was sent")
	}

	pending := must(c.ListCertificates(ctx, client.CertificateListOptions{DeploymentHealth: api.DeploymentHealthPending}))(t)
	failed := must(c.ListCertificates(ctx, client.CertificateListOptions{DeploymentHealth: api.DeploymentHealthFailed}))(t)
	if len(pending.Items) != 1 || pending.Items[0].ID != cert.ID || len(failed.Items) != 0 {
		t.Errorf("deployment_health=pending: %d, failed: %d; want 1 and 0", len(pending.Items), len(failed.Items))
	}
	if _, err := c.ListCertificates(ctx, client.CertificateListOptions{DeploymentHealth: "broken"}); !client.IsInvalid(err) {
		t.Errorf("unknown deployment_health: %v; want invalid", err)
	}
}

// runWorker runs the server's job worker until the test ends, as a real
// server does, so that waits see jobs progress by themselves.
func runWorker(t *testing.T, env *apitest.Env) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	w := env.Service.NewWorker(service.WorkerOptions{Owner: "sdk-test-" + t.Name()})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// events collects what WaitForCertificate reports.
type events struct {
	mu   sync.Mutex
	list []client.WaitEvent
}

func (e *events) add(ev client.WaitEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
}

func (e *events) messages() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.list {
		out = append(out, ev.Message)
	}
	return out
}

// TestWaitForCertificateIssued: a wait on a new certificate reports its
// first state and returns it issued; a renewal is waited for with
// AfterVersionID; a wait for a renewal nobody started stops at once.
func TestWaitForCertificateIssued(t *testing.T) {
	t.Parallel()
	env, c := start(t)
	runWorker(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	iss := must(c.CreateIssuer(ctx, api.IssuerRequest{Name: "ca", Type: "local", Config: map[string]any{"ca_key_type": "ecdsa-p256"}}))(t)
	cert := must(c.CreateCertificate(ctx, api.CertificateRequest{Name: "app", CommonName: "app.example.com", IssuerID: iss.ID}))(t)
	var ev events
	got, err := c.WaitForCertificate(ctx, cert.ID, client.WaitOptions{Progress: ev.add, Interval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	msgs := ev.messages()
	if got.Status != "active" || got.CurrentVersionID == nil || len(msgs) == 0 || !strings.HasSuffix(msgs[len(msgs)-1], "; issued") {
		t.Fatalf("waited certificate %s, events %q", got.Status, msgs)
	}
	if ev.list[0].Certificate.ID != cert.ID {
		t.Errorf("first event is about %s", ev.list[0].Certificate.ID)
	}

	// Renew, and wait for the new version.
	old := *got.CurrentVersionID
	must(c.RenewCertificate(ctx, cert.ID))(t)
	renewed, err := c.WaitForCertificate(ctx, cert.ID, client.WaitOptions{AfterVersionID: old})
	if err != nil {
		t.Fatal(err)
	}
	if renewed.CurrentVersionID == nil || *renewed.CurrentVersionID == old {
		t.Errorf("renewal wait returned version %v, the old one was %s", renewed.CurrentVersionID, old)
	}
	// Nothing renews it now: waiting for another version fails at once.
	_, err = c.WaitForCertificate(ctx, cert.ID, client.WaitOptions{AfterVersionID: *renewed.CurrentVersionID})
	var we *client.WaitError
	if !errors.As(err, &we) || we.Certificate.ID != cert.ID || we.Until != client.WaitIssued {
		t.Errorf("wait for a renewal nobody started: %v; want a WaitError", err)
	}

	// Revoked: will never be deployed. (The wait outlasts the revoke job.)
	must(c.RevokeCertificate(ctx, cert.ID, api.RevokeRequest{}))(t)
	if _, err := c.WaitForCertificate(ctx, cert.ID, client.WaitOptions{Until: client.WaitDeployed}); !errors.As(err, &we) || !strings.Contains(we.Reason, "revoked") {
		t.Errorf("wait on a revoked certificate: %v", err)
	}
	if _, err := c.WaitForCertificate(ctx, cert.ID, client.WaitOptions{Until: "served"}); err == nil {
		t.Error("an unknown condition was accepted")
	}
	if _, err := c.WaitForCertificate(ctx, "0190d0a0-0000-7000-8000-000000000000", client.WaitOptions{}); !client.IsNotFound(err) {
		t.Errorf("wait on a missing certificate: %v; want not found", err)
	}
}

// TestWaitForCertificateDeployed drives a certificate whose key an agent
// makes, through the SDK's agent API, and waits for it to be deployed:
// progress says what the jobs wait for, in order, and the wait ends when
// the agent reported the deployment. A second certificate whose target has
// no agent never gets there: the context ends the wait, with its last
// state.
func TestWaitForCertificateDeployed(t *testing.T) {
	t.Parallel()
	env, c := start(t)
	runWorker(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// An agent, through the agent API.
	tok := must(c.CreateEnrollmentToken(ctx, api.EnrollmentTokenRequest{}))(t)
	anon := must(client.New(env.URL))(t)
	enr := must(anon.EnrollAgent(ctx, api.AgentEnrollRequest{Token: tok.Token, Name: "web-01",
		Facts: api.AgentFacts{OS: "linux", Arch: "amd64", Hostname: "web-01"}}))(t)
	agent := must(client.New(env.URL, client.WithAPIKey(enr.Credential)))(t)
	if hb := must(agent.Heartbeat(ctx, api.AgentFacts{OS: "linux", Arch: "amd64", Hostname: "web-01"}))(t); hb.Agent.Status != "online" {
		t.Fatalf("agent after heartbeat: %s", hb.Agent.Status)
	}
	rot := must(agent.RotateAgentCredential(ctx))(t)
	agent = must(client.New(env.URL, client.WithAPIKey(rot.Credential)))(t)

	iss := must(c.CreateIssuer(ctx, api.IssuerRequest{Name: "ca", Type: "local", Config: map[string]any{"ca_key_type": "ecdsa-p256"}}))(t)
	tgt := must(c.CreateTarget(ctx, api.TargetRequest{Name: "web", Type: "nginx", AgentID: &enr.Agent.ID,
		Config: map[string]any{"certificate_path": "/etc/ssl/www.pem", "key_path": "/etc/ssl/www.key"}}))(t)
	cert := must(c.CreateCertificate(ctx, api.CertificateRequest{Name: "www", CommonName: "www.example.com",
		IssuerID: iss.ID, TargetIDs: []string{tgt.ID}}))(t)
	if cert.KeyMode != "agent" {
		t.Fatalf("key mode %s, want agent", cert.KeyMode)
	}

	// The agent: a CSR, then the deployment, each when the server asks.
	agentErr := make(chan error, 1)
	go func() { agentErr <- fakeAgent(ctx, agent, 2) }()

	var ev events
	got, err := c.WaitForCertificate(ctx, cert.ID, client.WaitOptions{Until: client.WaitDeployed, Progress: ev.add, Interval: time.Second})
	if err != nil {
		t.Fatalf("wait: %v; events %q", err, ev.messages())
	}
	if err := <-agentErr; err != nil {
		t.Fatal(err)
	}
	msgs := ev.messages()
	if h := got.DeploymentHealth; h.Total != 1 || h.Succeeded != 1 || !strings.HasSuffix(msgs[len(msgs)-1], "; deployed") {
		t.Errorf("waited certificate: health %+v, events %q", h, msgs)
	}
	// The job's own account of what it waited for reached the caller,
	// unless the agent was quicker than the first read.
	t.Logf("progress: %q", msgs)

	// A target without an agent: the deployment can never happen.
	lonely := must(c.CreateTarget(ctx, api.TargetRequest{Name: "lonely", Type: "nginx",
		Config: map[string]any{"certificate_path": "/etc/ssl/l.pem", "key_path": "/etc/ssl/l.key"}}))(t)
	stuck := must(c.CreateCertificate(ctx, api.CertificateRequest{Name: "stuck", CommonName: "stuck.example.com",
		IssuerID: iss.ID, TargetIDs: []string{lonely.ID}}))(t)
	short, cancelShort := context.WithTimeout(ctx, 5*time.Second)
	defer cancelShort()
	var ev2 events
	last, err := c.WaitForCertificate(short, stuck.ID, client.WaitOptions{Until: client.WaitDeployed, Progress: ev2.add, Interval: time.Second})
	if !errors.Is(err, context.DeadlineExceeded) || last == nil || last.ID != stuck.ID {
		t.Fatalf("wait on a stuck deployment: %v, %v", last, err)
	}
	msgs = ev2.messages()
	if len(msgs) == 0 || !strings.Contains(msgs[len(msgs)-1], "waiting for target lonely has no agent") {
		t.Errorf("progress of a stuck deployment: %q", msgs)
	}
}

// fakeAgent does what an agent does for n work items: makes a key and
// sends a CSR, or reports a deployment as done and verified.
func fakeAgent(ctx context.Context, agent *client.Client, n int) error {
	for n > 0 {
		work, err := agent.AgentWork(ctx, 5*time.Second)
		if err != nil {
			return err
		}
		for _, it := range work.Items {
			switch it.Kind {
			case api.AgentWorkCSR:
				key, err := keys.Generate(it.Certificate.KeyType)
				if err != nil {
					return err
				}
				der, err := keys.CSR(it.Certificate.CommonName, it.Certificate.SANs, key)
				if err != nil {
					return err
				}
				if _, err := agent.SubmitAgentCSR(ctx, it.JobID, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})); err != nil {
					return err
				}
			case api.AgentWorkDeploy:
				if err := agent.ReportDeployment(ctx, it.JobID, api.AgentDeployResult{Succeeded: true, Verified: true,
					ServedSerial: it.Version.SerialNumber, Message: "deployed"}); err != nil {
					return err
				}
			}
			n--
		}
	}
	return nil
}
