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
	// Poll is the longest a worker waits before it looks for due jobs
	// again; default 500ms. It is a fallback: a worker is woken at once
	// when one of its jobs ends (a slot frees) and when a job becomes due
	// in the database (the server_jobs notification), so the poll matters
	// only for retries whose time comes and notifications lost while the
	// database connection was down.
	Poll time.Duration
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

	// wake holds one pending request to look for jobs now.
	wake chan struct{}
	// abandoned ends the jobs in flight (see Abandon).
	abandoned context.Context
	abandon   context.CancelFunc
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
	abandoned, abandon := context.WithCancel(context.Background())
	return &Worker{s: s, o: o, running: map[uuid.UUID]struct{}{}, wake: make(chan struct{}, 1),
		abandoned: abandoned, abandon: abandon}
}

// serverJobsChannel is where the database announces server jobs that
// became due (migration 00004).
const serverJobsChannel = "server_jobs"

// Wake makes the worker look for due jobs now rather than at its next poll.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default: // a wake is pending already: one claim serves both
	}
}

// Abandon gives up the jobs in flight of a worker whose Run context has
// ended, when the server cannot wait for them any longer (its shutdown
// deadline): their contexts are cancelled, which cuts off a plugin call
// that hangs, and each job goes back to the queue with its attempt not
// counted, to run again on this server's next start or on another server.
func (w *Worker) Abandon() { w.abandon() }

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
// claims more as soon as a slot frees or a job becomes due, and renews the
// leases of running jobs. Jobs claimed before ctx ends run to their end (or
// until Abandon); on return none of them is still running.
func (w *Worker) Run(ctx context.Context) {
	slots := make(chan struct{}, w.o.Concurrency)
	var wg sync.WaitGroup // jobs and the listener
	stopBeat := make(chan struct{})
	go w.heartbeat(stopBeat)
	wg.Add(1)
	go func() { defer wg.Done(); w.listen(ctx) }()

	// A job, once claimed, runs to its end even when the server is
	// shutting down; its result is kept if it finishes in time. Abandon
	// cancels it.
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	stopAbandon := context.AfterFunc(w.abandoned, cancelJobs)
	defer func() {
		wg.Wait()
		stopAbandon()
		cancelJobs()
		close(stopBeat) // only now: leases are renewed until the last job ends
	}()

	poll := time.NewTimer(w.o.Poll)
	defer poll.Stop()
	for ctx.Err() == nil {
		free := w.o.Concurrency - len(slots)
		var jobs []core.Job
		if free > 0 {
			var err error
			jobs, err = w.s.store.Q().ClaimJobs(ctx, w.o.Owner, serverJobKinds, w.s.clock(), w.o.Lease, free)
			if err != nil && ctx.Err() == nil {
				w.s.logger.Warn("claim jobs", "err", err)
				// Database trouble: wait a whole poll, whatever wakes us.
				sleep(ctx, w.o.Poll)
				continue
			}
		}
		for _, j := range jobs {
			slots <- struct{}{}
			w.track(j.ID, true)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots; w.track(j.ID, false); w.Wake() }()
				w.s.runJob(jobCtx, w.o.Owner, j)
			}()
		}
		if len(jobs) == free && free > 0 {
			continue // there may be more due right now
		}
		// All slots busy, or nothing due: wait until a job ends, a job
		// becomes due, or the poll.
		if !poll.Stop() {
			select {
			case <-poll.C:
			default:
			}
		}
		poll.Reset(w.o.Poll)
		select {
		case <-ctx.Done():
		case <-w.wake:
		case <-poll.C:
		}
	}
}

// listen wakes the worker on the database's server_jobs notifications
// until ctx ends, reconnecting after failures.
func (w *Worker) listen(ctx context.Context) {
	for ctx.Err() == nil {
		err := w.s.store.Listen(ctx, serverJobsChannel, func(string) { w.Wake() })
		if ctx.Err() != nil {
			return
		}
		w.s.logger.Warn("job notifications interrupted; reconnecting", "err", err)
		sleep(ctx, time.Second)
		w.Wake() // what was announced while disconnected is lost: look now
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
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
