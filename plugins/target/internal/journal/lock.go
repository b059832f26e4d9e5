package journal

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// lockRetry is how often Lock tries again while another process holds
// the lock.
const lockRetry = 50 * time.Millisecond

// Lock takes the lock of the journal at path, shared by every process on
// the machine, waiting until it is free or ctx ends; the returned function
// releases it. A plugin's own calls are serialised in memory already (see
// keylock); this lock is for two processes of one plugin at once (an old
// one finishing a call while a new one, after an upgrade, takes the next):
// the new one must not recover a journal the old one is still writing.
// The kernel releases the lock of a process that dies, which is what lets
// the next one recover.
//
// The lock is a flock on the journal's directory, so that it leaves no
// file behind (a lock file could not be removed safely while another
// process waits on it); deployments whose journals share a directory
// take turns.
func Lock(ctx context.Context, path string) (unlock func(), err error) {
	dir := filepath.Dir(path)
	for {
		// One open per attempt: flock belongs to the open file, so two
		// calls in one process exclude each other as two processes do.
		f, err := os.Open(dir)
		if err != nil {
			return nil, fmt.Errorf("journal lock: %w", err)
		}
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("journal lock on %s: %w", dir, err)
		}
		if ok {
			return func() { f.Close() }, nil // closing releases the lock
		}
		f.Close()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(lockRetry):
		}
	}
}
