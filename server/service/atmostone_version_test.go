package service_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/app"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/db"
	"github.com/certctl/certctl/server/service"
	"github.com/certctl/certctl/server/store"
)

// One current version: whatever races (renewals requested at once through
// two servers, their workers completing and failing jobs, declarations
// changing mid-issuance, revocations, sweeps), a certificate ends with
// exactly one current version, the newest one not superseded, one version
// per succeeded job, and no job left behind.

// lockedBuffer collects log output written from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// errorLogger returns a logger that keeps only error records, in buf.
func errorLogger(buf *lockedBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelError}))
}

// firstCallFails is a CA that refuses the first attempt of every job
// (transiently) and issues on the next, so that the race runs through the
// failure path of the workers as well as their completions.
type firstCallFails struct {
	service.IssuerProvider
	mu   sync.Mutex
	seen map[string]bool
}

func (f *firstCallFails) Issuer(name string) (plugin.Issuer, error) {
	p, err := f.IssuerProvider.Issuer(name)
	if err != nil {
		return nil, err
	}
	return &firstCallFailsIssuer{Issuer: p, f: f}, nil
}

func (f *firstCallFails) first(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen[key] {
		return false
	}
	f.seen[key] = true
	return true
}

type firstCallFailsIssuer struct {
	plugin.Issuer
	f *firstCallFails
}

func (i *firstCallFailsIssuer) IssueCertificate(ctx context.Context, req plugin.IssueRequest) (plugin.IssueResult, error) {
	if i.f.first(req.IdempotencyKey) {
		return plugin.IssueResult{}, plugin.Errorf(plugin.CodeTransient, "CA busy (test)")
	}
	return i.Issuer.IssueCertificate(ctx, req)
}

func (i *firstCallFailsIssuer) RenewCertificate(ctx context.Context, req plugin.RenewRequest) (plugin.IssueResult, error) {
	if i.f.first(req.IdempotencyKey) {
		return plugin.IssueResult{}, plugin.Errorf(plugin.CodeTransient, "CA busy (test)")
	}
	return i.Issuer.RenewCertificate(ctx, req)
}

// secondService returns another server's service on env's database: its
// own pool, the same plugins and encryption key.
func secondService(t *testing.T, env *apitest.Env, o service.Options) *service.Service {
	t.Helper()
	pool, err := db.Open(context.Background(), env.Pool.Config().ConnString(), 10)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	o.Store = store.New(pool)
	o.Secrets = apitest.TestSecrets(t)
	if env.Plugins != nil {
		o.Connectors, o.Plugins, o.Notifiers = service.HostCatalog{Host: env.Plugins}, app.PluginRegistry(env.Plugins), env.Plugins
		if o.Issuers == nil {
			o.Issuers = env.Plugins
		}
	}
	return service.New(o)
}

func TestOneCurrentVersionRace(t *testing.T) {
	t.Parallel()
	ctx := core.WithActor(context.Background(), core.SystemActor)
	jobs := service.DefaultJobSettings()
	jobs.RetryBase, jobs.RetryCeiling = time.Millisecond, 5*time.Millisecond
	var errs lockedBuffer
	logger := errorLogger(&errs)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("errors logged:\n%s", errs.String())
		}
	})
	var wrapped *firstCallFails
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir, Jobs: &jobs, Logger: logger,
		WrapIssuers: func(p service.IssuerProvider) service.IssuerProvider {
			wrapped = &firstCallFails{IssuerProvider: p, seen: map[string]bool{}}
			return wrapped
		}})
	other := secondService(t, env, service.Options{Jobs: &jobs, Logger: logger, Issuers: wrapped})
	svcs := []*service.Service{env.Service, other}

	ca, err := env.Service.CreateIssuer(ctx, service.IssuerInput{Name: "ca", Type: "local", Config: map[string]any{"ca_key_type": "ecdsa-p256"}})
	if err != nil {
		t.Fatal(err)
	}
	sans := [][]string{{"a.race.example.com"}, {"b.race.example.com"}}
	var certs []core.Certificate
	for i := range 3 {
		c, err := env.Service.CreateCertificate(ctx, service.CertificateInput{Name: fmt.Sprintf("race%d", i),
			CommonName: fmt.Sprintf("race%d.example.com", i), SANs: sans[0], IssuerID: ca.ID})
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c)
	}
	for i, s := range svcs {
		runWorker(t, s.NewWorker(service.WorkerOptions{Owner: fmt.Sprintf("server%d", i), Concurrency: 4, Poll: 20 * time.Millisecond}))
	}
	db := env.Pool
	waitUntil(t, "the first versions", func() bool { return liveJobs(t, db) == 0 })

	var unexpected []string
	var mu sync.Mutex
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		unexpected = append(unexpected, fmt.Sprintf(format, args...))
	}
	// conflictOK: a refusal that says why (one issuance at a time, revoked,
	// nothing to revoke) is an answer; anything else is a failure.
	conflictOK := func(what string, err error) {
		if err != nil && core.ErrorCode(err) != core.ECONFLICT {
			report("%s: %v", what, err)
		}
	}
	var wg sync.WaitGroup
	var renewed atomic.Int64
	start := make(chan struct{})
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range 40 {
				c := certs[(g+i)%len(certs)]
				_, err := svcs[(g+i)%2].RenewCertificate(ctx, c.ID)
				conflictOK("renew", err)
				if err == nil {
					renewed.Add(1)
				}
			}
		}()
	}
	// Supersede: certificate 0's declaration changes while it is issued.
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-start
		for i := range 15 {
			c := certs[0]
			_, err := svcs[i%2].UpdateCertificate(ctx, c.ID, service.CertificateInput{Name: c.Name, CommonName: c.CommonName,
				SANs: sans[i%2], IssuerID: ca.ID})
			conflictOK("update", err)
			time.Sleep(5 * time.Millisecond)
		}
	}()
	// Revoke: certificate 1's current version is revoked while renewals
	// of it run; certificate 2's superseded versions too.
	wg.Add(1)
	go func() {
		defer wg.Done()
		<-start
		for i := range 10 {
			c, err := env.Service.GetCertificate(ctx, certs[1].ID)
			if err != nil {
				report("get: %v", err)
				return
			}
			if i%3 == 2 && c.CurrentVersionID != nil {
				_, err := svcs[i%2].RevokeCertificate(ctx, c.ID, service.RevokeInput{Reason: 4})
				conflictOK("revoke current", err)
			}
			vs, _, err := env.Service.ListVersions(ctx, certs[2].ID, core.Page{Limit: 500})
			if err != nil {
				report("versions: %v", err)
				return
			}
			for _, v := range vs {
				if v.Status == core.VersionSuperseded {
					_, err := svcs[i%2].RevokeCertificate(ctx, certs[2].ID, service.RevokeInput{VersionID: &v.ID, Reason: 4})
					conflictOK("revoke superseded", err)
					break
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	// The schedulers of both servers sweep throughout.
	stopSweeps := make(chan struct{})
	var sweeps sync.WaitGroup
	for _, s := range svcs {
		sweeps.Add(1)
		go func() {
			defer sweeps.Done()
			<-start
			for {
				select {
				case <-stopSweeps:
					return
				case <-time.After(3 * time.Millisecond):
				}
				if err := s.Sweep(ctx); err != nil {
					report("sweep: %v", err)
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(stopSweeps)
	sweeps.Wait()
	waitForJobs(t, db)

	for _, u := range unexpected {
		t.Error(u)
	}
	if renewed.Load() == 0 {
		t.Fatal("no renewal was started: the race tested nothing")
	}
	for _, c := range certs {
		checkOneCurrentVersion(t, db, c.ID)
	}
	if e := errs.String(); e != "" {
		t.Errorf("errors logged during the race:\n%s", e)
	}
	t.Logf("%d renewals started", renewed.Load())
}

// waitForJobs waits until every job has ended, and shows those that did
// not when it gives up.
func waitForJobs(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for liveJobs(t, pool) > 0 {
		if time.Now().After(deadline) {
			rows, err := pool.Query(context.Background(), `SELECT j.id, j.kind, j.state, j.attempt, j.run_at, j.lease_owner,
				j.last_error, c.status FROM jobs j JOIN managed_certificates c ON c.id = j.certificate_id
				WHERE j.state IN ('queued', 'running', 'waiting', 'retrying') AND j.kind <> 'deploy'`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				vals, _ := rows.Values()
				t.Logf("live job: %v", vals)
			}
			rows.Close()
			t.Fatalf("jobs did not end (now %s)", time.Now().UTC())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// liveJobs counts the jobs not ended yet.
func liveJobs(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM jobs
		WHERE state IN ('queued', 'running', 'waiting', 'retrying') AND kind <> 'deploy'`).Scan(&n); err != nil {
		t.Fatalf("count live jobs: %v", err)
	}
	return n
}

// checkOneCurrentVersion checks, from the database, that a certificate
// whose jobs have all ended has one current version, the newest one not
// superseded, with one version and one issuance audit per succeeded
// issuance job.
func checkOneCurrentVersion(t *testing.T, pool *pgxpool.Pool, id uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	var status string
	var current *uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT status, current_version_id FROM managed_certificates WHERE id = $1`, id).
		Scan(&status, &current); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT v.id, v.status, v.job_id, j.state FROM certificate_versions v
		LEFT JOIN jobs j ON j.id = v.job_id WHERE v.certificate_id = $1 ORDER BY v.id`, id)
	if err != nil {
		t.Fatal(err)
	}
	type version struct {
		id       uuid.UUID
		status   string
		job      *uuid.UUID
		jobState *string
	}
	var vs []version
	for rows.Next() {
		var v version
		if err := rows.Scan(&v.id, &v.status, &v.job, &v.jobState); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if current == nil || len(vs) == 0 {
		t.Fatalf("certificate %s: no current version (%d versions)", id, len(vs))
	}
	var newest *version
	active := 0
	for i := range vs {
		v := &vs[i]
		if v.status == core.VersionActive {
			active++
		}
		if v.status != core.VersionSuperseded {
			newest = v
		}
		if v.job == nil || v.jobState == nil || *v.jobState != core.JobSucceeded {
			t.Errorf("certificate %s: version %s was stored by job %v in state %v, want a succeeded job", id, v.id, v.job, v.jobState)
		}
	}
	if active > 1 {
		t.Errorf("certificate %s: %d active versions", id, active)
	}
	if newest == nil || newest.id != *current {
		t.Errorf("certificate %s: current version %s is not the newest one not superseded (%+v)", id, *current, newest)
	}
	switch {
	case status == core.CertActive && newest != nil && newest.status == core.VersionActive:
	case status == core.CertRevoked && newest != nil && newest.status == core.VersionRevoked:
	default:
		t.Errorf("certificate %s is %s with current version %+v", id, status, newest)
	}
	// One version per succeeded issuance job, and one issuance audit each.
	var succeeded, audits, auditJobs int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM jobs WHERE certificate_id = $1 AND kind IN ('issue', 'renew')
		AND state = 'succeeded'`, id).Scan(&succeeded); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT details->>'job_id') FROM audit_events
		WHERE resource_type = 'certificate' AND resource_id = $1 AND action IN ('certificate.issued', 'certificate.renewed')`,
		id.String()).Scan(&audits, &auditJobs); err != nil {
		t.Fatal(err)
	}
	if succeeded != len(vs) || audits != len(vs) || auditJobs != len(vs) {
		t.Errorf("certificate %s: %d versions, %d succeeded issuance jobs, %d issuance audits for %d jobs; want all equal",
			id, len(vs), succeeded, audits, auditJobs)
	}
}

// gatedIssuers holds the first issuance call until released, so that a
// test can let another worker take the job meanwhile.
type gatedIssuers struct {
	service.IssuerProvider
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (g *gatedIssuers) Issuer(name string) (plugin.Issuer, error) {
	p, err := g.IssuerProvider.Issuer(name)
	if err != nil {
		return nil, err
	}
	return &gatedIssuer{Issuer: p, g: g}, nil
}

type gatedIssuer struct {
	plugin.Issuer
	g *gatedIssuers
}

func (i *gatedIssuer) IssueCertificate(ctx context.Context, req plugin.IssueRequest) (plugin.IssueResult, error) {
	first := false
	i.g.once.Do(func() { first = true })
	if first {
		close(i.g.entered)
		<-i.g.release
	}
	return i.Issuer.IssueCertificate(ctx, req)
}

// Two servers complete the same issuance: the first worker's lease
// expires while its CA call hangs, the other server's scheduler gives the
// job back and its worker issues. When the first call returns at last,
// its version must be discarded: one version, made current once.
func TestLostLeaseCompletionIsDiscarded(t *testing.T) {
	t.Parallel()
	ctx := core.WithActor(context.Background(), core.SystemActor)
	c := &clock{now: time.Now().UTC().Truncate(time.Second)}
	var errs lockedBuffer
	logger := errorLogger(&errs)
	gate := &gatedIssuers{entered: make(chan struct{}), release: make(chan struct{})}
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir, Clock: c.Now, Logger: logger,
		WrapIssuers: func(p service.IssuerProvider) service.IssuerProvider { gate.IssuerProvider = p; return gate }})
	other := secondService(t, env, service.Options{Clock: c.Now, Logger: logger, Issuers: gate})
	ca, err := env.Service.CreateIssuer(ctx, service.IssuerInput{Name: "ca", Type: "local", Config: map[string]any{"ca_key_type": "ecdsa-p256"}})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := env.Service.CreateCertificate(ctx, service.CertificateInput{Name: "slow", CommonName: "slow.example.com", IssuerID: ca.ID})
	if err != nil {
		t.Fatal(err)
	}

	first := env.Service.NewWorker(service.WorkerOptions{Owner: "first", Lease: time.Minute})
	done := make(chan error, 1)
	go func() { _, err := first.RunOnce(context.Background()); done <- err }()
	select {
	case <-gate.entered:
	case <-time.After(time.Minute):
		t.Fatal("the first worker never called the CA")
	}
	c.Add(2 * time.Minute) // its lease expires: the other server's sweep requeues the job
	if err := other.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	second := other.NewWorker(service.WorkerOptions{Owner: "second", Lease: time.Minute})
	if n, err := second.RunOnce(context.Background()); err != nil || n != 1 {
		t.Fatalf("second worker ran %d jobs: %v", n, err)
	}
	close(gate.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	checkOneCurrentVersion(t, env.Pool, cert.ID)
	var versions int
	if err := env.Pool.QueryRow(ctx, `SELECT count(*) FROM certificate_versions WHERE certificate_id = $1`, cert.ID).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	js, _, err := env.Service.ListJobs(ctx, core.JobFilter{CertificateID: &cert.ID})
	if err != nil {
		t.Fatal(err)
	}
	if versions != 1 || len(js) != 1 || js[0].State != core.JobSucceeded || js[0].Attempt != 2 {
		t.Fatalf("after both completions: %d versions, jobs %+v; want one version from the second attempt", versions, js)
	}
	if e := errs.String(); e != "" {
		t.Errorf("errors logged:\n%s", e)
	}
}
