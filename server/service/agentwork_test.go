package service_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/keys"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

// fleetWorld is an API whose long polls are woken by the database's
// notifications (one listener, as a server runs it), with a local CA, a
// test clock, and a record of the polls that went to wait.
type fleetWorld struct {
	env   *apitest.Env
	clock *clock
	ctx   context.Context
	ca    core.Issuer
	waits chan uuid.UUID // the agent of each poll that starts to wait
}

func newFleetWorld(t *testing.T) *fleetWorld {
	t.Helper()
	c := &clock{now: time.Now().UTC().Truncate(time.Second)}
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir, Clock: c.Now, AgentHub: true})
	w := &fleetWorld{env: env, clock: c, ctx: core.WithActor(context.Background(), core.SystemActor),
		waits: make(chan uuid.UUID, 1000)}
	service.SetAgentWorkWaiting(env.Service, func(agent uuid.UUID) { w.waits <- agent })
	iss, err := env.Service.CreateIssuer(w.ctx, service.IssuerInput{Name: "ca", Type: "local",
		Config: map[string]any{"ca_key_type": "ecdsa-p256"}})
	if err != nil {
		t.Fatal(err)
	}
	w.ca = iss
	// The hub wakes every poll when it starts listening: let it start
	// before any poll, so that each wake-up a test sees is for work.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var n int
		if err := env.Pool.QueryRow(w.ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query = 'LISTEN agent_work'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the agent hub does not listen")
		}
	}
	return w
}

// pollResult is what a long poll answered.
type pollResult struct {
	status int
	work   api.AgentWork
	err    error
}

// poll starts a long poll of the agent with cred, waiting up to wait.
func (w *fleetWorld) poll(cred string, wait time.Duration) <-chan pollResult {
	out := make(chan pollResult, 1)
	go func() {
		var res pollResult
		defer func() { out <- res }()
		req, err := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/agent/work?wait=%s", w.env.URL, wait), nil)
		if err != nil {
			res.err = err
			return
		}
		req.Header.Set("Authorization", "Bearer "+cred)
		resp, err := w.env.Client.Do(req)
		if err != nil {
			res.err = err
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			res.err = err
			return
		}
		res.status = resp.StatusCode
		if res.status == 200 {
			res.err = json.Unmarshal(body, &res.work)
		} else {
			res.err = fmt.Errorf("status %d: %s", res.status, body)
		}
	}()
	return out
}

// waitingPoll waits until a poll of agent has looked at the database and
// waits: what it is to find next can only come through a wake-up.
func (w *fleetWorld) waitingPoll(t *testing.T, agent string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case id := <-w.waits:
			if id.String() == agent {
				return
			}
		case <-timeout:
			t.Fatalf("no poll of agent %s waits", agent)
		}
	}
}

// countWaits returns how many polls of agent went to wait since the last call.
func (w *fleetWorld) countWaits(agent string) int {
	n := 0
	for {
		select {
		case id := <-w.waits:
			if id.String() == agent {
				n++
			}
		default:
			return n
		}
	}
}

// agentCertificate declares an agent-key certificate on a new target of
// agentID: work for that agent (its CSR) appears.
func (w *fleetWorld) agentCertificate(t *testing.T, name, agentID string) api.Certificate {
	t.Helper()
	var tgt api.Target
	w.env.MustDo(t, "POST", "/api/v1/targets", w.env.AdminKey, api.TargetRequest{Name: name + "-web", Type: "nginx", AgentID: &agentID,
		Config: map[string]any{"certificate_path": "/etc/ssl/" + name + ".pem"}}, 201).Decode(t, &tgt)
	var cert api.Certificate
	w.env.MustDo(t, "POST", "/api/v1/certificates", w.env.AdminKey, api.CertificateRequest{Name: name, CommonName: name + ".example.com",
		IssuerID: w.ca.ID.String(), TargetIDs: []string{tgt.ID}}, 201).Decode(t, &cert)
	return cert
}

// answered waits for a poll's answer: far longer than a wake-up takes,
// far shorter than the poll's own wait, so that an answer with work
// proves the poll was woken and did not merely time out.
func answered(t *testing.T, p <-chan pollResult) api.AgentWork {
	t.Helper()
	select {
	case r := <-p:
		if r.err != nil {
			t.Fatalf("poll: %v", r.err)
		}
		return r.work
	case <-time.After(20 * time.Second):
		t.Fatal("the poll was not woken")
		return api.AgentWork{}
	}
}

// A waiting long poll is woken by the notification of work for its agent,
// and by no other agent's.
func TestAgentWorkWokenByNotification(t *testing.T) {
	t.Parallel()
	w := newFleetWorld(t)
	a, credA := enrollAgent(t, w.env, "alpha")
	b, credB := enrollAgent(t, w.env, "beta")

	// Both wait 30 s and re-check on their own only after a minute.
	pollA := w.poll(credA, 30*time.Second)
	w.waitingPoll(t, a)
	pollB := w.poll(credB, 30*time.Second)
	w.waitingPoll(t, b)

	certB := w.agentCertificate(t, "bee", b)
	work := answered(t, pollB)
	if len(work.Items) != 1 || work.Items[0].Kind != api.AgentWorkCSR || work.Items[0].Certificate.ID != certB.ID {
		t.Fatalf("beta's work: %+v", work.Items)
	}
	select {
	case r := <-pollA:
		t.Fatalf("alpha's poll answered when beta got work: %+v", r)
	default:
	}

	certA := w.agentCertificate(t, "ant", a)
	work = answered(t, pollA)
	if len(work.Items) != 1 || work.Items[0].Kind != api.AgentWorkCSR || work.Items[0].Certificate.ID != certA.ID {
		t.Fatalf("alpha's work: %+v", work.Items)
	}
	// alpha's poll looked at the database once, before it waited: beta's
	// notification did not wake it to look again.
	if n := w.countWaits(a); n != 0 {
		t.Errorf("alpha's poll went back to wait %d more times: woken by another agent's work", n)
	}
}

// The hub wakes a poll for its own agent only: notifications reach it
// through one listener, in order, so once a later one has arrived an
// earlier one has been handed out.
func TestAgentWorkHubWakesOnlyItsAgent(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{})
	hub := service.NewAgentHub()

	// Subscribed before the hub runs, so that its wake on starting to
	// listen is sure to find all three.
	a, b, last := uuid.New(), uuid.New(), uuid.New()
	chA, stopA := hub.Subscribe(a)
	defer stopA()
	chB, stopB := hub.Subscribe(b)
	defer stopB()
	chLast, stopLast := hub.Subscribe(last)
	defer stopLast()

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { env.Service.RunAgentHub(ctx, hub); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	// The listener wakes every poll once when it starts listening.
	select {
	case <-chLast:
	case <-time.After(20 * time.Second):
		t.Fatal("the hub did not wake its polls when it started listening")
	}
	<-chA
	<-chB

	for _, id := range []uuid.UUID{b, last} {
		if _, err := env.Pool.Exec(context.Background(), `SELECT pg_notify('agent_work', $1)`, id.String()); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-chLast:
	case <-time.After(20 * time.Second):
		t.Fatal("no notification reached the hub")
	}
	select {
	case <-chB:
	default:
		t.Error("b's notification did not wake b")
	}
	select {
	case <-chA:
		t.Error("b's notification woke a")
	default:
	}
}

// A deployment to be retried later is handed out at its run_at: a poll
// waiting then looks again when it comes due (no notification announces
// that), long before its own re-check.
func TestAgentWorkWaitsForTheNextRetry(t *testing.T) {
	t.Parallel()
	w := newFleetWorld(t)
	a, cred := enrollAgent(t, w.env, "gamma")
	cert := w.agentCertificate(t, "gnu", a)
	csr := agentWork(t, w.env, cred)[api.AgentWorkCSR]
	key, err := keys.Generate("ecdsa-p256")
	if err != nil {
		t.Fatal(err)
	}
	der, err := keys.CSR("gnu.example.com", nil, key)
	if err != nil {
		t.Fatal(err)
	}
	w.env.MustDo(t, "POST", "/api/v1/agent/jobs/"+csr.JobID+"/csr", cred,
		api.CSRRequest{CSRPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))}, 200)
	w.env.RunJobs(t)
	deploy, ok := agentWork(t, w.env, cred)[api.AgentWorkDeploy]
	if !ok {
		t.Fatalf("no deploy work for %s", cert.Name)
	}
	// The agent took it (running); now it is to be retried two seconds
	// from now by the server's clock, as a retry scheduled for later is,
	// but without the notification that announced that, so that only the
	// poll's timer can find it.
	due := w.clock.Now().Add(2 * time.Second)
	tx, err := w.env.Pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // after the commit, nothing to undo
	if _, err := tx.Exec(context.Background(), `SET LOCAL session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	tag, err := tx.Exec(context.Background(), `UPDATE jobs SET state = 'retrying', run_at = $2, lease_owner = NULL,
		lease_expires_at = NULL WHERE id = $1 AND state = 'running'`, deploy.JobID, due)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("the deploy job was not running: %v", err)
	}
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.countWaits(a)

	p := w.poll(cred, 30*time.Second)
	w.waitingPoll(t, a) // not due yet: it waits
	w.clock.Add(3 * time.Second)
	work := answered(t, p)
	if len(work.Items) != 1 || work.Items[0].Kind != api.AgentWorkDeploy || work.Items[0].JobID != deploy.JobID {
		t.Fatalf("work when the retry came due: %+v", work.Items)
	}
}

// A deployment handed out in an answer the agent never got (its server
// died after the commit, the connection broke) is handed out again to the
// agent's next poll that asks for it (resend=true, as certctl-agent
// polls), with its lease renewed and the same attempt; a poll that does
// not ask (an older agent) does not get it until the lease runs out.
func TestAgentWorkResendsALostDeployment(t *testing.T) {
	t.Parallel()
	w := newFleetWorld(t)
	a, cred := enrollAgent(t, w.env, "delta")
	cert := w.agentCertificate(t, "dog", a)
	csr := agentWork(t, w.env, cred)[api.AgentWorkCSR]
	key, err := keys.Generate("ecdsa-p256")
	if err != nil {
		t.Fatal(err)
	}
	der, err := keys.CSR("dog.example.com", nil, key)
	if err != nil {
		t.Fatal(err)
	}
	w.env.MustDo(t, "POST", "/api/v1/agent/jobs/"+csr.JobID+"/csr", cred,
		api.CSRRequest{CSRPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))}, 200)
	w.env.RunJobs(t)
	deploy, ok := agentWork(t, w.env, cred)[api.AgentWorkDeploy] // the answer "lost"
	if !ok {
		t.Fatalf("no deploy work for %s", cert.Name)
	}
	jobState := func() (state string, attempt int, lease time.Time) {
		t.Helper()
		if err := w.env.Pool.QueryRow(context.Background(), `SELECT state, attempt, lease_expires_at FROM jobs WHERE id = $1`,
			deploy.JobID).Scan(&state, &attempt, &lease); err != nil {
			t.Fatal(err)
		}
		return state, attempt, lease
	}
	state, attempt, lease := jobState()
	if state != "running" {
		t.Fatalf("the deploy job is %s, want running (leased to the agent)", state)
	}

	// An older agent's poll: nothing (the job is leased to it).
	var work api.AgentWork
	w.env.MustDo(t, "GET", "/api/v1/agent/work", cred, nil, 200).Decode(t, &work)
	if len(work.Items) != 0 {
		t.Fatalf("a poll without resend got %+v", work.Items)
	}
	// A poll that asks for it gets it again, the same attempt, its lease
	// renewed from the server's clock.
	w.clock.Add(time.Minute)
	w.env.MustDo(t, "GET", "/api/v1/agent/work?resend=true", cred, nil, 200).Decode(t, &work)
	if len(work.Items) != 1 || work.Items[0].Kind != api.AgentWorkDeploy || work.Items[0].JobID != deploy.JobID {
		t.Fatalf("a poll with resend got %+v, want the deployment %s again", work.Items, deploy.JobID)
	}
	state2, attempt2, lease2 := jobState()
	if state2 != "running" || attempt2 != attempt || !lease2.After(lease) {
		t.Errorf("after the resend: %s attempt %d lease %v, want running, attempt %d, a lease after %v",
			state2, attempt2, lease2, attempt, lease)
	}
	// Reported once, it is handed out no more.
	w.env.MustDo(t, "POST", "/api/v1/agent/jobs/"+deploy.JobID+"/result", cred,
		api.AgentDeployResult{Succeeded: true, Message: "deployed"}, 204)
	w.env.MustDo(t, "GET", "/api/v1/agent/work?resend=true", cred, nil, 200).Decode(t, &work)
	if len(work.Items) != 0 {
		t.Fatalf("after the report, a poll with resend got %+v", work.Items)
	}
	w.env.MustDo(t, "GET", "/api/v1/agent/work?resend=maybe", cred, nil, 400)
}
