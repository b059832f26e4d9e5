package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/apitest"
)

// parkedPolls reads certctl_agent_polls_parked from /metrics.
func parkedPolls(t *testing.T, env *apitest.Env) string {
	t.Helper()
	r := env.Do(t, "GET", "/metrics", "", nil)
	for _, line := range strings.Split(string(r.Body), "\n") {
		if v, ok := strings.CutPrefix(line, "certctl_agent_polls_parked "); ok {
			return v
		}
	}
	t.Fatalf("no certctl_agent_polls_parked in /metrics")
	return ""
}

// A long poll that finds no work is parked off net/http (counted in
// certctl_agent_polls_parked while it waits), answered as an ordinary
// HTTP/1.1 response when its wait ends, and its connection goes back to
// net/http: the agent's next request on the same connection is served.
func TestParkedPollAnswersAndKeepsItsConnection(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{AgentHub: true, AgentMaxInflight: 4})
	_, cred := enroll(t, env, "parked")
	// One connection at most: the heartbeat after the poll must use the
	// poll's connection, or wait for it.
	tr := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: time.Minute}
	var conns []bool // Reused, for each request
	do := func(method, path string, body string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, env.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+cred)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req = req.WithContext(httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn: func(i httptrace.GotConnInfo) { conns = append(conns, i.Reused) }}))
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	answered := make(chan *http.Response, 1)
	go func() { answered <- do("GET", "/api/v1/agent/work?wait=3s", "") }()
	for deadline := time.Now().Add(20 * time.Second); parkedPolls(t, env) != "1"; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the poll is not parked")
		}
	}
	resp := <-answered
	var work api.AgentWork
	if err := json.NewDecoder(resp.Body).Decode(&work); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || work.Items == nil || len(work.Items) != 0 || resp.Header.Get("Cache-Control") != "no-store" ||
		resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("X-Request-ID") == "" || resp.Close {
		t.Fatalf("parked poll answered %d %+v, headers %v, close %v", resp.StatusCode, work, resp.Header, resp.Close)
	}
	if v := parkedPolls(t, env); v != "0" {
		t.Errorf("after the answer, %s polls parked", v)
	}

	resp = do("POST", "/api/v1/agent/heartbeat", `{"os":"linux","hostname":"parked"}`)
	var hb api.AgentHeartbeatResponse
	if err := json.NewDecoder(resp.Body).Decode(&hb); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || hb.Agent.Hostname != "parked" {
		t.Fatalf("heartbeat after the parked poll: %d %+v", resp.StatusCode, hb)
	}
	if len(conns) != 2 || conns[0] || !conns[1] {
		t.Fatalf("connections reused, by request: %v; want the heartbeat on the poll's connection", conns)
	}
}

// Nothing reads a parked poll's connection: when its agent has gone
// (killed, restarted) and work comes, the poll must not take a deployment
// for it, which would then wait out its lease; the agent's next poll gets
// it.
func TestParkedPollOfAGoneAgentTakesNoWork(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir, AgentHub: true})
	a, cred := enroll(t, env, "gone")
	var iss api.Issuer
	env.MustDo(t, "POST", "/api/v1/issuers", env.AdminKey, api.IssuerRequest{Name: "ca", Type: "local",
		Config: map[string]any{"ca_key_type": "ecdsa-p256"}}, 201).Decode(t, &iss)
	var tgt api.Target
	env.MustDo(t, "POST", "/api/v1/targets", env.AdminKey, api.TargetRequest{Name: "web", Type: "nginx", AgentID: &a.ID,
		Config: map[string]any{"certificate_path": "/etc/ssl/gone.pem"}}, 201).Decode(t, &tgt)
	var cert api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "app", CommonName: "app.example.com",
		IssuerID: iss.ID, TargetIDs: []string{tgt.ID}}, 201).Decode(t, &cert)
	var w api.AgentWork
	env.MustDo(t, "GET", "/api/v1/agent/work", cred, nil, 200).Decode(t, &w)
	if len(w.Items) != 1 || w.Items[0].Kind != api.AgentWorkCSR {
		t.Fatalf("work = %+v", w)
	}
	env.MustDo(t, "POST", "/api/v1/agent/jobs/"+w.Items[0].JobID+"/csr", cred, api.CSRRequest{CSRPEM: csrFor(t, "app.example.com")}, 200)

	// The agent's poll parks, then the agent goes away.
	conn, err := net.Dial("tcp", strings.TrimPrefix(env.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(conn, "GET /api/v1/agent/work?wait=50s HTTP/1.1\r\nHost: certctl\r\nAuthorization: Bearer %s\r\n\r\n", cred); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); parkedPolls(t, env) != "1"; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the poll is not parked")
		}
	}
	conn.Close()

	// The certificate is issued: its deployment is work for the agent,
	// announced, and it wakes the parked poll, which must leave it.
	env.RunJobs(t)
	for deadline := time.Now().Add(20 * time.Second); parkedPolls(t, env) != "0"; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the gone agent's poll was not woken")
		}
	}
	env.MustDo(t, "GET", "/api/v1/agent/work?wait=20s", cred, nil, 200).Decode(t, &w)
	if len(w.Items) != 1 || w.Items[0].Kind != api.AgentWorkDeploy {
		t.Fatalf("the agent's next poll got %+v; want its deployment", w)
	}
}
