package journal

import (
	"context"
	"fmt"
	"os"
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
// the next one recover. The lock file stays, empty.
func Lock(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal lock: %w", err)
	}
	for {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("journal lock %s: %w", f.Name(), err)
		}
		if ok {
			return func() { f.Close() }, nil // closing releases the lock
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(lockRetry):
		}
	}
}
