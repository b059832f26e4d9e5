//go:build unix

// This file starts a cluster: initdb on first use, then the postmaster as a
// supervised child process.

package pgembed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Start starts the cluster in opts.DataDir, creating it on first use, and
// returns once it accepts connections. ctx bounds the startup only; the
// cluster runs until Stop, or until this process dies.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	began := time.Now()
	if opts.DataDir == "" {
		return nil, errors.New("pgembed: Options.DataDir is empty")
	}
	dir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("pgembed: data directory: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	binDir, err := systemFinder().find(ctx, opts.BinDir)
	if err != nil {
		return nil, err
	}
	acct, err := runAccount(opts.runAs)
	if err != nil {
		return nil, err
	}
	l := newLayout(dir)
	version, err := prepareDataDir(ctx, l, acct, binDir)
	if err != nil {
		return nil, err
	}
	lock, err := lockDataDir(l)
	if err != nil {
		return nil, err
	}
	c, err := startLocked(ctx, l, acct, binDir, opts, logger, lock)
	if err != nil {
		lock.Close()
		return nil, err
	}
	logger.Info("pgembed: PostgreSQL is ready", "version", version, "bin_dir", binDir,
		"data_dir", l.pgdata, "socket_dir", c.socketDir, "user", acct.name, "elapsed", time.Since(began).Round(time.Millisecond))
	return c, nil
}

// startLocked does the part of Start that needs the data directory lock.
func startLocked(ctx context.Context, l layout, a account, binDir string, opts Options, logger *slog.Logger, lock *os.File) (*Cluster, error) {
	if err := stopLeftovers(ctx, l, logger); err != nil {
		return nil, err
	}
	password, err := ensureCluster(ctx, l, a, binDir, opts.Fast, logger)
	if err != nil {
		return nil, err
	}
	if err := fixDataPermissions(l, a); err != nil {
		return nil, fmt.Errorf("pgembed: data directory permissions: %w", err)
	}
	sock, temp, err := socketDir(l, a)
	if err != nil {
		return nil, err
	}
	stopCtx, stopCancel := context.WithCancel(context.Background())
	c := &Cluster{
		logger:     logger,
		socketDir:  sock,
		tempSocket: temp,
		password:   password,
		lock:       lock,
		done:       make(chan struct{}),
		restart:    defaultRestart,
		stopCtx:    stopCtx,
		stopCancel: stopCancel,
	}
	if opts.restart != nil {
		c.restart = *opts.restart
	}
	c.relaunch = func(ctx context.Context) (*postmaster, error) {
		// Backends orphaned by the postmaster's death still hold its
		// shared memory, and a new postmaster would refuse to start.
		if err := stopLeftovers(ctx, l, logger); err != nil {
			return nil, err
		}
		return c.launch(ctx, l, a, binDir, opts)
	}
	pm, err := c.launch(ctx, l, a, binDir, opts)
	if err != nil {
		stopCancel()
		if temp {
			os.RemoveAll(sock)
		}
		return nil, err
	}
	go c.watch(pm)
	return c, nil
}

// restartTimeout bounds one restart: the wait for orphaned backends, then
// crash recovery.
const restartTimeout = 5 * time.Minute

// watch waits for postmaster pm to exit and, unless Stop asked for that,
// starts a new one in its place (the postmaster runs crash recovery), after
// a delay that grows with each failure; it gives up, and records why in Err,
// when failures come too often (see restartPolicy). It closes c.done when
// the cluster has stopped for good.
func (c *Cluster) watch(pm *postmaster) {
	defer close(c.done)
	var failures []time.Time
	var restartErr error // of the last restart, when it failed
	for {
		var cause error
		if pm != nil {
			<-pm.exited
			if c.isStopping() {
				return
			}
			cause = fmt.Errorf("postgres exited unexpectedly: %w", pm.err)
		} else {
			cause = restartErr
		}
		now := time.Now()
		failures = append(slices.DeleteFunc(failures, func(t time.Time) bool { return now.Sub(t) > c.restart.window }), now)
		if len(failures) > c.restart.limit {
			err := fmt.Errorf("pgembed: gave up restarting postgres after %d failures within %s: %w", len(failures), c.restart.window, cause)
			c.logger.Error("pgembed: gave up restarting postgres", "failures", len(failures), "window", c.restart.window, "err", cause)
			c.mu.Lock()
			c.exitErr = err
			c.mu.Unlock()
			return
		}
		delay := min(c.restart.delay<<(len(failures)-1), c.restart.maxDelay)
		c.logger.Error("pgembed: postgres failed; restarting it", "err", cause, "in", delay, "failures", len(failures), "window", c.restart.window)
		select {
		case <-c.stopCtx.Done():
			return
		case <-time.After(delay):
		}
		ctx, cancel := context.WithTimeout(c.stopCtx, restartTimeout)
		began := time.Now()
		next, err := c.relaunch(ctx)
		cancel()
		if c.isStopping() {
			if next != nil {
				c.halt(next, killGrace)
			}
			return
		}
		if err != nil {
			restartErr, pm = fmt.Errorf("restart failed: %w", err), nil
			continue
		}
		c.logger.Info("pgembed: postgres restarted after crash recovery", "pid", next.Pid, "elapsed", time.Since(began).Round(time.Millisecond))
		c.mu.Lock()
		c.restarts++
		c.mu.Unlock()
		pm = next
	}
}

// ensureCluster runs initdb unless the cluster exists, and returns the
// superuser's password. initdb works in a scratch directory that is renamed
// into place only when complete, so an interrupted initdb is simply redone.
func ensureCluster(ctx context.Context, l layout, a account, binDir string, fast bool, logger *slog.Logger) (string, error) {
	if _, err := os.Stat(filepath.Join(l.pgdata, "PG_VERSION")); err == nil {
		b, err := os.ReadFile(l.passwordFile)
		if err != nil {
			return "", fmt.Errorf("pgembed: read the superuser password, without which the cluster in %s cannot be reached: %w", l.pgdata, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if entries, err := os.ReadDir(l.pgdata); err == nil && len(entries) > 0 {
		return "", fmt.Errorf("pgembed: %s is not empty but holds no PostgreSQL cluster (no PG_VERSION); move it away", l.pgdata)
	}
	_ = os.Remove(l.pgdata) // an empty directory, if any
	if err := os.RemoveAll(l.initTemp); err != nil {
		return "", fmt.Errorf("pgembed: initdb: remove an interrupted attempt: %w", err)
	}

	password := newPassword()
	pwFile := filepath.Join(l.dir, "initdb-password") // initdb reads it as the cluster's user
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("pgembed: initdb: %w", err)
	}
	defer os.Remove(pwFile)
	if err := a.own(pwFile); err != nil {
		return "", fmt.Errorf("pgembed: initdb: %w", err)
	}

	args := []string{"-D", l.initTemp, "-U", superuser, "-E", "UTF8", "--locale=C",
		"--auth=scram-sha-256", "--pwfile=" + pwFile}
	if fast {
		args = append(args, "--no-sync")
	}
	began := time.Now()
	cmd := a.command(ctx, l.dir, filepath.Join(binDir, "initdb"), args...)
	setParentDeathSignal(cmd.SysProcAttr, syscall.SIGKILL)
	// The parent-death signal follows the starting thread (see supervise).
	// Locked to this goroutine, that thread cannot meanwhile be taken over,
	// and then ended, by another cluster's supervise goroutine.
	runtime.LockOSThread()
	out, err := cmd.CombinedOutput()
	runtime.UnlockOSThread()
	if err != nil {
		_ = os.RemoveAll(l.initTemp)
		if ctx.Err() != nil {
			err = context.Cause(ctx) // it was killed for that
		}
		return "", fmt.Errorf("pgembed: initdb: %w%s", err, outputTail(out))
	}
	if err := writeFileAtomic(l.passwordFile, []byte(password+"\n")); err != nil {
		return "", fmt.Errorf("pgembed: save the superuser password: %w", err)
	}
	if err := os.Rename(l.initTemp, l.pgdata); err != nil {
		return "", fmt.Errorf("pgembed: initdb: %w", err)
	}
	if err := syncDir(l.dir); err != nil {
		return "", fmt.Errorf("pgembed: initdb: %w", err)
	}
	logger.Info("pgembed: created a new PostgreSQL cluster", "data_dir", l.pgdata, "elapsed", time.Since(began).Round(time.Millisecond))
	return password, nil
}

// launch starts a postmaster, makes it the current one, and waits until it
// accepts connections.
func (c *Cluster) launch(ctx context.Context, l layout, a account, binDir string, opts Options) (*postmaster, error) {
	args := []string{"-D", l.pgdata,
		"-c", "listen_addresses=",
		"-c", "port=" + strconv.Itoa(socketPort),
		"-c", "unix_socket_directories=" + c.socketDir,
		"-c", "unix_socket_permissions=0700",
		"-c", "logging_collector=off",
		"-c", "log_destination=stderr",
		"-c", "log_line_prefix=",
		"-c", "cluster_name=certctl",
	}
	if opts.Fast {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	settings := SmallMachineSettings()
	maps.Copy(settings, opts.Settings)
	for _, name := range slices.Sorted(maps.Keys(settings)) {
		args = append(args, "-c", name+"="+settings[name])
	}
	// The postmaster outlives ctx, which bounds the startup only.
	cmd := a.command(context.Background(), l.dir, filepath.Join(binDir, "postgres"), args...)
	// Its own process group keeps a terminal's Ctrl-C away from it: the
	// server decides when the database stops.
	cmd.SysProcAttr.Setpgid = true
	if !opts.noPdeathsig {
		// SIGINT: a fast, clean shutdown if this process dies.
		setParentDeathSignal(cmd.SysProcAttr, syscall.SIGINT)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("pgembed: start postgres: %w", err)
	}
	cmd.Stderr = w // stdout stays /dev/null: postgres logs to stderr

	pm := &postmaster{exited: make(chan struct{})}
	started := make(chan error, 1)
	go supervise(cmd, pm, started)
	err = <-started
	w.Close()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("pgembed: start postgres: %w", err)
	}
	pm.Process = cmd.Process
	c.mu.Lock()
	c.proc = pm
	c.mu.Unlock()
	out := &tail{}
	logsDone := make(chan struct{})
	go func() {
		defer close(logsDone)
		forwardLogs(r, c.logger, out, c.isStopping)
	}()
	if err := c.waitReady(ctx, l, pm, out, logsDone); err != nil {
		c.halt(pm, killGrace)
		return nil, err
	}
	return pm, nil
}

// supervise starts cmd, reports the outcome on started, then waits for the
// postmaster to exit and records why in pm.
func supervise(cmd *exec.Cmd, pm *postmaster, started chan<- error) {
	// The parent-death signal fires when the thread that started the child
	// exits, not the process (go.dev/issue/27505). Locked and never
	// unlocked, this goroutine keeps its thread for as long as the
	// postmaster runs; the runtime ends the thread when the goroutine
	// returns, after the postmaster has exited.
	runtime.LockOSThread()
	if err := cmd.Start(); err != nil {
		started <- err
		return
	}
	started <- nil
	err := cmd.Wait()
	if err == nil {
		err = errors.New("exit status 0")
	}
	pm.err = err
	close(pm.exited)
}

// waitReady waits until the postmaster reports "ready" in postmaster.pid and
// a connection succeeds. Polling the file first keeps "the database system
// is starting up" out of the log.
func (c *Cluster) waitReady(ctx context.Context, l layout, pm *postmaster, out *tail, logsDone <-chan struct{}) error {
	cfg, err := pgx.ParseConfig(c.ConnString("postgres"))
	if err != nil {
		return fmt.Errorf("pgembed: %w", err)
	}
	cfg.ConnectTimeout = 5 * time.Second
	pidFile := filepath.Join(l.pgdata, "postmaster.pid")
	delay := 5 * time.Millisecond
	var lastErr error
	for {
		if postmasterReady(pidFile, pm.Pid) {
			conn, err := pgx.ConnectConfig(ctx, cfg)
			if err == nil {
				conn.Close(ctx)
				return nil
			}
			lastErr = err
		}
		select {
		case <-pm.exited:
			select {
			case <-logsDone:
			case <-time.After(2 * time.Second):
			}
			return fmt.Errorf("pgembed: postgres exited during startup (%v)%s", pm.err, out)
		case <-ctx.Done():
			if lastErr == nil {
				lastErr = errors.New("not ready")
			}
			return fmt.Errorf("pgembed: wait for postgres to accept connections: %w (last attempt: %v)%s", context.Cause(ctx), lastErr, out)
		case <-time.After(delay):
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// postmasterReady reports whether pidFile was written by process pid and
// says it accepts connections (PostgreSQL 10 and later write a status on
// the eighth line).
func postmasterReady(pidFile string, pid int) bool {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return false
	}
	lines := strings.Split(string(b), "\n")
	return len(lines) >= 8 && strings.TrimSpace(lines[0]) == strconv.Itoa(pid) && strings.TrimSpace(lines[7]) == "ready"
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
