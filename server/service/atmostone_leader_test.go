package service_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

// schedulerHolder returns the backend pid holding the scheduler's lock in
// env's database, or 0, and how many sessions hold an advisory lock there.
func schedulerHolder(t *testing.T, env *apitest.Env) (pid int32, holders int) {
	t.Helper()
	err := env.Pool.QueryRow(context.Background(), `SELECT COALESCE(min(pid), 0), count(*) FROM pg_locks
		WHERE locktype = 'advisory' AND granted
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&pid, &holders)
	if err != nil {
		t.Fatalf("read pg_locks: %v", err)
	}
	return pid, holders
}

// TestOneSchedulerLeader: four servers run their schedulers on one
// database. One holds the leader's lock; when the database ends its
// session, another takes over and its sweeps do the work (a due renewal
// is enqueued once).
func TestOneSchedulerLeader(t *testing.T) {
	t.Parallel()
	ctx := core.WithActor(context.Background(), core.SystemActor)
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir})
	svcs := []*service.Service{env.Service}
	for range 3 {
		svcs = append(svcs, secondService(t, env, service.Options{}))
	}
	runCtx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, s := range svcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.RunScheduler(runCtx, service.SchedulerOptions{Interval: 50 * time.Millisecond, LeaderCheck: 50 * time.Millisecond})
		}()
	}
	t.Cleanup(func() { stop(); wg.Wait() })

	ca, err := env.Service.CreateIssuer(ctx, service.IssuerInput{Name: "ca", Type: "local", Config: map[string]any{"ca_key_type": "ecdsa-p256"}})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := env.Service.CreateCertificate(ctx, service.CertificateInput{Name: "led", CommonName: "led.example.com", IssuerID: ca.ID})
	if err != nil {
		t.Fatal(err)
	}
	env.RunJobs(t)

	var first int32
	waitUntil(t, "a leader", func() bool {
		pid, n := schedulerHolder(t, env)
		if n > 1 {
			t.Fatalf("%d sessions hold the scheduler's lock", n)
		}
		first = pid
		return pid != 0
	})
	if _, err := env.Pool.Exec(context.Background(), `SELECT pg_terminate_backend($1)`, first); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "another leader", func() bool {
		pid, n := schedulerHolder(t, env)
		if n > 1 {
			t.Fatalf("%d sessions hold the scheduler's lock", n)
		}
		return pid != 0 && pid != first
	})

	// The new leader sweeps: a certificate whose renewal falls due is
	// renewed, once.
	if _, err := env.Pool.Exec(context.Background(), `UPDATE managed_certificates SET next_renewal_at = now() - interval '1 second'
		WHERE id = $1`, cert.ID); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the due renewal", func() bool {
		return len(jobsOf(t, env, cert, core.JobRenew)) > 0
	})
	if js := jobsOf(t, env, cert, core.JobRenew); len(js) != 1 || js[0].Payload.Trigger != "due" {
		t.Fatalf("renew jobs after the handoff: %+v, want one due renewal", js)
	}
}

func jobsOf(t *testing.T, env *apitest.Env, c core.Certificate, kind string) []core.Job {
	t.Helper()
	js, _, err := env.Service.ListJobs(core.WithActor(context.Background(), core.SystemActor),
		core.JobFilter{CertificateID: &c.ID, Kind: kind, Page: core.Page{Limit: 500}})
	if err != nil {
		t.Fatal(err)
	}
	return js
}
