// Package keylock serialises a target plugin's concurrent deployments
// that touch the same thing (a file path, an F5 profile, an IIS binding):
// one process serves every call, and two deployments to one place must not
// interleave their writes and rollbacks.
package keylock

import (
	"context"
	"slices"
	"sync"
)

// Locks is a set of named locks; the zero value is ready to use. A lock
// exists from its first use for the life of the process (a plugin deploys
// to a bounded set of places).
type Locks struct {
	mu    sync.Mutex
	locks map[string]chan struct{}
}

// Lock takes the locks of every key, waiting until they are free or ctx
// ends. Keys are taken in sorted order without repeats, so two calls with
// overlapping keys cannot deadlock. The returned function releases them.
func (l *Locks) Lock(ctx context.Context, keys ...string) (unlock func(), err error) {
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	var held []chan struct{}
	unlock = func() {
		for _, ch := range held {
			<-ch
		}
	}
	for _, k := range keys {
		ch := l.lockOf(k)
		select {
		case ch <- struct{}{}:
			held = append(held, ch)
		case <-ctx.Done():
			unlock()
			return nil, ctx.Err()
		}
	}
	return unlock, nil
}

func (l *Locks) lockOf(key string) chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.locks == nil {
		l.locks = map[string]chan struct{}{}
	}
	ch, ok := l.locks[key]
	if !ok {
		ch = make(chan struct{}, 1)
		l.locks[key] = ch
	}
	return ch
}
