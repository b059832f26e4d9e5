package httpapi_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/apitest"
)

// answerCSRs plays the agent of cred for agent key mode issuances: it
// takes its work, which must be want CSRs, and sends a CSR for each.
func answerCSRs(t *testing.T, env *apitest.Env, cred string, want int) {
	t.Helper()
	var work api.AgentWork
	env.MustDo(t, "GET", "/api/v1/agent/work", cred, nil, 200).Decode(t, &work)
	if len(work.Items) != want {
		t.Fatalf("agent work: %d items, want %d CSRs: %+v", len(work.Items), want, work.Items)
	}
	for _, it := range work.Items {
		if it.Kind != api.AgentWorkCSR {
			t.Fatalf("agent work item %s is %s, want csr", it.JobID, it.Kind)
		}
		names := []string{it.Certificate.CommonName}
		for _, san := range it.Certificate.SANs {
			if !slices.Contains(names, san) {
				names = append(names, san)
			}
		}
		env.MustDo(t, "POST", "/api/v1/agent/jobs/"+it.JobID+"/csr", cred, api.CSRRequest{CSRPEM: csrFor(t, names...)}, 200)
	}
}

// wantKeyModeRefused checks that a certificate declaration is refused on
// key_mode with a message that says all of want.
func wantKeyModeRefused(t *testing.T, env *apitest.Env, method, path string, body api.CertificateRequest, want ...string) {
	t.Helper()
	r := env.Do(t, method, path, env.AdminKey, body)
	var e api.ErrorResponse
	_ = json.Unmarshal(r.Body, &e)
	if r.Status != 400 || e.Error.Code != api.CodeInvalid || e.Error.Field != "key_mode" {
		t.Errorf("%s %s (key_mode %q): %d %s; want 400 on key_mode", method, path, body.KeyMode, r.Status, r.Body)
		return
	}
	for _, w := range want {
		if !strings.Contains(e.Error.Message, w) {
			t.Errorf("%s %s (key_mode %q): message %q does not say %q", method, path, body.KeyMode, e.Error.Message, w)
		}
	}
	if strings.Contains(e.Error.Message, `use key_mode "server"`) {
		t.Errorf("%s %s: message %q suggests server key mode", method, path, e.Error.Message)
	}
}

// TestServerKeyModeNeverReachesAgents: a key the server keeps never goes
// to an agent. Declaring server key mode for targets on an agent is
// refused; a server key mode certificate whose target gets an agent later
// has its deployment failed by the server, saying what to change, and
// after that change (a PUT that lets the key mode default to agent) the
// agent makes the key and deploys.
func TestServerKeyModeNeverReachesAgents(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir, AgentHub: true})
	web1, cred1 := enroll(t, env, "web-1")
	web2, _ := enroll(t, env, "web-2")
	env.MustDo(t, "POST", "/api/v1/agent/heartbeat", cred1, api.AgentFacts{OS: "linux"}, 200)
	iss, _ := localCA(t, env, "ca")
	target := func(name string, agent *string) api.Target {
		var tgt api.Target
		env.MustDo(t, "POST", "/api/v1/targets", env.AdminKey, api.TargetRequest{Name: name, Type: "nginx", AgentID: agent,
			Config: map[string]any{"certificate_path": "/etc/ssl/" + name + ".pem", "key_path": "/etc/ssl/" + name + ".key"}},
			201).Decode(t, &tgt)
		return tgt
	}
	onWeb1, onWeb2, lonely := target("on-web-1", &web1.ID), target("on-web-2", &web2.ID), target("lonely", nil)
	decl := func(keyMode string, targets ...api.Target) api.CertificateRequest {
		r := api.CertificateRequest{Name: "app", CommonName: "app.example.com", IssuerID: iss.ID, KeyMode: keyMode, TargetIDs: []string{}}
		for _, tgt := range targets {
			r.TargetIDs = append(r.TargetIDs, tgt.ID)
		}
		return r
	}

	// Server key mode for targets on an agent: refused, saying why and what to do.
	serverWhy := []string{`"server" keeps the private key on the server and keys never go to agents`, `use key_mode "agent"`,
		"every target bound to one and the same agent"}
	wantKeyModeRefused(t, env, "POST", "/api/v1/certificates", decl("server", onWeb1), append(serverWhy, "(on-web-1)")...)
	wantKeyModeRefused(t, env, "POST", "/api/v1/certificates", decl("server", lonely, onWeb1, onWeb2),
		append(serverWhy, "(on-web-1, on-web-2)")...)
	// Agent key mode (chosen or by default) needs one agent for all targets,
	// and no longer points to server key mode.
	agentWhy := []string{`"agent" needs every target bound to one and the same agent`,
		"bind them to one agent, or declare one certificate per agent"}
	wantKeyModeRefused(t, env, "POST", "/api/v1/certificates", decl("agent", onWeb1, onWeb2), agentWhy...)
	wantKeyModeRefused(t, env, "POST", "/api/v1/certificates", decl("", onWeb1, onWeb2), agentWhy...)
	wantKeyModeRefused(t, env, "POST", "/api/v1/certificates", decl("agent", onWeb1, lonely), agentWhy...)
	wantKeyModeRefused(t, env, "POST", "/api/v1/certificates", decl("agent", lonely), agentWhy...)
	if n := env.Count(t, "managed_certificates"); n != 0 {
		t.Fatalf("%d certificates after refused declarations", n)
	}
	// Without targets on an agent, server key mode is the default; a PUT
	// that keeps it while adding a target on an agent is refused.
	var app api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, decl("", lonely), 201).Decode(t, &app)
	if app.KeyMode != "server" {
		t.Fatalf("key mode with a target without agent = %q, want server", app.KeyMode)
	}
	wantKeyModeRefused(t, env, "PUT", "/api/v1/certificates/"+app.ID, decl("server", lonely, onWeb1), append(serverWhy, "(on-web-1)")...)
	env.MustDo(t, "DELETE", "/api/v1/certificates/"+app.ID, env.AdminKey, nil, 204)

	// A server key mode certificate whose target gets an agent afterwards.
	late := target("web-1-nginx", nil)
	var shop api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "shop-example-com",
		CommonName: "shop.example.com", IssuerID: iss.ID, TargetIDs: []string{late.ID}}, 201).Decode(t, &shop)
	if shop.KeyMode != "server" {
		t.Fatalf("key mode = %q, want server", shop.KeyMode)
	}
	env.RunJobs(t)
	deploys := listJobs(t, env, env.AdminKey, "kind=deploy&certificate_id="+shop.ID)
	if len(deploys) != 1 || deploys[0].State != "waiting" {
		t.Fatalf("deploy jobs = %+v; want one waiting", deploys)
	}
	deploy := deploys[0].ID
	env.MustDo(t, "PUT", "/api/v1/targets/"+late.ID, env.AdminKey, api.TargetRequest{Name: late.Name, Type: "nginx", AgentID: &web1.ID,
		Config: late.Config}, 200)
	if j := getJob(t, env, deploy); j.AgentID == nil || *j.AgentID != web1.ID {
		t.Fatalf("deploy job after its target got an agent: agent %v", j.AgentID)
	}

	// The agent is not handed the deployment: the server fails it.
	var work api.AgentWork
	env.MustDo(t, "GET", "/api/v1/agent/work", cred1, nil, 200).Decode(t, &work)
	if len(work.Items) != 0 {
		t.Fatalf("agent work = %+v; want nothing (the key stays on the server)", work.Items)
	}
	wantMsg := `certificate "shop-example-com" keeps its key on the server (key_mode "server") and keys never go to agents: ` +
		`change it to key_mode "agent" (a PUT without key_mode picks it) so that agent web-1 makes the key`
	if j := getJob(t, env, deploy); j.State != "failed" || j.LastError != wantMsg {
		t.Errorf("deploy job: %s, last_error %q; want failed with %q", j.State, j.LastError, wantMsg)
	}
	c := getCertificate(t, env, shop.ID)
	wantErr := "deploy to target web-1-nginx: " + wantMsg
	if h := c.DeploymentHealth; h.Failed != 1 || h.Total != 1 || h.LastError != wantErr || c.LastError != wantErr {
		t.Errorf("certificate: health %+v, last_error %q; want 1 failed with %q", h, c.LastError, wantErr)
	}
	var deps api.List[api.Deployment]
	env.MustDo(t, "GET", "/api/v1/certificates/"+shop.ID+"/deployments", env.AdminKey, nil, 200).Decode(t, &deps)
	if len(deps.Items) != 1 || deps.Items[0].Status != "failed" || deps.Items[0].Message != wantMsg {
		t.Errorf("deployments = %+v", deps.Items)
	}
	// Recorded as an agent's failed report is: audit event and notification.
	var audit api.List[api.AuditEvent]
	env.MustDo(t, "GET", "/api/v1/audit-events?action=deployment.failed", env.AdminKey, nil, 200).Decode(t, &audit)
	if len(audit.Items) != 1 || audit.Items[0].Outcome != "failure" || audit.Items[0].Details["message"] != wantMsg ||
		audit.Items[0].Details["job_id"] != deploy {
		t.Errorf("deployment.failed audit events = %+v", audit.Items)
	}
	var notes api.List[api.Notification]
	env.MustDo(t, "GET", "/api/v1/notifications?event=deployment.failed", env.AdminKey, nil, 200).Decode(t, &notes)
	if len(notes.Items) != 1 || notes.Items[0].CertificateID == nil || *notes.Items[0].CertificateID != shop.ID {
		t.Errorf("deployment.failed notifications = %+v", notes.Items)
	}

	// The fix the message names: a PUT without key_mode picks agent, the
	// agent makes the key and sends its CSR, and the new version deploys.
	var fixed api.Certificate
	env.MustDo(t, "PUT", "/api/v1/certificates/"+shop.ID, env.AdminKey, api.CertificateRequest{Name: "shop-example-com",
		CommonName: "shop.example.com", IssuerID: iss.ID, TargetIDs: []string{late.ID}}, 200).Decode(t, &fixed)
	if fixed.KeyMode != "agent" {
		t.Fatalf("key mode after the PUT = %q, want agent", fixed.KeyMode)
	}
	answerCSRs(t, env, cred1, 1)
	env.RunJobs(t)
	env.MustDo(t, "GET", "/api/v1/agent/work", cred1, nil, 200).Decode(t, &work)
	if len(work.Items) != 1 || work.Items[0].Kind != api.AgentWorkDeploy || work.Items[0].Certificate.ID != shop.ID {
		t.Fatalf("agent work after the switch = %+v; want the deployment", work.Items)
	}
	env.MustDo(t, "POST", "/api/v1/agent/jobs/"+work.Items[0].JobID+"/result", cred1, api.AgentDeployResult{Succeeded: true,
		Verified: true, ServedSerial: work.Items[0].Version.SerialNumber}, 204)
	c = getCertificate(t, env, shop.ID)
	if h := c.DeploymentHealth; h.Succeeded != 1 || h.Failed != 0 || c.LastError != "" {
		t.Errorf("after the switch: health %+v, last_error %q; want deployed", h, c.LastError)
	}

	// Targets on several agents or none: the message says to bind them to
	// the one agent, or to split the certificate.
	a, b := target("a", nil), target("b", nil)
	var split api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "split", CommonName: "split.example.com",
		IssuerID: iss.ID, TargetIDs: []string{a.ID, b.ID}}, 201).Decode(t, &split)
	env.RunJobs(t)
	env.MustDo(t, "PUT", "/api/v1/targets/"+a.ID, env.AdminKey, api.TargetRequest{Name: "a", Type: "nginx", AgentID: &web1.ID,
		Config: a.Config}, 200)
	env.MustDo(t, "GET", "/api/v1/agent/work", cred1, nil, 200).Decode(t, &work)
	if len(work.Items) != 0 {
		t.Fatalf("agent work = %+v; want nothing", work.Items)
	}
	wantSplit := `certificate "split" keeps its key on the server (key_mode "server") and keys never go to agents: ` +
		`bind all its targets to agent web-1 and change it to key_mode "agent" (a PUT without key_mode picks it), ` +
		`or declare one certificate per agent`
	if c := getCertificate(t, env, split.ID); c.DeploymentHealth.Failed != 1 || c.LastError != "deploy to target a: "+wantSplit {
		t.Errorf("split certificate: health %+v, last_error %q", c.DeploymentHealth, c.LastError)
	}
}
