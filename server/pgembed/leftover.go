//go:build unix

// This file cleans up after an earlier run whose supervisor died: a postgres
// still serving the data directory, or a postmaster.pid that would stop a
// new one from starting.

package pgembed

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// How long a leftover postgres gets to finish a fast shutdown (SIGINT), then
// an immediate one (SIGQUIT), before it is killed.
const (
	leftoverFastWait = 30 * time.Second
	leftoverQuitWait = 10 * time.Second
)

var errNoProcessTable = errors.New("pgembed: cannot list processes on this system")

// stopLeftovers makes sure that no postgres from an earlier run serves
// l.pgdata and that postmaster.pid does not name an unrelated process. The
// caller holds the data directory lock, so no live Cluster owns such a
// postgres: its supervisor died.
func stopLeftovers(ctx context.Context, l layout, logger *slog.Logger) error {
	pidFile := filepath.Join(l.pgdata, "postmaster.pid")
	pid := readPostmasterPID(pidFile)
	procs, err := clusterProcesses(l.pgdata)
	if errors.Is(err, errNoProcessTable) {
		if pid != 0 && processAlive(pid) {
			return fmt.Errorf("pgembed: %s names process %d, which is still running; "+
				"if it is a postgres left by an earlier run stop it (kill -INT %d), otherwise remove the file", pidFile, pid, pid)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("pgembed: look for a leftover postgres: %w", err)
	}
	if len(procs) == 0 {
		// Postgres itself ignores a postmaster.pid whose process is gone,
		// but refuses to start while its process id is in use by anyone.
		if pid != 0 && processAlive(pid) {
			logger.Warn("pgembed: removing a postmaster.pid that names an unrelated process", "pid", pid, "file", pidFile)
			if err := os.Remove(pidFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("pgembed: remove stale postmaster.pid: %w", err)
			}
		}
		return nil
	}

	logger.Warn("pgembed: stopping a postgres left running by an earlier run", "pids", pidsOf(procs), "data_dir", l.pgdata)
	signalRoots(procs, syscall.SIGINT)
	started := time.Now()
	quitSent, killSent := false, false
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgembed: wait for the leftover postgres (pids %v) to exit: %w", pidsOf(procs), context.Cause(ctx))
		case <-ticker.C:
		}
		if procs, err = clusterProcesses(l.pgdata); err != nil {
			return fmt.Errorf("pgembed: look for a leftover postgres: %w", err)
		}
		if len(procs) == 0 {
			return nil
		}
		switch elapsed := time.Since(started); {
		case !killSent && elapsed > leftoverFastWait+leftoverQuitWait:
			for _, p := range procs {
				_ = syscall.Kill(p.pid, syscall.SIGKILL)
			}
			killSent = true
		case !quitSent && elapsed > leftoverFastWait:
			signalRoots(procs, syscall.SIGQUIT)
			quitSent = true
		}
	}
}

// readPostmasterPID returns the process id on the first line of a
// postmaster.pid file, or 0.
func readPostmasterPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}

// signalRoots signals the processes whose parent is not among procs: the
// postmaster, or backends orphaned by its death. A backend treats SIGINT and
// SIGQUIT as "cancel" and "quit".
func signalRoots(procs []procInfo, sig syscall.Signal) {
	in := make(map[int]bool, len(procs))
	for _, p := range procs {
		in[p.pid] = true
	}
	for _, p := range procs {
		if !in[p.ppid] {
			_ = syscall.Kill(p.pid, sig)
		}
	}
}

func pidsOf(procs []procInfo) []int {
	pids := make([]int, len(procs))
	for i, p := range procs {
		pids[i] = p.pid
	}
	return pids
}
