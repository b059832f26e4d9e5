package client_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
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
