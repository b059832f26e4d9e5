package app

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certctl/certctl/server/service"
)

// Shutdown never takes longer than --shutdown-timeout, whatever a client,
// a job or a plugin is doing. The timeout is split in two:
//
//   - the work phase, all of it but a reserve: requests and jobs in flight
//     may finish (long polls answer at once: there is nothing to wait for);
//   - the reserve (a quarter of the timeout, at most 5 s): requests still
//     running are cut off, jobs still running are abandoned (their plugin
//     calls cancelled, the jobs given back to the queue), then the plugin
//     processes stop (killed if they must be), the database pool closes and
//     the embedded cluster stops (immediately if a fast shutdown does not
//     fit).
func shutdownReserve(timeout time.Duration) time.Duration {
	return min(timeout/4, 5*time.Second)
}

// endWaitsOnShutdown ends the wait of requests that asked to wait
// (?wait=: an agent's long poll for work, a read waiting for a job or a
// certificate to settle) when stopping ends: they answer at once with what
// there is, instead of holding the shutdown for up to a minute. Other
// requests keep their context and may finish.
func endWaitsOnShutdown(h http.Handler, stopping context.Context) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !r.URL.Query().Has("wait") {
			h.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		stop := context.AfterFunc(stopping, cancel)
		defer stop()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// engine is the lifecycle engine of a server: the agent hub, and with
// workers, the worker and the scheduler.
type engine struct {
	stop   context.CancelFunc
	worker *service.Worker // nil when the server runs no workers
	wg     sync.WaitGroup
	once   sync.Once
}

func startEngine(ctx context.Context, svc *service.Service, hub *service.AgentHub, cfg Config) *engine {
	ctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	e := &engine{stop: stop}
	e.wg.Add(1)
	go func() { defer e.wg.Done(); svc.RunAgentHub(ctx, hub) }()
	e.wg.Add(1)
	go func() { defer e.wg.Done(); svc.RunHeartbeats(ctx, 0) }() // agents' heartbeats written in batches
	if cfg.Workers > 0 {
		e.worker = svc.NewWorker(service.WorkerOptions{Concurrency: cfg.Workers, Owner: workerOwner(), Lease: cfg.JobLease})
		e.wg.Add(2)
		go func() { defer e.wg.Done(); e.worker.Run(ctx) }()
		go func() {
			defer e.wg.Done()
			svc.RunScheduler(ctx, service.SchedulerOptions{Interval: cfg.SchedulerInterval})
		}()
		// Bulk operations (a re-issue of many certificates) keep four jobs
		// per worker slot outstanding: enough to keep the workers busy,
		// few enough that the scheduler's renewals still get their turn.
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			svc.RunOperations(ctx, service.OperationRunnerOptions{Owner: workerOwner(), Outstanding: 4 * cfg.Workers})
		}()
	}
	return e
}

// shutdown stops the engine: no more claims at once; jobs in flight may
// run until workEnd, then they are abandoned (and given back to the
// queue). It waits for all that until giveUp at the latest and reports
// whether everything ended. Only the first call does anything.
func (e *engine) shutdown(logger *slog.Logger, workEnd, giveUp time.Time) bool {
	ended := true
	e.once.Do(func() {
		e.stop()
		done := make(chan struct{})
		go func() { e.wg.Wait(); close(done) }()
		work := time.NewTimer(time.Until(workEnd))
		defer work.Stop()
		select {
		case <-done:
			return
		case <-work.C:
		}
		if e.worker != nil {
			logger.Warn("jobs still running at the shutdown deadline are cut off and queued again")
			e.worker.Abandon()
		}
		last := time.NewTimer(time.Until(giveUp))
		defer last.Stop()
		select {
		case <-done:
		case <-last.C:
			logger.Error("the lifecycle engine did not stop in time; its jobs will be requeued when their leases expire")
			ended = false
		}
	})
	return ended
}

// shutdownPlan is when each step of a shutdown must be done. Steps
// usually take far less than their share; each then leaves its time to
// the next.
type shutdownPlan struct {
	workEnd    time.Time // requests cut off, jobs abandoned
	engineEnd  time.Time // abandoned jobs given back
	pluginsEnd time.Time // plugin processes gone
	poolEnd    time.Time // database connections closed
	end        time.Time // the embedded cluster stopped: Run returns
}

func planShutdown(start time.Time, timeout time.Duration) shutdownPlan {
	end := start.Add(timeout)
	r := shutdownReserve(timeout)
	return shutdownPlan{workEnd: end.Add(-r), engineEnd: end.Add(-r * 3 / 4), pluginsEnd: end.Add(-r / 2),
		poolEnd: end.Add(-r / 4), end: end}
}

// step returns a context for a shutdown step that must be done by until.
// Without a plan (Run failed before it served) the step gets fallback.
func (p shutdownPlan) step(ctx context.Context, until time.Time, fallback time.Duration) (context.Context, context.CancelFunc) {
	ctx = context.WithoutCancel(ctx)
	if p.end.IsZero() {
		return context.WithTimeout(ctx, fallback)
	}
	return context.WithDeadline(ctx, until)
}

// closePool closes the database pool, waiting for connections in use
// until ctx ends at the latest (pgxpool's Close waits for all of them).
func closePool(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) {
	done := make(chan struct{})
	go func() { pool.Close(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		logger.Warn("database connections still in use at the shutdown deadline; leaving them")
	}
}
