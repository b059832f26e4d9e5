package service_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

// anHour is a poll interval no test waits for: whatever a test sees
// happen, the worker was woken for it.
const anHour = time.Hour

// runWorker runs a worker until the test ends (or stop is called) and
// returns stop, which waits for Run to return.
func runWorker(t *testing.T, w *service.Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	stop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Error("worker did not stop")
		}
	}
	t.Cleanup(stop)
	return stop
}

// waitUntil checks cond until it holds; the limit only keeps a broken
// worker from hanging the test run.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (w *world) allActive(t *testing.T, ids ...uuid.UUID) bool {
	t.Helper()
	for _, id := range ids {
		if w.get(t, id).Status != core.CertActive {
			return false
		}
	}
	return true
}

func TestWorkerClaimsAgainAsSoonAsASlotFrees(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	var ids []uuid.UUID
	for _, name := range []string{"one", "two", "three"} {
		ids = append(ids, w.cert(t, name).ID)
	}
	// One slot, three due jobs: the second and third can only start when
	// the job before them frees the slot.
	runWorker(t, w.env.Service.NewWorker(service.WorkerOptions{Concurrency: 1, Poll: anHour}))
	waitUntil(t, "three certificates issued one after another", func() bool { return w.allActive(t, ids...) })
}

func TestWorkerIsWokenByANewJob(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil)
	runWorker(t, w.env.Service.NewWorker(service.WorkerOptions{Concurrency: 4, Poll: anHour}))
	// Once the worker listens for job notifications, a job created later
	// wakes it (a job created earlier is found by its first claim).
	waitUntil(t, "the worker to listen for jobs", func() bool {
		var n int
		err := w.env.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query = 'LISTEN server_jobs'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n > 0
	})
	c := w.cert(t, "late")
	waitUntil(t, "the new certificate to be issued", func() bool { return w.allActive(t, c.ID) })
}

// stallingIssuers stands for a CA whose calls hang while stall is set,
// until the caller gives up (as a plugin call does when its context ends).
type stallingIssuers struct {
	inner   service.IssuerProvider
	stall   *atomic.Bool
	stalled chan struct{} // receives when a call starts stalling
}

func (s stallingIssuers) Issuer(name string) (plugin.Issuer, error) {
	iss, err := s.inner.Issuer(name)
	return stallingIssuer{Issuer: iss, s: s}, err
}

type stallingIssuer struct {
	plugin.Issuer
	s stallingIssuers
}

func (i stallingIssuer) IssueCertificate(ctx context.Context, req plugin.IssueRequest) (plugin.IssueResult, error) {
	if i.s.stall.Load() {
		i.s.stalled <- struct{}{}
		<-ctx.Done()
		return plugin.IssueResult{}, &plugin.Error{Code: plugin.CodeCanceled, Message: "plugin call canceled"}
	}
	return i.Issuer.IssueCertificate(ctx, req)
}

func TestAbandonedJobIsQueuedAgainWithoutCountingTheAttempt(t *testing.T) {
	t.Parallel()
	var stall atomic.Bool
	stall.Store(true)
	stalled := make(chan struct{}, 1)
	w := newWorld(t, nil, func(inner service.IssuerProvider) service.IssuerProvider {
		return stallingIssuers{inner: inner, stall: &stall, stalled: stalled}
	})
	c := w.cert(t, "stuck")
	worker := w.env.Service.NewWorker(service.WorkerOptions{Concurrency: 2, Poll: anHour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); worker.Run(ctx) }()
	select {
	case <-stalled:
	case <-time.After(time.Minute):
		t.Fatal("the issuance never reached the issuer")
	}

	// Stopping the worker lets the job in flight go on...
	cancel()
	select {
	case <-done:
		t.Fatal("Run returned while a job was in flight")
	case <-time.After(200 * time.Millisecond):
	}
	// ...until it is abandoned: then the job is given back, not failed.
	worker.Abandon()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Run did not return after Abandon")
	}
	js := w.jobs(t, core.JobFilter{CertificateID: &c.ID})
	if len(js) != 1 || js[0].State != core.JobQueued || js[0].Attempt != 0 || js[0].LeaseOwner != "" {
		t.Fatalf("abandoned job: %+v; want queued again with no attempt counted", js)
	}
	if got := w.get(t, c.ID).Status; got != core.CertIssuing {
		t.Fatalf("certificate of the abandoned job is %s, want issuing", got)
	}

	// The next worker completes it.
	stall.Store(false)
	runWorker(t, w.env.Service.NewWorker(service.WorkerOptions{Concurrency: 2, Poll: anHour}))
	waitUntil(t, "the abandoned job to complete", func() bool { return w.allActive(t, c.ID) })
	if js := w.jobs(t, core.JobFilter{CertificateID: &c.ID}); js[0].State != core.JobSucceeded || js[0].Attempt != 1 {
		t.Fatalf("job after it ran again: %+v", js[0])
	}
}

// heldIssuers holds every issuance call until the test lets one go, and
// counts the calls in flight: the worker's busy slots as the CA sees them.
type heldIssuers struct {
	inner   service.IssuerProvider
	release chan struct{}
	free    chan struct{} // closed when the test ends: every call goes on

	mu                      sync.Mutex
	started, inFlight, most int
}

func (h *heldIssuers) Issuer(name string) (plugin.Issuer, error) {
	iss, err := h.inner.Issuer(name)
	return heldIssuer{Issuer: iss, h: h}, err
}

// running returns the calls started so far, those in flight now and the
// most ever in flight at once.
func (h *heldIssuers) running() (started, now, most int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.started, h.inFlight, h.most
}

type heldIssuer struct {
	plugin.Issuer
	h *heldIssuers
}

func (i heldIssuer) IssueCertificate(ctx context.Context, req plugin.IssueRequest) (plugin.IssueResult, error) {
	i.h.mu.Lock()
	i.h.started++
	i.h.inFlight++
	i.h.most = max(i.h.most, i.h.inFlight)
	i.h.mu.Unlock()
	defer func() {
		i.h.mu.Lock()
		i.h.inFlight--
		i.h.mu.Unlock()
	}()
	select {
	case <-i.h.release:
	case <-i.h.free:
	case <-ctx.Done():
		return plugin.IssueResult{}, &plugin.Error{Code: plugin.CodeCanceled, Message: "plugin call canceled"}
	}
	return i.Issuer.IssueCertificate(ctx, req)
}

// While jobs are due, every slot of the worker is busy: each time a job
// ends, its slot is filled again at once (the worker's poll is an hour,
// so only being woken by the job's end can do it), never more jobs run
// than it has slots, and the jobs left due are exactly those no slot has
// room for. Checked from the CA's side (the calls in flight) and the
// database's (the jobs still queued), one job let go at a time.
func TestWorkerKeepsEverySlotBusyWhileJobsAreDue(t *testing.T) {
	t.Parallel()
	const slots, total = 4, 11
	held := &heldIssuers{release: make(chan struct{}), free: make(chan struct{})}
	w := newWorld(t, nil, func(inner service.IssuerProvider) service.IssuerProvider { held.inner = inner; return held })
	var ids []uuid.UUID
	for i := range total {
		ids = append(ids, w.cert(t, fmt.Sprintf("busy-%d", i)).ID)
	}
	queued := func() int {
		var n int
		if err := w.env.Pool.QueryRow(context.Background(), `SELECT count(*) FROM jobs WHERE kind = 'issue' AND state = 'queued'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	runWorker(t, w.env.Service.NewWorker(service.WorkerOptions{Concurrency: slots, Poll: anHour}))
	t.Cleanup(func() { close(held.free) }) // before the worker is stopped (cleanups run last first)
	for done := range total {
		want := min(slots, total-done)
		waitUntil(t, fmt.Sprintf("%d issuances in flight after %d ended", want, done), func() bool {
			started, now, _ := held.running()
			return started == done+want && now == want
		})
		if q := queued(); q != total-done-want {
			t.Fatalf("after %d ended, with %d in flight: %d jobs queued, want %d", done, want, q, total-done-want)
		}
		held.release <- struct{}{} // one call goes on to the CA; its job ends and frees its slot
	}
	waitUntil(t, "every certificate issued", func() bool { return w.allActive(t, ids...) })
	if _, _, most := held.running(); most != slots {
		t.Fatalf("at most %d issuances ran at once, want %d (the worker's slots)", most, slots)
	}
}

// barrierIssuers holds issuance calls until n have arrived, then lets
// them all go at once: their completions reach the database together.
type barrierIssuers struct {
	inner   service.IssuerProvider
	arrived chan struct{}
	gate    chan struct{}
}

func (b *barrierIssuers) Issuer(name string) (plugin.Issuer, error) {
	iss, err := b.inner.Issuer(name)
	return barrierIssuer{Issuer: iss, b: b}, err
}

type barrierIssuer struct {
	plugin.Issuer
	b *barrierIssuers
}

func (i barrierIssuer) IssueCertificate(ctx context.Context, req plugin.IssueRequest) (plugin.IssueResult, error) {
	i.b.arrived <- struct{}{}
	select {
	case <-i.b.gate:
	case <-ctx.Done():
		return plugin.IssueResult{}, &plugin.Error{Code: plugin.CodeCanceled, Message: "plugin call canceled"}
	}
	return i.Issuer.IssueCertificate(ctx, req)
}

// Issuances that end together are committed together (a group commit);
// one that cannot complete (its declaration changed while the CA worked)
// takes none of the others down with it: they are issued once each, and
// it alone goes back to be issued again for the new declaration.
func TestIssuancesEndingTogetherCompleteEachOnce(t *testing.T) {
	t.Parallel()
	const n = 8
	bar := &barrierIssuers{arrived: make(chan struct{}, n), gate: make(chan struct{})}
	w := newWorld(t, nil, func(inner service.IssuerProvider) service.IssuerProvider { bar.inner = inner; return bar })
	var certs []core.Certificate
	for i := range n {
		certs = append(certs, w.cert(t, fmt.Sprintf("together-%d", i)))
	}
	worker := w.env.Service.NewWorker(service.WorkerOptions{Concurrency: n, Poll: anHour})
	ran := make(chan error, 1)
	go func() { _, err := worker.RunOnce(context.Background()); ran <- err }()
	for range n {
		select {
		case <-bar.arrived:
		case <-time.After(time.Minute):
			close(bar.gate)
			t.Fatal("not every issuance reached the CA")
		}
	}
	changed := certs[0]
	if _, err := w.env.Service.UpdateCertificate(w.ctx, changed.ID, service.CertificateInput{Name: changed.Name,
		CommonName: "renamed.example.com", SANs: changed.SANs, IssuerID: changed.IssuerID}); err != nil {
		close(bar.gate)
		t.Fatal(err)
	}
	close(bar.gate)
	select {
	case err := <-ran:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the issuances did not end")
	}
	for _, c := range certs[1:] {
		if got, vs := w.get(t, c.ID).Status, w.versions(t, c.ID); got != core.CertActive || len(vs) != 1 {
			t.Errorf("%s: %s with %d versions, want active with one", c.Name, got, len(vs))
		}
	}
	if vs := w.versions(t, changed.ID); len(vs) != 0 {
		t.Errorf("the certificate whose declaration changed has %d versions, want none (issued again)", len(vs))
	}
	js := w.jobs(t, core.JobFilter{CertificateID: &changed.ID, Kind: core.JobIssue})
	if len(js) != 1 || js[0].State != core.JobQueued {
		t.Errorf("its issuance job: %+v, want queued again", js)
	}
}
