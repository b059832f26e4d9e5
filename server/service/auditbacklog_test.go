package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

// outage makes env's database refuse every session (its own and new
// ones) until up is called; the rest of the cluster stays up.
type outage struct {
	admin *pgxpool.Pool // on the cluster's maintenance database
	name  string
}

func newOutage(t *testing.T, env *apitest.Env) *outage {
	t.Helper()
	cfg := env.Pool.Config().Copy()
	name := cfg.ConnConfig.Database
	cfg.ConnConfig.Database = "postgres"
	cfg.MaxConns = 2
	admin, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(admin.Close)
	o := &outage{admin: admin, name: name}
	t.Cleanup(func() { o.up(t) })
	return o
}

func (o *outage) down(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if _, err := o.admin.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{o.name}.Sanitize()+` WITH ALLOW_CONNECTIONS false`); err != nil {
		t.Fatal(err)
	}
	if _, err := o.admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, o.name); err != nil {
		t.Fatal(err)
	}
}

func (o *outage) up(t *testing.T) {
	t.Helper()
	if _, err := o.admin.Exec(context.Background(), `ALTER DATABASE `+pgx.Identifier{o.name}.Sanitize()+` WITH ALLOW_CONNECTIONS true`); err != nil {
		t.Fatal(err)
	}
}

// auditRows returns the audit events of action with outcome, newest
// first. Sessions the outage ended may still be in the pool: a read that
// fails on one is tried again.
func auditRows(t *testing.T, env *apitest.Env, action, outcome string) []core.AuditEvent {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		evs, _, err := env.Store.Q().ListAudit(context.Background(), core.AuditFilter{Action: action, Outcome: outcome,
			Page: core.Page{Limit: 500}})
		if err == nil {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFailuresAreAuditedOnceTheDatabaseIsBack: a denied request and a
// change that failed while the database was down are in the audit trail
// once it is back, each once, with the time it happened.
func TestFailuresAreAuditedOnceTheDatabaseIsBack(t *testing.T) {
	t.Parallel()
	c := &clock{now: time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)}
	var logs lockedBuffer
	env := apitest.Start(t, apitest.Options{Clock: c.Now, Logger: errorLogger(&logs)})
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); env.Service.RunAuditBacklog(runCtx) }()
	t.Cleanup(func() { stop(); <-done })
	out := newOutage(t, env)

	viewer := core.Actor{Type: core.ActorAPIKey, ID: uuid.NewString(), Name: "reader", Role: core.RoleViewer}
	operator := core.Actor{Type: core.ActorAPIKey, ID: uuid.NewString(), Name: "ops", Role: core.RoleOperator}
	certID := uuid.New()

	out.down(t)
	deniedAt := c.Now()
	_, err := env.Service.RenewCertificate(core.WithActor(context.Background(), viewer), certID)
	if core.ErrorCode(err) != core.EFORBIDDEN {
		t.Fatalf("renewal by a viewer: %v, want forbidden", err)
	}
	c.Add(time.Minute)
	failedAt := c.Now()
	if _, err := env.Service.RenewCertificate(core.WithActor(context.Background(), operator), certID); err == nil {
		t.Fatal("a renewal succeeded with the database down")
	}
	c.Add(time.Hour) // the database comes back much later
	out.up(t)

	var denied, failed []core.AuditEvent
	waitUntil(t, "the failures in the audit trail", func() bool {
		denied = auditRows(t, env, "certificate.renew", core.OutcomeDenied)
		failed = auditRows(t, env, "certificate.renew", core.OutcomeFailure)
		return len(denied) > 0 && len(failed) > 0
	})
	// A later failure with the database up is written at once, behind them.
	_, _ = env.Service.RenewCertificate(core.WithActor(context.Background(), viewer), certID)
	denied = auditRows(t, env, "certificate.renew", core.OutcomeDenied)
	failed = auditRows(t, env, "certificate.renew", core.OutcomeFailure)

	if len(denied) != 2 || len(failed) != 1 {
		t.Fatalf("audit trail: %d denials (want 2) and %d failures (want 1)", len(denied), len(failed))
	}
	first := denied[1] // newest first
	if !first.OccurredAt.Equal(deniedAt) || first.Actor != viewer.ID || first.ResourceID != certID.String() {
		t.Errorf("denial recorded as %+v, want by %s at %s", first, viewer.ID, deniedAt)
	}
	if f := failed[0]; !f.OccurredAt.Equal(failedAt) || f.Actor != operator.ID || f.ResourceID != certID.String() ||
		f.Details["error"] == nil {
		t.Errorf("failure recorded as %+v, want by %s at %s with its error", f, operator.ID, failedAt)
	}
	if !denied[0].OccurredAt.Equal(c.Now()) {
		t.Errorf("the later denial recorded at %s, want %s", denied[0].OccurredAt, c.Now())
	}
	if strings.Contains(logs.String(), "audit write failed") || strings.Contains(logs.String(), "lost") {
		t.Errorf("errors logged:\n%s", logs.String())
	}
}

// TestAuditBacklogDropsTheOldestAndSaysSo: a backlog that overflows keeps
// the newest events and logs how many it dropped; what is left is written
// when the server stops, if the database is back by then.
func TestAuditBacklogDropsTheOldestAndSaysSo(t *testing.T) {
	t.Parallel()
	c := &clock{now: time.Date(2031, 3, 1, 12, 0, 0, 0, time.UTC)}
	var logs lockedBuffer
	env := apitest.Start(t, apitest.Options{Clock: c.Now, Logger: errorLogger(&logs)})
	other := secondService(t, env, service.Options{Clock: c.Now, Logger: errorLogger(&logs), AuditBacklog: 3})
	out := newOutage(t, env)
	viewer := core.Actor{Type: core.ActorAPIKey, ID: uuid.NewString(), Name: "reader", Role: core.RoleViewer}

	out.down(t)
	var times []time.Time
	for range 5 {
		c.Add(time.Second)
		times = append(times, c.Now())
		if _, err := other.RenewCertificate(core.WithActor(context.Background(), viewer), uuid.New()); core.ErrorCode(err) != core.EFORBIDDEN {
			t.Fatalf("renewal by a viewer: %v", err)
		}
	}
	out.up(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	other.CloseAuditBacklog(ctx)

	denied := auditRows(t, env, "certificate.renew", core.OutcomeDenied)
	if len(denied) != 3 {
		t.Fatalf("%d denials written, want the newest 3", len(denied))
	}
	for i, e := range denied { // newest first
		if want := times[4-i]; !e.OccurredAt.Equal(want) {
			t.Errorf("denial %d at %s, want %s", i, e.OccurredAt, want)
		}
	}
	if !strings.Contains(logs.String(), "dropped=2") {
		t.Errorf("the drop was not logged with its count:\n%s", logs.String())
	}
	// Once closed, a failure that finds the database down is logged as lost.
	out.down(t)
	if _, err := other.RenewCertificate(core.WithActor(context.Background(), viewer), uuid.New()); core.ErrorCode(err) != core.EFORBIDDEN {
		t.Fatalf("renewal by a viewer: %v", err)
	}
	if !strings.Contains(logs.String(), "audit event lost") {
		t.Errorf("a failure that could not be kept was not logged as lost:\n%s", logs.String())
	}
}
