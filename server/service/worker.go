package service

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
)

// WorkerOptions tune a Worker.
type WorkerOptions struct {
	Owner       string        // identifies this process in job leases (host:pid:random)
	Concurrency int           // jobs run at once; default 8
	Lease       time.Duration // how long a claim lasts without renewal; default 60s
	Poll        time.Duration // wait when no job is due; default 500ms
}

// Worker runs the server's jobs: issuance, renewal, revocation and
// notification delivery. Several workers (in one or many servers) share
// the queue safely: claims use SKIP LOCKED, and a worker extends the
// leases of the jobs it runs so that only those of a dead worker expire.
type Worker struct {
	s *Service
	o WorkerOptions

	mu      sync.Mutex
	running map[uuid.UUID]struct{}
}

// serverJobKinds are the kinds server workers run; deploy jobs belong to agents.
var serverJobKinds = []string{core.JobIssue, core.JobRenew, core.JobRevoke, core.JobNotify}

// NewWorker returns a worker for the service's jobs.
func (s *Service) NewWorker(o WorkerOptions) *Worker {
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Lease <= 0 {
		o.Lease = 60 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.Owner == "" {
		o.Owner = "worker-" + newID().String()
	}
	return &Worker{s: s, o: o, running: map[uuid.UUID]struct{}{}}
}

// RunOnce claims the jobs due now (up to Concurrency) and runs them to the
// end; it returns how many it ran. Tests drive the queue with it.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	jobs, err := w.s.store.Q().ClaimJobs(ctx, w.o.Owner, serverJobKinds, w.s.clock(), w.o.Lease, w.o.Concurrency)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.s.runJob(ctx, w.o.Owner, j)
		}()
	}
	wg.Wait()
	return len(jobs), nil
}

// Run works until ctx ends: it keeps up to Concurrency jobs running,
// claims more as slots free up, and renews the leases of running jobs. On
// return no job it claimed is still running.
func (w *Worker) Run(ctx context.Context) {
	slots := make(chan struct{}, w.o.Concurrency)
	var wg sync.WaitGroup
	stopBeat := make(chan struct{})
	go w.heartbeat(stopBeat)
	defer close(stopBeat) // after the wait below: leases are renewed until the last job ends
	defer wg.Wait()
	for ctx.Err() == nil {
		free := w.o.Concurrency - len(slots)
		var jobs []core.Job
		if free > 0 {
			var err error
			jobs, err = w.s.store.Q().ClaimJobs(ctx, w.o.Owner, serverJobKinds, w.s.clock(), w.o.Lease, free)
			if err != nil && ctx.Err() == nil {
				w.s.logger.Warn("claim jobs", "err", err)
			}
		}
		for _, j := range jobs {
			slots <- struct{}{}
			w.track(j.ID, true)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots; w.track(j.ID, false) }()
				// A job, once claimed, runs to its end even when the server
				// is shutting down; its result is kept if it finishes in time.
				w.s.runJob(context.WithoutCancel(ctx), w.o.Owner, j)
			}()
		}
		if len(jobs) == free && free > 0 {
			continue // there may be more due right now
		}
		select {
		case <-ctx.Done():
		case <-time.After(w.o.Poll):
		}
	}
}

func (w *Worker) track(id uuid.UUID, on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if on {
		w.running[id] = struct{}{}
	} else {
		delete(w.running, id)
	}
}

// heartbeat renews the leases of running jobs every third of a lease.
func (w *Worker) heartbeat(stop <-chan struct{}) {
	t := time.NewTicker(w.o.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		w.mu.Lock()
		ids := make([]uuid.UUID, 0, len(w.running))
		for id := range w.running {
			ids = append(ids, id)
		}
		w.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), w.o.Lease/3)
		if _, err := w.s.store.Q().ExtendLeases(ctx, w.o.Owner, ids, w.s.clock().Add(w.o.Lease)); err != nil {
			w.s.logger.Warn("extend job leases", "err", err)
		}
		cancel()
	}
}
