package httpapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
)

// enroll creates a token and enrolls an agent with it; it returns the
// agent and its credential.
func enroll(t *testing.T, env *apitest.Env, name string) (api.Agent, string) {
	t.Helper()
	var tok api.EnrollmentToken
	env.MustDo(t, "POST", "/api/v1/enrollment-tokens", env.AdminKey, api.EnrollmentTokenRequest{AgentName: name,
		Labels: map[string]string{"zone": "eu"}}, 201).Decode(t, &tok)
	var res api.AgentEnrollResponse
	env.MustDo(t, "POST", "/api/v1/agent/enroll", "", api.AgentEnrollRequest{Token: tok.Token,
		Facts: api.AgentFacts{OS: "linux", Arch: "amd64", Hostname: name + ".example.net", IPAddress: "10.0.0.7", AgentVersion: "0.1.0"}},
		201).Decode(t, &res)
	if !strings.HasPrefix(res.Credential, "cca_") || res.Agent.Name != name || res.Agent.Labels["zone"] != "eu" {
		t.Fatalf("enrollment = %+v", res)
	}
	return res.Agent, res.Credential
}

func TestAgentEnrollmentAndIdentity(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{})
	var tok api.EnrollmentToken
	env.MustDo(t, "POST", "/api/v1/enrollment-tokens", env.AdminKey, api.EnrollmentTokenRequest{TTL: "1h"}, 201).Decode(t, &tok)
	req := api.AgentEnrollRequest{Token: tok.Token, Facts: api.AgentFacts{OS: "linux", Arch: "arm64", Hostname: "web-07"}}
	var res api.AgentEnrollResponse
	env.MustDo(t, "POST", "/api/v1/agent/enroll", "", req, 201).Decode(t, &res)
	if res.Agent.Name != "web-07" || res.Agent.Status != "pending" {
		t.Fatalf("agent = %+v", res.Agent)
	}
	// Single use.
	if r := env.Do(t, "POST", "/api/v1/agent/enroll", "", req); r.Status != 401 || !strings.Contains(string(r.Body), "already used") {
		t.Errorf("reused token: %d %s", r.Status, r.Body)
	}
	// Revoked and unknown tokens.
	var tok2 api.EnrollmentToken
	env.MustDo(t, "POST", "/api/v1/enrollment-tokens", env.AdminKey, api.EnrollmentTokenRequest{}, 201).Decode(t, &tok2)
	env.MustDo(t, "DELETE", "/api/v1/enrollment-tokens/"+tok2.ID, env.AdminKey, nil, 200)
	if r := env.Do(t, "POST", "/api/v1/agent/enroll", "", api.AgentEnrollRequest{Token: tok2.Token, Name: "x"}); r.Status != 401 {
		t.Errorf("revoked token: %d", r.Status)
	}
	// The server keeps only a hash of the credential.
	var n int
	if err := env.Pool.QueryRow(context.Background(), `SELECT count(*) FROM agent_credentials
		WHERE encode(token_hash, 'escape') LIKE '%' || $1 || '%'`, res.Credential).Scan(&n); err != nil || n != 0 {
		t.Errorf("credential stored in clear (%d, %v)", n, err)
	}

	// The credential works on agent routes only; API keys do not work there.
	var hb api.AgentHeartbeatResponse
	env.MustDo(t, "POST", "/api/v1/agent/heartbeat", res.Credential, api.AgentFacts{OS: "linux", Arch: "arm64",
		Hostname: "web-07", IPAddress: "192.0.2.9", AgentVersion: "0.2.0", UptimeSeconds: 42,
		Plugins: []api.AgentPlugin{{Name: "nginx", Kind: "target", Version: "1.0.0"}}}, 200).Decode(t, &hb)
	if hb.Agent.Status != "online" || hb.Agent.IPAddress == nil || *hb.Agent.IPAddress != "192.0.2.9" || hb.HeartbeatIntervalSeconds != 30 ||
		len(hb.Agent.Plugins) != 1 || hb.Agent.LastHeartbeatAt == nil {
		t.Fatalf("heartbeat answer = %+v", hb)
	}
	env.MustDo(t, "POST", "/api/v1/agent/heartbeat", env.AdminKey, api.AgentFacts{}, 401)
	env.MustDo(t, "GET", "/api/v1/issuers", res.Credential, nil, 401)
	var listed api.List[api.Agent]
	env.MustDo(t, "GET", "/api/v1/agents?status=online", env.AdminKey, nil, 200).Decode(t, &listed)
	if len(listed.Items) != 1 || listed.Items[0].AgentVersion != "0.2.0" {
		t.Errorf("agents list = %+v", listed.Items)
	}

	// Rotation: the old credential stops working, the new one works.
	var rot api.AgentCredentialResponse
	env.MustDo(t, "POST", "/api/v1/agent/credential", res.Credential, nil, 200).Decode(t, &rot)
	env.MustDo(t, "POST", "/api/v1/agent/heartbeat", res.Credential, api.AgentFacts{}, 401)
	env.MustDo(t, "POST", "/api/v1/agent/heartbeat", rot.Credential, api.AgentFacts{OS: "linux"}, 200)

	// A retired agent is refused and told so.
	env.MustDo(t, "POST", "/api/v1/agents/"+res.Agent.ID+"/retire", env.AdminKey, nil, 200)
	r := env.Do(t, "POST", "/api/v1/agent/heartbeat", rot.Credential, api.AgentFacts{})
	if r.Status != 401 && (r.Status != 403 || !strings.Contains(string(r.Body), "retired")) {
		t.Errorf("retired agent: %d %s", r.Status, r.Body)
	}
}

func csrFor(t *testing.T, names ...string) string {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: names[0]},
		DNSNames: names}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func TestAgentWorkIsItsOwn(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir, AgentHub: true})
	a, credA := enroll(t, env, "host-a")
	_, credB := enroll(t, env, "host-b")
	var iss api.Issuer
	env.MustDo(t, "POST", "/api/v1/issuers", env.AdminKey, api.IssuerRequest{Name: "ca", Type: "local",
		Config: map[string]any{"ca_key_type": "ecdsa-p256"}}, 201).Decode(t, &iss)
	var tgt api.Target
	env.MustDo(t, "POST", "/api/v1/targets", env.AdminKey, api.TargetRequest{Name: "web", Type: "nginx", AgentID: &a.ID,
		Config: map[string]any{"certificate_path": "/etc/ssl/a.pem"}}, 201).Decode(t, &tgt)

	// A long poll started before the work exists returns as soon as it does.
	type polled struct {
		work api.AgentWork
		took time.Duration
	}
	got := make(chan polled, 1)
	go func() {
		start := time.Now()
		var w api.AgentWork
		env.MustDo(t, "GET", "/api/v1/agent/work?wait=20s", credA, nil, 200).Decode(t, &w)
		got <- polled{w, time.Since(start)}
	}()
	time.Sleep(300 * time.Millisecond)
	var cert api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "app", CommonName: "app.example.com",
		IssuerID: iss.ID, TargetIDs: []string{tgt.ID}}, 201).Decode(t, &cert)
	if cert.KeyMode != "agent" {
		t.Fatalf("key mode %s", cert.KeyMode)
	}
	p := <-got
	if len(p.work.Items) != 1 || p.work.Items[0].Kind != api.AgentWorkCSR || p.work.Items[0].Certificate.CommonName != "app.example.com" {
		t.Fatalf("work = %+v", p.work)
	}
	if p.took > 4*time.Second {
		t.Errorf("the long poll answered %s after the work appeared; want at once", p.took)
	}
	job := p.work.Items[0].JobID

	// Agent B sees none of it and cannot act on it.
	var wb api.AgentWork
	env.MustDo(t, "GET", "/api/v1/agent/work", credB, nil, 200).Decode(t, &wb)
	if len(wb.Items) != 0 {
		t.Fatalf("agent B sees %d items of agent A", len(wb.Items))
	}
	env.MustDo(t, "POST", "/api/v1/agent/jobs/"+job+"/csr", credB, api.CSRRequest{CSRPEM: csrFor(t, "app.example.com")}, 404)
	// A CSR for other names is refused.
	env.MustDo(t, "POST", "/api/v1/agent/jobs/"+job+"/csr", credA, api.CSRRequest{CSRPEM: csrFor(t, "evil.example.com")}, 400)
	env.MustDo(t, "POST", "/api/v1/agent/jobs/"+job+"/csr", credA, api.CSRRequest{CSRPEM: csrFor(t, "app.example.com")}, 200)
	env.RunJobs(t)

	// Now there is a version to deploy, for agent A only.
	var wa api.AgentWork
	env.MustDo(t, "GET", "/api/v1/agent/work", credA, nil, 200).Decode(t, &wa)
	if len(wa.Items) != 1 || wa.Items[0].Kind != api.AgentWorkDeploy || wa.Items[0].Version == nil ||
		wa.Items[0].Target.Config["certificate_path"] != "/etc/ssl/a.pem" {
		t.Fatalf("deploy work = %+v", wa)
	}
	deploy := wa.Items[0].JobID
	env.MustDo(t, "GET", "/api/v1/agent/work", credB, nil, 200).Decode(t, &wb)
	if len(wb.Items) != 0 {
		t.Fatal("agent B sees agent A's deployment")
	}
	env.MustDo(t, "POST", "/api/v1/agent/jobs/"+deploy+"/result", credB, api.AgentDeployResult{Succeeded: true}, 404)
	env.MustDo(t, "POST", "/api/v1/agent/jobs/"+deploy+"/result", credA, api.AgentDeployResult{Succeeded: true,
		Message: "deployed", Verified: true, ServedSerial: wa.Items[0].Version.SerialNumber}, 204)
	var deps api.List[api.Deployment]
	env.MustDo(t, "GET", "/api/v1/certificates/"+cert.ID+"/deployments", env.AdminKey, nil, 200).Decode(t, &deps)
	if len(deps.Items) != 1 || deps.Items[0].Status != "succeeded" || deps.Items[0].VerifiedAt == nil {
		t.Fatalf("deployments = %+v", deps.Items)
	}
	// Reported once; a second report is refused.
	env.MustDo(t, "POST", "/api/v1/agent/jobs/"+deploy+"/result", credA, api.AgentDeployResult{Succeeded: true}, 409)
}

func TestSilentAgentsGoOffline(t *testing.T) {
	t.Parallel()
	clock := &testClock{now: time.Now().UTC()}
	env := apitest.Start(t, apitest.Options{Clock: clock.Now})
	a, cred := enroll(t, env, "quiet")
	env.MustDo(t, "POST", "/api/v1/agent/heartbeat", cred, api.AgentFacts{OS: "linux"}, 200)
	ctx := core.WithActor(context.Background(), core.SystemActor)
	clock.Add(time.Minute)
	if err := env.Service.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	var got api.Agent
	env.MustDo(t, "GET", "/api/v1/agents/"+a.ID, env.AdminKey, nil, 200).Decode(t, &got)
	if got.Status != "online" {
		t.Fatalf("after a minute: %s", got.Status)
	}
	clock.Add(2 * time.Minute)
	if err := env.Service.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	env.MustDo(t, "GET", "/api/v1/agents/"+a.ID, env.AdminKey, nil, 200).Decode(t, &got)
	if got.Status != "offline" {
		t.Fatalf("after three minutes of silence: %s", got.Status)
	}
	var notes api.List[api.Notification]
	env.MustDo(t, "GET", "/api/v1/notifications?event=agent.offline", env.AdminKey, nil, 200).Decode(t, &notes)
	if len(notes.Items) != 1 {
		t.Errorf("%d agent.offline notifications, want 1", len(notes.Items))
	}
	// A heartbeat brings it back.
	env.MustDo(t, "POST", "/api/v1/agent/heartbeat", cred, api.AgentFacts{OS: "linux"}, 200)
	env.MustDo(t, "GET", "/api/v1/agents/"+a.ID, env.AdminKey, nil, 200).Decode(t, &got)
	if got.Status != "online" {
		t.Errorf("after a heartbeat: %s", got.Status)
	}
}

func TestExpiredEnrollmentTokenIsRefused(t *testing.T) {
	t.Parallel()
	clock := &testClock{now: time.Now().UTC()}
	env := apitest.Start(t, apitest.Options{Clock: clock.Now})
	var tok api.EnrollmentToken
	env.MustDo(t, "POST", "/api/v1/enrollment-tokens", env.AdminKey, api.EnrollmentTokenRequest{TTL: "10m"}, 201).Decode(t, &tok)
	clock.Add(11 * time.Minute)
	r := env.Do(t, "POST", "/api/v1/agent/enroll", "", api.AgentEnrollRequest{Token: tok.Token, Name: "late"})
	if r.Status != 401 || !strings.Contains(string(r.Body), "expired") {
		t.Fatalf("expired token: %d %s", r.Status, r.Body)
	}
	if n := env.Count(t, "agents"); n != 0 {
		t.Errorf("%d agents after a refused enrollment", n)
	}
}
