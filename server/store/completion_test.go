package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// issuanceScene is a certificate with a current version, deliveries of
// that version (one not started, one an agent runs) and a running
// issuance job held by worker w1.
type issuanceScene struct {
	cert             core.Certificate
	old              core.CertificateVersion
	target, target2  core.Target
	agent            core.Agent
	pendingDeploy    core.Deployment // of old, not started
	pendingDeployJob uuid.UUID
	runningDeploy    core.Deployment // of old, an agent is on it
	runningDeployJob uuid.UUID
	job              uuid.UUID // the issuance, running, w1's
}

// newIssuanceScene sets up an issuanceScene for a certificate called name.
func newIssuanceScene(t *testing.T, q *store.Queries, name string) issuanceScene {
	t.Helper()
	ctx := context.Background()
	var s issuanceScene
	s.agent = createAgent(t, q, name+"-agent", "linux")
	for i, tg := range []*core.Target{&s.target, &s.target2} {
		*tg = core.Target{ID: newID(t), Name: fmt.Sprintf("%s-%d", name, i), Type: "nginx", AgentID: &s.agent.ID,
			Config: map[string]any{}, CreatedAt: at(0), UpdatedAt: at(0)}
		if err := q.CreateTarget(ctx, *tg); err != nil {
			t.Fatal(err)
		}
	}
	s.cert = createCertificate(t, q, name, createIssuer(t, q, name+"-ca").ID)
	s.old = createVersion(t, q, s.cert, name+"-old", at(50))
	if err := q.MakeVersionCurrent(ctx, s.cert.ID, s.old.ID, at(50), at(30), at(0)); err != nil {
		t.Fatal(err)
	}
	deliver := func(tg core.Target, state string) (core.Deployment, uuid.UUID) {
		t.Helper()
		j := core.Job{ID: newID(t), Kind: core.JobDeploy, State: state, CertificateID: &s.cert.ID, TargetID: &tg.ID,
			AgentID: &s.agent.ID, Payload: core.JobPayload{VersionID: &s.old.ID}, MaxAttempts: 3, RunAt: at(1), CreatedAt: at(1)}
		if err := q.InsertJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		status := "pending"
		if state == core.JobRunning {
			status = "in_progress"
		}
		d := core.Deployment{ID: newID(t), CertificateID: s.cert.ID, VersionID: s.old.ID, TargetID: tg.ID, AgentID: &s.agent.ID,
			JobID: &j.ID, Status: status, CreatedAt: at(1)}
		if err := q.CreateDeployment(ctx, d); err != nil {
			t.Fatal(err)
		}
		return d, j.ID
	}
	s.pendingDeploy, s.pendingDeployJob = deliver(s.target, core.JobQueued)
	s.runningDeploy, s.runningDeployJob = deliver(s.target2, core.JobRunning)

	j := core.Job{ID: newID(t), Kind: core.JobRenew, State: core.JobQueued, CertificateID: &s.cert.ID, MaxAttempts: 3,
		RunAt: at(2), CreatedAt: at(2), Payload: core.JobPayload{OrderID: "order-1", SealedKey: []byte("sealed order key")}}
	if err := q.InsertJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Raw().Exec(ctx, `UPDATE jobs SET state = 'running', lease_owner = 'w1', lease_expires_at = $2,
		attempt = 1 WHERE id = $1`, j.ID, at(59)); err != nil {
		t.Fatal(err)
	}
	s.job = j.ID
	return s
}

// completion is the completion of s's issuance by owner, with a new
// delivery to s.target, a notification (with its delivery job) under
// dedupe key notifyKey, a notification without a notifier, and an audit
// event.
func (s issuanceScene) completion(t *testing.T, owner, notifyKey string) store.IssuanceCompletion {
	t.Helper()
	v := core.CertificateVersion{ID: newID(t), CertificateID: s.cert.ID, SerialNumber: "new-" + newID(t).String(),
		FingerprintSHA256: "fp", Subject: "CN=" + s.cert.CommonName, SANs: s.cert.SANs, NotBefore: at(20), NotAfter: at(80),
		CertificatePEM: "PEM new", IssuerID: &s.cert.IssuerID, JobID: &s.job}
	deployJob := core.Job{ID: newID(t), Kind: core.JobDeploy, State: core.JobQueued, CertificateID: &s.cert.ID,
		TargetID: &s.target.ID, AgentID: &s.agent.ID, Payload: core.JobPayload{VersionID: &v.ID}, MaxAttempts: 3,
		RunAt: at(20), CreatedAt: at(20)}
	notifyJob := core.Job{ID: newID(t), Kind: core.JobNotify, MaxAttempts: 5}
	return store.IssuanceCompletion{
		Version: v, CSRPEM: "CSR", SealedKey: []byte("sealed key"), NextRenewal: at(60), Now: at(20), JobID: s.job,
		Owner: owner, DeployJobs: []core.Job{deployJob},
		Deployments: []core.Deployment{{ID: newID(t), CertificateID: s.cert.ID, VersionID: v.ID, TargetID: s.target.ID,
			AgentID: &s.agent.ID, JobID: &deployJob.ID, Status: "pending", CreatedAt: at(20)}},
		Notifications: []store.PendingNotification{
			{Notification: core.Notification{ID: newID(t), Event: "certificate_issued", CertificateID: &s.cert.ID,
				DedupeKey: notifyKey, Status: core.NotificationPending, Payload: map[string]any{}, CreatedAt: at(20)},
				Job: &notifyJob},
			{Notification: core.Notification{ID: newID(t), Event: "certificate_issued", CertificateID: &s.cert.ID,
				DedupeKey: notifyKey + ":none", Status: core.NotificationNoNotifier, Payload: map[string]any{}, CreatedAt: at(20)}},
		},
		Audits: []core.AuditEvent{{ID: newID(t), OccurredAt: at(20), Actor: "system", ActorType: "system",
			ActorName: "certctl-server", Action: "certificate.issued", ResourceType: "certificate",
			ResourceID: s.cert.ID.String(), Outcome: "success"}},
	}
}

// countRows counts the rows of table matching where (args from $1).
func countRows(t *testing.T, q *store.Queries, table, where string, args ...any) int {
	t.Helper()
	var n int
	if err := q.Raw().QueryRow(context.Background(), `SELECT count(*) FROM `+table+` WHERE `+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCompleteIssuancesNeedsInTx: the group completion refuses to run on
// the pool or on a bare connection (its statements would commit one by
// one, and a failure would leave the others' written): nothing is written.
func TestCompleteIssuancesNeedsInTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	s := newIssuanceScene(t, st.Q(), "a")

	if err := st.Q().CompleteIssuances(ctx, []store.IssuanceCompletion{s.completion(t, "w1", "k1")}); err == nil {
		t.Error("CompleteIssuances on the pool succeeded")
	}
	cq, release, err := st.QWithin(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	err = cq.CompleteIssuance(ctx, s.completion(t, "w1", "k2"))
	release()
	if err == nil {
		t.Error("CompleteIssuance on a connection outside a transaction succeeded")
	}
	q := st.Q()
	if n := countRows(t, q, "certificate_versions", "certificate_id = $1", s.cert.ID); n != 1 {
		t.Errorf("%d versions after refused completions, want the old one only", n)
	}
	if j := getJob(t, q, s.job); j.State != core.JobRunning || j.LeaseOwner != "w1" {
		t.Errorf("the issuance job after refused completions = %+v", j)
	}
}

// TestCompleteIssuances: a group of two completions writes, for each, the
// new version current (the old superseded), supersedes the old version's
// deliveries not yet started and cancels their jobs (leaving the one an
// agent runs), finishes the issuance job without the order's sealed key,
// ends its challenges, records the new deliveries, notifications (a
// duplicate dedupe key adds neither notification nor job) and audit
// events. Each job's result is written once: completing it again is
// refused with ErrLeaseLost.
func TestCompleteIssuances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	q := st.Q()
	a := newIssuanceScene(t, q, "a")
	b := newIssuanceScene(t, q, "b")
	if _, err := q.AddChallenges(ctx, a.job, []core.Challenge{
		{Token: "srv", Identifier: "a.example.com", KeyAuthorization: "srv.k", State: core.ChallengePresented},
		{Token: "agt", Identifier: "a.example.com", KeyAuthorization: "agt.k", AgentID: &a.agent.ID, State: core.ChallengePresented},
	}, at(10)); err != nil {
		t.Fatal(err)
	}
	// b's notification was already recorded (by an earlier attempt).
	if ok, err := q.InsertNotification(ctx, core.Notification{ID: newID(t), Event: "certificate_issued", DedupeKey: "b-issued",
		Status: core.NotificationSent, Payload: map[string]any{}, CreatedAt: at(5)}); err != nil || !ok {
		t.Fatalf("InsertNotification = %v, %v", ok, err)
	}

	ca, cb := a.completion(t, "w1", "a-issued"), b.completion(t, "w1", "b-issued")
	if err := st.InTx(ctx, func(tq *store.Queries) error {
		return tq.CompleteIssuances(ctx, []store.IssuanceCompletion{ca, cb})
	}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		s issuanceScene
		c store.IssuanceCompletion
	}{{a, ca}, {b, cb}} {
		s, c, name := tc.s, tc.c, tc.s.cert.Name
		cert, err := q.GetCertificate(ctx, s.cert.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cert.CurrentVersionID == nil || *cert.CurrentVersionID != c.Version.ID || cert.Status != core.CertActive ||
			cert.NotAfter == nil || !cert.NotAfter.Equal(at(80)) || cert.NextRenewalAt == nil || !cert.NextRenewalAt.Equal(at(60)) {
			t.Errorf("%s: certificate = %+v, want the new version current until 11:20, renewed at 11:00", name, cert)
		}
		if v, err := q.GetVersion(ctx, s.cert.ID, c.Version.ID); err != nil || v.Status != core.VersionActive || !v.CreatedAt.Equal(at(20)) {
			t.Errorf("%s: new version = %+v, %v", name, v, err)
		}
		if key, err := q.VersionPrivateKey(ctx, c.Version.ID); err != nil || string(key) != "sealed key" {
			t.Errorf("%s: the new version's key = %q, %v", name, key, err)
		}
		if v, err := q.GetVersion(ctx, s.cert.ID, s.old.ID); err != nil || v.Status != core.VersionSuperseded {
			t.Errorf("%s: old version = %s, %v; want superseded", name, v.Status, err)
		}
		if d, err := q.DeploymentByJob(ctx, s.pendingDeployJob); err != nil || d.Status != "superseded" {
			t.Errorf("%s: the old version's delivery not started = %s, %v; want superseded", name, d.Status, err)
		}
		if j := getJob(t, q, s.pendingDeployJob); j.State != core.JobCancelled || j.FinishedAt == nil {
			t.Errorf("%s: its job = %s, want cancelled", name, j.State)
		}
		if d, err := q.DeploymentByJob(ctx, s.runningDeployJob); err != nil || d.Status != "in_progress" {
			t.Errorf("%s: the delivery an agent runs = %s, %v; want left in progress", name, d.Status, err)
		}
		if j := getJob(t, q, s.runningDeployJob); j.State != core.JobRunning {
			t.Errorf("%s: its job = %s, want still running", name, j.State)
		}
		j := getJob(t, q, s.job)
		if j.State != core.JobSucceeded || j.LeaseOwner != "" || j.FinishedAt == nil || !j.FinishedAt.Equal(at(20)) ||
			len(j.Payload.SealedKey) != 0 || j.Payload.OrderID != "order-1" {
			t.Errorf("%s: the issuance job = %+v, want succeeded at 10:20 without the sealed key", name, j)
		}
		if d, err := q.DeploymentByJob(ctx, c.DeployJobs[0].ID); err != nil || d.VersionID != c.Version.ID || d.Status != "pending" {
			t.Errorf("%s: the new delivery = %+v, %v", name, d, err)
		}
		if j := getJob(t, q, c.DeployJobs[0].ID); j.State != core.JobQueued || j.Kind != core.JobDeploy {
			t.Errorf("%s: the new delivery's job = %+v", name, j)
		}
		if _, err := q.GetNotification(ctx, c.Notifications[1].Notification.ID); err != nil {
			t.Errorf("%s: the notification without a notifier: %v", name, err)
		}
		if n := countRows(t, q, "audit_events", "id = $1", c.Audits[0].ID); n != 1 {
			t.Errorf("%s: %d of its audit event", name, n)
		}
	}

	// a's notification is new: it has its delivery job, audited; b's
	// dedupe key was taken: neither its notification nor its job exist.
	if n, err := q.GetNotification(ctx, ca.Notifications[0].Notification.ID); err != nil || n.Status != core.NotificationPending {
		t.Errorf("a's notification = %+v, %v", n, err)
	}
	if j, err := q.GetJob(ctx, ca.Notifications[0].Job.ID); err != nil || j.Kind != core.JobNotify || j.State != core.JobQueued ||
		j.MaxAttempts != 5 || j.CertificateID == nil || *j.CertificateID != a.cert.ID {
		t.Errorf("a's notification job = %+v, %v", j, err)
	}
	if n := countRows(t, q, "audit_events", "action = 'job.created' AND resource_id = $1", ca.Notifications[0].Job.ID.String()); n != 1 {
		t.Errorf("a's notification job audited %d times, want once", n)
	}
	if _, err := q.GetNotification(ctx, cb.Notifications[0].Notification.ID); err == nil {
		t.Error("b's duplicate notification was recorded")
	}
	if _, err := q.GetJob(ctx, cb.Notifications[0].Job.ID); err == nil {
		t.Error("b's duplicate notification got a delivery job")
	}
	if n := countRows(t, q, "audit_events", "resource_id = $1", cb.Notifications[0].Job.ID.String()); n != 0 {
		t.Errorf("b's job that was not created audited %d times", n)
	}
	// a's challenges ended with its job: the server's gone, the agent's to clean up.
	chs, err := q.JobChallenges(ctx, a.job)
	if err != nil || len(chs) != 1 || chs[0].Token != "agt" || chs[0].State != core.ChallengeCleanup {
		t.Errorf("a's challenges after completion = %+v, %v; want only the agent's, in cleanup", chs, err)
	}

	// The same job completed again (a worker that retries its commit):
	// refused, nothing of it written. A version names its job, and a job
	// has one version (a conflict); without that name, the job's finished
	// state alone refuses it (ErrLeaseLost).
	again := a.completion(t, "w1", "a-again")
	err = st.InTx(ctx, func(tq *store.Queries) error { return tq.CompleteIssuance(ctx, again) })
	wantCode(t, "completing a's job again", err, core.ECONFLICT)
	unnamed := a.completion(t, "w1", "a-unnamed")
	unnamed.Version.JobID = nil
	err = st.InTx(ctx, func(tq *store.Queries) error { return tq.CompleteIssuance(ctx, unnamed) })
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("completing a's job again with a version not naming it = %v, want ErrLeaseLost", err)
	}
	for _, c := range []store.IssuanceCompletion{again, unnamed} {
		if n := countRows(t, q, "certificate_versions", "id = $1", c.Version.ID); n != 0 {
			t.Error("a refused second completion wrote its version")
		}
	}
}

// TestCompleteIssuancesGroupFails: when one completion of a group fails
// (its worker lost the lease, the declaration changed meanwhile, the same
// job twice in one group), the error names why and, the transaction
// rolled back, nothing of the group was written.
func TestCompleteIssuancesGroupFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	q := st.Q()
	good := newIssuanceScene(t, q, "good")
	bad := newIssuanceScene(t, q, "bad")

	for _, tc := range []struct {
		name  string
		group func() []store.IssuanceCompletion
		setup func()
		want  error
	}{
		{"lost lease", func() []store.IssuanceCompletion {
			return []store.IssuanceCompletion{good.completion(t, "w1", "g1"), bad.completion(t, "w2", "b1")}
		}, nil, store.ErrLeaseLost},
		{"same job twice", func() []store.IssuanceCompletion {
			// The second version does not name the job, so that only the
			// job's state (finished by the first) refuses it.
			second := good.completion(t, "w1", "g3")
			second.Version.JobID = nil
			return []store.IssuanceCompletion{good.completion(t, "w1", "g2"), second}
		}, nil, store.ErrLeaseLost},
		{"declaration changed", func() []store.IssuanceCompletion {
			return []store.IssuanceCompletion{good.completion(t, "w1", "g4"), bad.completion(t, "w1", "b4")}
		}, func() {
			if _, err := q.Raw().Exec(ctx, `UPDATE managed_certificates SET spec_revision = spec_revision + 1 WHERE id = $1`,
				bad.cert.ID); err != nil {
				t.Fatal(err)
			}
		}, store.ErrSpecChanged},
	} {
		if tc.setup != nil {
			tc.setup()
		}
		group := tc.group()
		err := st.InTx(ctx, func(tq *store.Queries) error { return tq.CompleteIssuances(ctx, group) })
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: CompleteIssuances = %v, want %v", tc.name, err, tc.want)
		}
		for _, c := range group {
			if n := countRows(t, q, "certificate_versions", "id = $1", c.Version.ID); n != 0 {
				t.Errorf("%s: a version of the failed group was written", tc.name)
			}
			if n := countRows(t, q, "notifications", "dedupe_key = $1", c.Notifications[0].Notification.DedupeKey); n != 0 {
				t.Errorf("%s: a notification of the failed group was written", tc.name)
			}
		}
		for _, s := range []issuanceScene{good, bad} {
			if j := getJob(t, q, s.job); j.State != core.JobRunning || j.LeaseOwner != "w1" {
				t.Errorf("%s: %s's issuance job = %s %q, want still running, w1's", tc.name, s.cert.Name, j.State, j.LeaseOwner)
			}
			if j := getJob(t, q, s.pendingDeployJob); j.State != core.JobQueued {
				t.Errorf("%s: %s's old delivery job = %s, want still queued", tc.name, s.cert.Name, j.State)
			}
			if c, _ := q.GetCertificate(ctx, s.cert.ID); c.CurrentVersionID == nil || *c.CurrentVersionID != s.old.ID {
				t.Errorf("%s: %s's current version changed", tc.name, s.cert.Name)
			}
		}
	}
}
