package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/certctl/certctl/server/core"
)

// QWithin returns queries on one connection of the pool, which the caller
// gives back with release. It waits at most d for the connection: a pool
// that has none free for that long is overloaded, and the caller is better
// answered "unavailable" (which tells the client to come back) than queued
// behind everyone else. The queries themselves run under ctx alone.
func (s *Store) QWithin(ctx context.Context, d time.Duration) (q *Queries, release func(), err error) {
	actx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	conn, err := s.pool.Acquire(actx)
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, nil, core.Errorf(core.EUNAVAILABLE, "the server is busy (no database connection free within %s); retry later", d)
		}
		return nil, nil, fmt.Errorf("store: acquire a connection: %w", err)
	}
	return &Queries{db: conn}, conn.Release, nil
}
