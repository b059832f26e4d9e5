package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
)

// certIDs lists the ids of a certificate list page.
func certIDs(t *testing.T, env *apitest.Env, query string) []string {
	t.Helper()
	var l api.List[api.Certificate]
	env.MustDo(t, "GET", "/api/v1/certificates"+query, env.AdminKey, nil, 200).Decode(t, &l)
	ids := []string{}
	for _, c := range l.Items {
		ids = append(ids, c.ID)
	}
	return ids
}

func has(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func getJob(t *testing.T, env *apitest.Env, id string) api.Job {
	t.Helper()
	var j api.Job
	env.MustDo(t, "GET", "/api/v1/jobs/"+id, env.AdminKey, nil, 200).Decode(t, &j)
	return j
}

// TestFailedDeploymentShowsOnTheCertificate drives the real agent protocol:
// an agent reports one deployment failed and another succeeded, and the
// certificate, its list and the list's filters tell so without a look at
// its deployments.
func TestFailedDeploymentShowsOnTheCertificate(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir, AgentHub: true})
	agent, cred := enroll(t, env, "web-01")
	env.MustDo(t, "POST", "/api/v1/agent/heartbeat", cred, api.AgentFacts{OS: "linux"}, 200)
	iss, _ := localCA(t, env, "ca")
	target := func(name string) api.Target {
		var tgt api.Target
		env.MustDo(t, "POST", "/api/v1/targets", env.AdminKey, api.TargetRequest{Name: name, Type: "nginx", AgentID: &agent.ID,
			Config: map[string]any{"certificate_path": "/etc/ssl/" + name + ".pem", "key_path": "/etc/ssl/" + name + ".key"}},
			201).Decode(t, &tgt)
		return tgt
	}
	web1, web2 := target("web-1"), target("web-2")
	var shop, blog api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "shop", CommonName: "shop.example.com",
		IssuerID: iss.ID, TargetIDs: []string{web1.ID, web2.ID}}, 201).Decode(t, &shop)
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "blog", CommonName: "blog.example.com",
		IssuerID: iss.ID, TargetIDs: []string{web2.ID}}, 201).Decode(t, &blog)
	if h := shop.DeploymentHealth; h.Total != 0 || h.LastErrorAt != nil {
		t.Errorf("health before any version = %+v", h)
	}
	answerCSRs(t, env, cred, 2)
	env.RunJobs(t)

	c := getCertificate(t, env, shop.ID)
	if h := c.DeploymentHealth; h.Total != 2 || h.Pending != 2 || h.Failed != 0 {
		t.Fatalf("health after issuance = %+v; want 2 pending", h)
	}
	if ids := certIDs(t, env, "?deployment_health=pending"); !has(ids, shop.ID) || !has(ids, blog.ID) {
		t.Errorf("deployment_health=pending lists %v; want both certificates", ids)
	}

	var work api.AgentWork
	env.MustDo(t, "GET", "/api/v1/agent/work", cred, nil, 200).Decode(t, &work)
	if len(work.Items) != 3 {
		t.Fatalf("agent work: %d items, want 3 deployments", len(work.Items))
	}
	if h := getCertificate(t, env, shop.ID).DeploymentHealth; h.InProgress != 2 || h.Pending != 0 {
		t.Errorf("health while the agent deploys = %+v; want 2 in progress", h)
	}
	for _, it := range work.Items {
		res := api.AgentDeployResult{Succeeded: true, Message: "deployed", ServedSerial: it.Version.SerialNumber}
		if it.Certificate.ID == shop.ID && it.Target.ID == web1.ID {
			res = api.AgentDeployResult{Message: "nginx -t: unknown directive \"ssl_certificat\""}
		}
		env.MustDo(t, "POST", "/api/v1/agent/jobs/"+it.JobID+"/result", cred, res, 204)
	}

	c = getCertificate(t, env, shop.ID)
	h := c.DeploymentHealth
	wantErr := `deploy to target web-1: nginx -t: unknown directive "ssl_certificat"`
	if h.Total != 2 || h.Failed != 1 || h.Succeeded != 1 || h.Pending != 0 || h.InProgress != 0 {
		t.Errorf("health after the reports = %+v; want 1 failed, 1 succeeded", h)
	}
	if h.LastError != wantErr || h.LastErrorAt == nil {
		t.Errorf("health's last error = %q at %v; want %q", h.LastError, h.LastErrorAt, wantErr)
	}
	if c.LastError != wantErr || c.Status != "active" {
		t.Errorf("certificate: status %s, last_error %q; want active, %q", c.Status, c.LastError, wantErr)
	}
	// The list shows it on the item, and its filters select by it.
	var all api.List[api.Certificate]
	env.MustDo(t, "GET", "/api/v1/certificates", env.AdminKey, nil, 200).Decode(t, &all)
	for _, it := range all.Items {
		if it.ID == shop.ID && (it.DeploymentHealth.Failed != 1 || it.LastError != wantErr) {
			t.Errorf("list item = %+v", it)
		}
	}
	if ids := certIDs(t, env, "?deployment_health=failed"); len(ids) != 1 || ids[0] != shop.ID {
		t.Errorf("deployment_health=failed lists %v; want only shop", ids)
	}
	if ids := certIDs(t, env, "?deployment_health=succeeded"); len(ids) != 1 || ids[0] != blog.ID {
		t.Errorf("deployment_health=succeeded lists %v; want only blog", ids)
	}
	if ids := certIDs(t, env, "?deployment_health=pending"); len(ids) != 0 {
		t.Errorf("deployment_health=pending lists %v; want none", ids)
	}
	if ids := certIDs(t, env, "?deployment_health=failed&status=active&limit=1"); len(ids) != 1 {
		t.Errorf("deployment_health with other filters lists %v", ids)
	}
	wantInvalid(t, env, "GET", "/api/v1/certificates?deployment_health=broken", nil, "deployment_health")

	// Retried, the deployment is pending again, its agent takes it, and its
	// success clears the failure.
	failed := listJobs(t, env, env.AdminKey, "kind=deploy&state=failed")
	if len(failed) != 1 {
		t.Fatalf("failed deploy jobs = %+v", failed)
	}
	env.MustDo(t, "POST", "/api/v1/jobs/"+failed[0].ID+"/retry", env.AdminKey, nil, 200)
	c = getCertificate(t, env, shop.ID)
	if h := c.DeploymentHealth; h.Pending != 1 || h.Failed != 0 || h.LastError != "" || c.LastError != "" {
		t.Errorf("after the retry: health %+v, last_error %q; want 1 pending, no error", h, c.LastError)
	}
	env.MustDo(t, "GET", "/api/v1/agent/work", cred, nil, 200).Decode(t, &work)
	if len(work.Items) != 1 || work.Items[0].JobID != failed[0].ID {
		t.Fatalf("agent work after the retry = %+v", work.Items)
	}
	env.MustDo(t, "POST", "/api/v1/agent/jobs/"+failed[0].ID+"/result", cred, api.AgentDeployResult{Succeeded: true}, 204)
	if ids := certIDs(t, env, "?deployment_health=succeeded"); len(ids) != 2 {
		t.Errorf("deployment_health=succeeded after the retry lists %v; want both", ids)
	}

	// A new version starts afresh: its own deployments, no old failure.
	env.MustDo(t, "POST", "/api/v1/certificates/"+shop.ID+"/renew", env.AdminKey, nil, 202)
	answerCSRs(t, env, cred, 1)
	env.RunJobs(t)
	c = getCertificate(t, env, shop.ID)
	if h := c.DeploymentHealth; h.Total != 2 || h.Pending != 2 || h.Failed != 0 || h.LastError != "" || c.LastError != "" {
		t.Errorf("after renewal: health %+v, last_error %q; want 2 pending and no error", h, c.LastError)
	}
}

// TestWaitingJobsSayWhy follows one deploy job from a target without agent
// to an agent that stops answering, and an agent key mode issuance waiting
// for its CSR.
func TestWaitingJobsSayWhy(t *testing.T) {
	t.Parallel()
	clock := &testClock{now: time.Now().UTC().Truncate(time.Second)}
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir, Clock: clock.Now})
	iss, _ := localCA(t, env, "ca")
	var lonely api.Target
	env.MustDo(t, "POST", "/api/v1/targets", env.AdminKey, api.TargetRequest{Name: "lonely", Type: "nginx",
		Config: map[string]any{"certificate_path": "/etc/ssl/l.pem", "key_path": "/etc/ssl/l.key"}}, 201).Decode(t, &lonely)
	var cert api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "app", CommonName: "app.example.com",
		IssuerID: iss.ID, TargetIDs: []string{lonely.ID}}, 201).Decode(t, &cert)
	env.RunJobs(t)
	deploys := listJobs(t, env, env.AdminKey, "kind=deploy")
	if len(deploys) != 1 || deploys[0].State != "waiting" {
		t.Fatalf("deploy jobs = %+v", deploys)
	}
	if got := deploys[0].WaitingFor; got != "target lonely has no agent" {
		t.Errorf("listed deploy job waits for %q", got)
	}
	id := deploys[0].ID
	if got := getJob(t, env, id).WaitingFor; got != "target lonely has no agent" {
		t.Errorf("deploy job waits for %q", got)
	}
	// Finished jobs wait for nothing.
	for _, j := range listJobs(t, env, env.AdminKey, "kind=issue") {
		if j.WaitingFor != "" {
			t.Errorf("%s %s job waits for %q", j.State, j.Kind, j.WaitingFor)
		}
	}

	// The target gets an agent: the job is the agent's now.
	agent, cred := enroll(t, env, "web-01")
	env.MustDo(t, "PUT", "/api/v1/targets/"+lonely.ID, env.AdminKey, api.TargetRequest{Name: "lonely", Type: "nginx",
		AgentID: &agent.ID, Config: map[string]any{"certificate_path": "/etc/ssl/l.pem", "key_path": "/etc/ssl/l.key"}}, 200)
	j := getJob(t, env, id)
	if j.AgentID == nil || *j.AgentID != agent.ID || j.WaitingFor != "agent web-01 to connect (enrolled, no heartbeat yet)" {
		t.Errorf("after the target got an agent: agent %v, waiting for %q", j.AgentID, j.WaitingFor)
	}
	env.MustDo(t, "POST", "/api/v1/agent/heartbeat", cred, api.AgentFacts{OS: "linux"}, 200)
	seen := clock.Now()
	if got := getJob(t, env, id).WaitingFor; got != "agent web-01 to pick it up" {
		t.Errorf("with the agent online, the job waits for %q", got)
	}
	// The agent falls silent: offline since its last heartbeat, before and
	// after the sweep marks it so.
	clock.Add(2 * time.Minute)
	want := "agent web-01 offline since " + seen.UTC().Format(time.RFC3339)
	if got := getJob(t, env, id).WaitingFor; got != want {
		t.Errorf("silent agent: job waits for %q; want %q", got, want)
	}
	if err := env.Service.Sweep(core.WithActor(context.Background(), core.SystemActor)); err != nil {
		t.Fatal(err)
	}
	if got := listJobs(t, env, env.AdminKey, "kind=deploy&state=waiting"); len(got) != 1 || got[0].WaitingFor != want {
		t.Errorf("offline agent: listed jobs %+v; want one waiting for %q", got, want)
	}
	// Cancelling the deployment is a failure to deliver, on the certificate too.
	env.MustDo(t, "POST", "/api/v1/jobs/"+id+"/cancel", env.AdminKey, nil, 200)
	if h := getCertificate(t, env, cert.ID).DeploymentHealth; h.Failed != 1 || !strings.HasPrefix(h.LastError, "deploy to target lonely: cancelled") {
		t.Errorf("after cancelling the deploy job: health %+v", h)
	}

	// Agent key mode: the issuance waits for the agent's CSR.
	env.MustDo(t, "POST", "/api/v1/agent/heartbeat", cred, api.AgentFacts{OS: "linux"}, 200)
	var keyed api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "keyed", CommonName: "keyed.example.com",
		IssuerID: iss.ID, TargetIDs: []string{lonely.ID}}, 201).Decode(t, &keyed)
	issues := listJobs(t, env, env.AdminKey, "kind=issue&certificate_id="+keyed.ID)
	if len(issues) != 1 || issues[0].WaitingFor != "agent web-01 to send a CSR" {
		t.Errorf("agent key mode issuance = %+v; want waiting for the CSR", issues)
	}
}

// TestWaitParameter: ?wait= answers as soon as the job or certificate is
// settled, or with the current state when the wait is over; it refuses bad
// values and ends with the request.
func TestWaitParameter(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir, AgentHub: true})
	iss, _ := localCA(t, env, "ca")
	var cert api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "app", CommonName: "app.example.com",
		IssuerID: iss.ID}, 201).Decode(t, &cert)
	issue := listJobs(t, env, env.AdminKey, "kind=issue")[0]

	for _, bad := range []string{"soon", "5", "-1s", "61s", "2m"} {
		for _, path := range []string{"/api/v1/jobs/" + issue.ID, "/api/v1/certificates/" + cert.ID} {
			r := env.Do(t, "GET", path+"?wait="+bad, env.AdminKey, nil)
			if r.Status != 400 || r.ErrorCode() != "invalid" || !strings.Contains(string(r.Body), `"wait`) {
				t.Errorf("GET %s?wait=%s: %d %s", path, bad, r.Status, r.Body)
			}
		}
	}

	// Waits started before the job runs answer when it ends: long before
	// their 60 s are over (the deadline below stops the test well before).
	type answer struct {
		job  api.Job
		cert api.Certificate
	}
	jobDone, certDone := make(chan api.Job, 1), make(chan api.Certificate, 1)
	go func() {
		var j api.Job
		env.MustDo(t, "GET", "/api/v1/jobs/"+issue.ID+"?wait=60s", env.AdminKey, nil, 200).Decode(t, &j)
		jobDone <- j
	}()
	go func() {
		var c api.Certificate
		env.MustDo(t, "GET", "/api/v1/certificates/"+cert.ID+"?wait=60s", env.AdminKey, nil, 200).Decode(t, &c)
		certDone <- c
	}()
	time.Sleep(300 * time.Millisecond) // let both waits begin
	env.RunJobs(t)
	var got answer
	deadline := time.After(30 * time.Second)
	for range 2 {
		select {
		case got.job = <-jobDone:
		case got.cert = <-certDone:
		case <-deadline:
			t.Fatal("a wait did not answer once the job had ended")
		}
	}
	if got.job.State != "succeeded" || got.cert.Status != "active" || got.cert.CurrentVersionID == nil {
		t.Errorf("answers: job %s, certificate %s (version %v)", got.job.State, got.cert.Status, got.cert.CurrentVersionID)
	}

	// A job that cannot progress: the wait ends when its time is over, with
	// the current state; its certificate is settled at once (nothing it
	// waits for can happen by itself).
	var lonely api.Target
	env.MustDo(t, "POST", "/api/v1/targets", env.AdminKey, api.TargetRequest{Name: "lonely", Type: "nginx",
		Config: map[string]any{"certificate_path": "/etc/ssl/l.pem", "key_path": "/etc/ssl/l.key"}}, 201).Decode(t, &lonely)
	var bound api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "bound", CommonName: "bound.example.com",
		IssuerID: iss.ID, TargetIDs: []string{lonely.ID}}, 201).Decode(t, &bound)
	env.RunJobs(t)
	deploy := listJobs(t, env, env.AdminKey, "kind=deploy")[0]
	var j api.Job
	env.MustDo(t, "GET", "/api/v1/jobs/"+deploy.ID+"?wait=1s", env.AdminKey, nil, 200).Decode(t, &j)
	if j.State != "waiting" || j.WaitingFor != "target lonely has no agent" {
		t.Errorf("after the wait: %s, waiting for %q", j.State, j.WaitingFor)
	}
	var c api.Certificate
	env.MustDo(t, "GET", "/api/v1/certificates/"+bound.ID+"?wait=1s", env.AdminKey, nil, 200).Decode(t, &c)
	if c.Status != "active" || c.DeploymentHealth.Pending != 1 {
		t.Errorf("certificate after the wait: %s, health %+v", c.Status, c.DeploymentHealth)
	}

	// A wait ends at once when its request's context does (a client gone,
	// or the server shutting down).
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, "GET", "/api/v1/jobs/"+deploy.ID+"?wait=60s", nil)
	req.Header.Set("Authorization", "Bearer "+env.AdminKey)
	ended := make(chan int, 1)
	go func() {
		rec := httptest.NewRecorder()
		env.Handler.ServeHTTP(rec, req)
		ended <- rec.Code
	}()
	time.Sleep(300 * time.Millisecond) // let the wait begin
	cancel()
	select {
	case code := <-ended:
		if code != http.StatusOK {
			t.Errorf("cancelled wait answered %d", code)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a wait went on after its request's context ended")
	}
}

// TestWaitOutlastsTheWriteTimeout: a wait longer than the server's write
// timeout (which counts from the request's arrival) still gets its answer.
func TestWaitOutlastsTheWriteTimeout(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir})
	iss, _ := localCA(t, env, "ca")
	var lonely api.Target
	env.MustDo(t, "POST", "/api/v1/targets", env.AdminKey, api.TargetRequest{Name: "lonely", Type: "nginx",
		Config: map[string]any{"certificate_path": "/etc/ssl/l.pem", "key_path": "/etc/ssl/l.key"}}, 201).Decode(t, &lonely)
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "app", CommonName: "app.example.com",
		IssuerID: iss.ID, TargetIDs: []string{lonely.ID}}, 201)
	env.RunJobs(t)
	deploy := listJobs(t, env, env.AdminKey, "kind=deploy")[0]

	srv := httptest.NewUnstartedServer(env.Handler)
	srv.Config.WriteTimeout = time.Second
	srv.Start()
	t.Cleanup(srv.Close)
	req, err := http.NewRequest("GET", srv.URL+"/api/v1/jobs/"+deploy.ID+"?wait=3s", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+env.AdminKey)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("a 3 s wait under a 1 s write timeout: %v", err)
	}
	defer resp.Body.Close()
	var j api.Job
	if err := json.NewDecoder(resp.Body).Decode(&j); err != nil || resp.StatusCode != 200 || j.State != "waiting" {
		t.Fatalf("answer: %d, job %+v, %v", resp.StatusCode, j, err)
	}
}
