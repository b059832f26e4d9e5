// This file holds the Cluster handle: connecting to it, creating databases
// and stopping it.

package pgembed

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"
)

// Options configures Start.
type Options struct {
	// DataDir holds the cluster (see the package documentation for its
	// layout), e.g. <CERTCTL_DATA_DIR>/postgres. It is created if missing.
	DataDir string
	// BinDir holds initdb and postgres; empty means FindBinaries("").
	BinDir string
	// Logger receives postgres' log lines (info, and warn for WARNING and
	// worse) and pgembed's own messages. Nil means slog.Default().
	Logger *slog.Logger
	// Fast trades durability for speed: fsync, synchronous_commit and
	// full_page_writes off, initdb --no-sync. For tests only: a machine crash
	// can corrupt a cluster started with Fast.
	Fast bool
	// Settings are extra server settings passed as -c name=value, e.g.
	// {"max_connections": "200"}. They win over SmallMachineSettings.
	Settings map[string]string

	// restart overrides defaultRestart; tests use it.
	restart *restartPolicy
	// runAs overrides the user the cluster runs as when this process is
	// root; tests use it to exercise the "nobody" fallback.
	runAs string
	// noPdeathsig leaves the postmaster running when this process dies; tests
	// use it to check that Start cleans up after such a leftover.
	noPdeathsig bool
}

// SmallMachineSettings returns the server settings every cluster starts
// with (Options.Settings win over them): an embedded database serves one certctl-server on a small
// machine, so it is sized for that rather than PostgreSQL's defaults. Only
// memory a process touches counts against the machine; these bound what a
// busy day leaves behind.
func SmallMachineSettings() map[string]string {
	return map[string]string{
		// The buffer cache in shared memory (default 128MB). Pages read are
		// kept there for good, so after a while the cluster holds as much of
		// it as the data it touched. The kernel's page cache serves what
		// falls out, and gives its memory back when others need it.
		"shared_buffers": "32MB",
		// WAL buffers follow shared_buffers (a 32nd, 1MB here); said outright
		// so that the figure does not move with a different shared_buffers.
		"wal_buffers": "1MB",
		// What VACUUM, CREATE INDEX and each autovacuum worker may allocate
		// (default 64MB). certctl's tables are small and vacuumed often.
		"maintenance_work_mem": "16MB",
		// Each autovacuum worker is a process of its own while it runs
		// (default 3); on two cores a third only competes with the others.
		"autovacuum_max_workers": "2",
		// The embedded cluster has no replicas and no subscriptions (backups
		// are pg_dump or a copy with the server stopped): no WAL senders, no
		// slots, and no logical replication launcher process.
		"max_wal_senders":                 "0",
		"max_replication_slots":           "0",
		"max_logical_replication_workers": "0",
		// JIT compilation loads LLVM into a backend (tens of MiB) for a query
		// the planner deems expensive, such as a console page over 100,000
		// certificates, and costs more time than it saves on such queries.
		"jit": "off",
	}
}

// restartPolicy says how a postmaster that exits unexpectedly is restarted:
// after delay, doubled at each further exit up to maxDelay, as long as no
// more than limit exits (or failed restarts) fall within window.
type restartPolicy struct {
	delay, maxDelay time.Duration
	limit           int
	window          time.Duration
}

// defaultRestart gives up after the sixth failure within ten minutes, having
// waited 0.5+1+2+4+8 s in between: a database that keeps dying needs an
// operator.
var defaultRestart = restartPolicy{delay: 500 * time.Millisecond, maxDelay: 30 * time.Second, limit: 5, window: 10 * time.Minute}

// superuser is the role initdb creates and ConnString logs in as.
const superuser = "postgres"

// socketPort names the socket file (.s.PGSQL.<port>); there is no TCP.
const socketPort = 5432

// Cluster is a running PostgreSQL cluster started by Start. Its methods are
// safe for concurrent use.
type Cluster struct {
	logger     *slog.Logger
	socketDir  string
	tempSocket bool          // socketDir is a temporary directory that Stop removes
	password   string        // of the superuser
	lock       *os.File      // holds the data directory lock until Stop
	done       chan struct{} // closed when the cluster has stopped for good
	restart    restartPolicy
	relaunch   func(ctx context.Context) (*postmaster, error) // starts a new postmaster
	stopCtx    context.Context                                // ends when Stop begins
	stopCancel context.CancelFunc

	mu       sync.Mutex  // guards the fields below
	proc     *postmaster // the current postmaster
	restarts int         // successful restarts so far
	stopping bool
	exitErr  error

	stopMu  sync.Mutex // serialises Stop
	stopped bool
}

// ConnString returns a URL that pgx (and libpq) accept for connecting to
// database dbname as the superuser over the cluster's Unix socket. An
// application should use the URL that CreateDatabase returns instead.
func (c *Cluster) ConnString(dbname string) string {
	return c.connString(superuser, c.password, dbname)
}

// postmaster is one run of the postgres server process.
type postmaster struct {
	*os.Process
	exited chan struct{} // closed when the process has exited
	err    error         // why it exited; set before exited is closed
}

// Done is closed when the cluster has stopped for good: through Stop, or
// because the postmaster kept exiting unexpectedly and restarting it was
// given up (see Options). A postmaster that exits unexpectedly is otherwise
// restarted in place, running crash recovery, with the same socket and
// roles, so connection URLs stay valid. After Done, Err says why the
// cluster stopped if Stop did not ask it to; call Stop to release the data
// directory.
func (c *Cluster) Done() <-chan struct{} { return c.done }

// current returns the postmaster running now, or the last one.
func (c *Cluster) current() *postmaster {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.proc
}

// isStopping says whether Stop (or a halt) has begun.
func (c *Cluster) isStopping() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopping
}

// Err returns why the cluster stopped if it did so without being asked to
// (by Stop), and nil otherwise.
func (c *Cluster) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exitErr
}

// killGrace is how long an immediate shutdown may take before the
// postmaster is killed outright, when no deadline says otherwise.
const killGrace = 10 * time.Second

// Stop shuts the cluster down and waits for the postmaster to exit. It asks
// for a "fast" shutdown (SIGINT: sessions are ended, a checkpoint is written);
// if that has not ended shortly before ctx's deadline (or when ctx ends, for
// a ctx without one), it asks for an "immediate" one (SIGQUIT, crash
// recovery on the next start) and at last kills the postmaster, so that Stop
// returns by ctx's deadline. Stop releases the data directory and may be
// called more than once; later calls return nil.
func (c *Cluster) Stop(ctx context.Context) error {
	c.stopMu.Lock()
	defer c.stopMu.Unlock()
	if c.stopped {
		return nil
	}
	c.mu.Lock()
	c.stopping = true
	c.stopCancel() // a restart in progress gives up
	pm := c.proc
	c.mu.Unlock()

	// The last part of the time, at most a second, is kept for the
	// immediate shutdown and the kill.
	fast, grace := ctx, killGrace
	if deadline, ok := ctx.Deadline(); ok {
		grace = min(time.Second, time.Until(deadline)/4)
		var cancel context.CancelFunc
		fast, cancel = context.WithDeadline(ctx, deadline.Add(-grace))
		defer cancel()
	}
	var err error
	select {
	case <-c.done:
	default:
		_ = pm.Signal(syscall.SIGINT)
		select {
		case <-c.done:
		case <-fast.Done():
			err = fmt.Errorf("pgembed: stop: %w; postgres was shut down immediately", context.Cause(fast))
			c.halt(c.current(), grace)
			<-c.done
		}
	}
	c.stopped = true
	c.release()
	return err
}

// halt shuts postmaster pm down at once (SIGQUIT, "immediate" mode: the
// next start runs crash recovery), kills it if that takes longer than
// grace, and waits for it to exit.
func (c *Cluster) halt(pm *postmaster, grace time.Duration) {
	_ = pm.Signal(syscall.SIGQUIT)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-pm.exited:
	case <-t.C:
		_ = pm.Kill()
		<-pm.exited
	}
}

// release gives up what the cluster holds besides the process.
func (c *Cluster) release() {
	if c.tempSocket {
		if err := os.RemoveAll(c.socketDir); err != nil {
			c.logger.Warn("pgembed: remove socket directory", "dir", c.socketDir, "err", err)
		}
	}
	if c.lock != nil {
		_ = c.lock.Close() // closing the file releases the flock
	}
}
