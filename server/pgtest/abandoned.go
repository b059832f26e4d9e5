//go:build unix

// This file removes the clusters of test binaries that were killed before
// Main could clean up (Ctrl-C, go test -timeout), so that they do not pile
// up in the temporary directory.

package pgtest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

const (
	dirPrefix = "certctl-pgtest-" // of the directory holding a test binary's cluster
	lockName  = "pgtest.lock"     // held by the test binary that uses the directory
)

// claim locks dir for this process until the returned file is closed or the
// process dies. The lock file gets its name only once it is locked, so
// removeAbandoned never sees it unlocked while its owner lives.
func claim(dir string) (*os.File, error) {
	f, err := os.CreateTemp(dir, lockName+".*")
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, lockName)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// removeAbandoned deletes the cluster directories in tmp whose lock nobody
// holds. A directory without a lock is left alone for a minute, the time
// its creator takes to claim it.
func removeAbandoned(tmp string) {
	dirs, _ := filepath.Glob(filepath.Join(tmp, dirPrefix+"*"))
	for _, dir := range dirs {
		f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			if fi, err := os.Stat(dir); err == nil && time.Since(fi.ModTime()) > time.Minute {
				_ = os.RemoveAll(dir)
			}
			continue
		}
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			_ = os.RemoveAll(dir) // its owner died
		}
		f.Close()
	}
}
