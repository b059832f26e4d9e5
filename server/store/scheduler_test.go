package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/pgtest"
	"github.com/certctl/certctl/server/store"
)

// leaderHolders returns the application names of the sessions holding an
// advisory lock in the database pool is connected to.
func leaderHolders(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	rows, err := pool.Query(ctx, `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted
		AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// openNamed opens a pool whose sessions carry name, so that pg_locks tells
// the contenders apart.
func openNamed(t *testing.T, url, name string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = name
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// term is one contender's time as leader.
type term struct {
	who   int
	ended chan struct{}
}

// TestWhileLeaderAtMostOne: four servers contend for leadership of one
// database. At no moment do two run the leader's function, whether the
// leader's session is killed by the database (pg_terminate_backend) or
// the leader stops; each time another (or the same) server takes over.
func TestWhileLeaderAtMostOne(t *testing.T) {
	t.Parallel()
	const contenders, handoffs, lockID = 4, 6, 0x6c656164
	url := pgtest.NewDatabase(t)
	observer := openNamed(t, url, "observer")
	lead := store.Leadership{Check: 100 * time.Millisecond}

	var inside atomic.Int32
	var mu sync.Mutex
	var violations []string
	violate := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		violations = append(violations, fmt.Sprintf(format, args...))
	}
	terms := make(chan term, contenders*handoffs)

	var running sync.WaitGroup
	cancels := make([]context.CancelFunc, contenders)
	var cancelMu sync.Mutex
	start := func(who int, st *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		cancelMu.Lock()
		cancels[who] = cancel
		cancelMu.Unlock()
		name := fmt.Sprintf("contender-%d", who)
		running.Add(1)
		go func() {
			defer running.Done()
			for ctx.Err() == nil {
				_ = st.WhileLeader(ctx, lockID, lead, func(lctx context.Context) {
					if n := inside.Add(1); n != 1 {
						violate("%s leads while %d others do", name, n-1)
					}
					defer inside.Add(-1)
					if holders, err := leaderHolders(lctx, observer); err != nil && lctx.Err() == nil {
						violate("%s: read pg_locks: %v", name, err)
					} else if err == nil && (len(holders) != 1 || holders[0] != name) {
						violate("%s leads, but pg_locks shows the lock held by %v", name, holders)
					}
					tm := term{who: who, ended: make(chan struct{})}
					defer close(tm.ended)
					terms <- tm
					<-lctx.Done()
				})
				select {
				case <-ctx.Done():
				case <-time.After(10 * time.Millisecond):
				}
			}
		}()
	}
	stores := make([]*store.Store, contenders)
	for i := range contenders {
		stores[i] = store.New(openNamed(t, url, fmt.Sprintf("contender-%d", i)))
		start(i, stores[i])
	}
	t.Cleanup(func() {
		cancelMu.Lock()
		for _, c := range cancels {
			c()
		}
		cancelMu.Unlock()
		running.Wait()
	})

	next := func(what string) term {
		t.Helper()
		select {
		case tm := <-terms:
			return tm
		case <-time.After(time.Minute):
			t.Fatalf("no leader %s", what)
			return term{}
		}
	}
	tm := next("at first")
	for round := range handoffs {
		if round%2 == 0 {
			// The database ends the leader's session.
			tag, err := observer.Exec(context.Background(), `SELECT pg_terminate_backend(l.pid) FROM pg_locks l
				WHERE l.locktype = 'advisory' AND l.granted
				AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
			if err != nil || tag.RowsAffected() != 1 {
				t.Fatalf("round %d: terminate the leader's session: %v (%d sessions)", round, err, tag.RowsAffected())
			}
		} else {
			// The leader stops (its server shuts down), and starts again.
			cancelMu.Lock()
			cancels[tm.who]()
			cancelMu.Unlock()
			start(tm.who, stores[tm.who])
		}
		select {
		case <-tm.ended:
		case <-time.After(time.Minute):
			t.Fatalf("round %d: contender %d still leads after losing its lock", round, tm.who)
		}
		tm = next(fmt.Sprintf("after handoff %d", round))
	}
	mu.Lock()
	defer mu.Unlock()
	for _, v := range violations {
		t.Error(v)
	}
}

// TestClaimDueCertificatesAndMarkExpired: the due scan claims live
// certificates whose renewal time has come, oldest due first, up to its
// limit, marks them renewing (so a second scan does not take them again)
// and names the agent of their targets; MarkExpired turns active and
// failed certificates past their expiry into expired ones, once.
func TestClaimDueCertificatesAndMarkExpired(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	iss := createIssuer(t, q, "ca")
	agent := createAgent(t, q, "web", "linux")
	tg := core.Target{ID: newID(t), Name: "t", Type: "nginx", AgentID: &agent.ID, Config: map[string]any{}, CreatedAt: at(0), UpdatedAt: at(0)}
	if err := q.CreateTarget(ctx, tg); err != nil {
		t.Fatal(err)
	}
	// issued makes a certificate current until notAfter, due at due, in status.
	issued := func(name string, due, notAfter int, status string, targets ...uuid.UUID) core.Certificate {
		t.Helper()
		c := createCertificate(t, q, name, iss.ID)
		if len(targets) > 0 {
			c.TargetIDs = targets
			if err := q.UpdateCertificate(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		v := createVersion(t, q, c, name, at(notAfter))
		if err := q.MakeVersionCurrent(ctx, c.ID, v.ID, at(notAfter), at(due), at(0)); err != nil {
			t.Fatal(err)
		}
		if status != core.CertActive {
			next := at(due)
			if err := q.SetCertificateStatus(ctx, c.ID, status, "", &next, at(0)); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	late := issued("late", 5, 50, core.CertActive, tg.ID)
	failed := issued("failed", 8, 50, core.CertFailed)
	later := issued("later", 9, 50, core.CertActive)
	issued("future", 30, 50, core.CertActive)
	issued("busy", 1, 50, core.CertRenewing)
	stale := issued("stale", 40, 20, core.CertActive) // expired at 20, due only at 40

	due, err := q.ClaimDueCertificates(ctx, at(10), 2)
	if err != nil || len(due) != 2 {
		t.Fatalf("ClaimDueCertificates = %+v, %v", due, err)
	}
	got := []uuid.UUID{due[0].ID, due[1].ID}
	slices.SortFunc(got, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	if !slices.Equal(got, []uuid.UUID{late.ID, failed.ID}) {
		t.Errorf("claimed %v, want the two due first: late and failed", got)
	}
	for _, d := range due {
		if d.ID == late.ID && (d.AgentID == nil || *d.AgentID != agent.ID || d.KeyMode != core.KeyModeServer) {
			t.Errorf("late's claim = %+v, want its target's agent", d)
		}
	}
	if c, _ := q.GetCertificate(ctx, late.ID); c.Status != core.CertRenewing || c.NextRenewalAt != nil {
		t.Errorf("a claimed certificate = status %s, next renewal %v", c.Status, c.NextRenewalAt)
	}
	due, err = q.ClaimDueCertificates(ctx, at(10), 10)
	if err != nil || len(due) != 1 || due[0].ID != later.ID {
		t.Errorf("the second scan = %+v, %v; want only later", due, err)
	}

	expired, err := q.MarkExpired(ctx, at(25))
	if err != nil || !slices.Equal(expired, []uuid.UUID{stale.ID}) {
		t.Errorf("MarkExpired = %v, %v; want only stale", expired, err)
	}
	if again, _ := q.MarkExpired(ctx, at(26)); len(again) != 0 {
		t.Errorf("MarkExpired again = %v", again)
	}
	// An expired certificate is still renewed when due.
	if due, _ := q.ClaimDueCertificates(ctx, at(45), 10); len(due) != 2 || !slices.ContainsFunc(due, func(d store.DueCertificate) bool { return d.ID == stale.ID }) {
		t.Errorf("the scan at 45 = %+v, want future and the expired stale", due)
	}
}

// TestInsertRenewals: renewal jobs are inserted in bulk, skipping a
// certificate that already has a live issuance, and each inserted one is
// audited; the batch's scratch table is empty again after the commit.
func TestInsertRenewals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	q := st.Q()
	iss := createIssuer(t, q, "ca")
	free, busy := createCertificate(t, q, "free", iss.ID), createCertificate(t, q, "busy", iss.ID)
	busyJob := insertJob(t, q, busy, core.JobQueued)
	renewal := func(c core.Certificate) core.Job {
		return core.Job{ID: newID(t), Kind: core.JobRenew, State: core.JobQueued, CertificateID: &c.ID, MaxAttempts: 5, RunAt: at(1)}
	}
	jobs := []core.Job{renewal(free), renewal(busy)}
	for range 2 { // twice: the scratch table of the first batch must not linger
		if err := st.InTx(ctx, func(tx *store.Queries) error { return tx.InsertRenewals(ctx, jobs, at(1)) }); err != nil {
			t.Fatal(err)
		}
	}
	j, err := q.GetJob(ctx, jobs[0].ID)
	if err != nil || j.Kind != core.JobRenew || j.State != core.JobQueued || j.MaxAttempts != 5 || !j.RunAt.Equal(at(1)) {
		t.Errorf("the free certificate's renewal = %+v, %v", j, err)
	}
	_, err = q.GetJob(ctx, jobs[1].ID)
	wantCode(t, "a renewal of a certificate with a live issuance", err, core.ENOTFOUND)
	if j, err := q.GetJob(ctx, busyJob); err != nil || j.Kind != core.JobIssue {
		t.Errorf("the live issuance = %+v, %v", j, err)
	}
	events, _, err := q.ListAudit(ctx, core.AuditFilter{Action: "job.created", Page: core.Page{Limit: 10}})
	if err != nil || len(events) != 1 || events[0].ResourceID != jobs[0].ID.String() || events[0].Details["trigger"] != "due" {
		t.Errorf("audit of the renewals = %+v, %v; want one job.created for the free certificate", events, err)
	}
	if err := q.InsertRenewals(ctx, nil, at(2)); err != nil {
		t.Errorf("no renewals: %v", err)
	}
}
