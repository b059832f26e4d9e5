package service

import (
	"context"
	"sync"

	"github.com/certctl/certctl/server/store"
)

// maxCompletionGroup bounds how many issuances one transaction completes.
const maxCompletionGroup = 64

// completionWriters is how many groups commit at once. More than one, so
// that the database works on a group while another waits for its flush,
// and so that completions are not bound to one database backend's core.
const completionWriters = 4

// completionGroup commits the completions of issuances that end at about
// the same time together: one transaction and one round trip for all of
// them (a group commit), instead of a transaction, its round trips and a
// commit each. While completionWriters groups commit, the completions that
// arrive queue for the next. Each caller still returns only once its own completion is
// committed (or failed), so a job's result is durable before its worker
// moves on, and a server that dies mid-group leaves every job of the group
// unfinished, to run again like any job whose server died.
type completionGroup struct {
	mu      sync.Mutex
	queue   []*pendingCompletion
	writers int // goroutines committing groups until the queue is empty
}

type pendingCompletion struct {
	c   store.IssuanceCompletion
	err chan error
}

// completeIssuanceGrouped commits c with whatever other completions are
// waiting, and returns c's own outcome.
func (s *Service) completeIssuanceGrouped(ctx context.Context, c store.IssuanceCompletion) error {
	p := &pendingCompletion{c: c, err: make(chan error, 1)}
	g := &s.completions
	g.mu.Lock()
	g.queue = append(g.queue, p)
	if g.writers < completionWriters {
		g.writers++
		go s.writeCompletions(context.WithoutCancel(ctx))
	}
	g.mu.Unlock()
	return <-p.err
}

// writeCompletions commits queued completions, a group at a time, until
// none is left.
func (s *Service) writeCompletions(ctx context.Context) {
	g := &s.completions
	for {
		g.mu.Lock()
		n := min(len(g.queue), maxCompletionGroup)
		if n == 0 {
			g.writers--
			g.mu.Unlock()
			return
		}
		group := append([]*pendingCompletion(nil), g.queue[:n]...)
		g.queue = g.queue[n:]
		g.mu.Unlock()
		s.commitCompletions(ctx, group)
	}
}

// commitCompletions commits a group in one transaction. When that fails
// (one job lost its lease, one certificate's declaration changed, ...),
// nothing of it was written, and each completion is committed on its own,
// so that one job's outcome never becomes another's.
func (s *Service) commitCompletions(ctx context.Context, group []*pendingCompletion) {
	if len(group) > 1 {
		cs := make([]store.IssuanceCompletion, len(group))
		for i, p := range group {
			cs[i] = p.c
		}
		err := s.store.InTx(ctx, func(q *store.Queries) error { return q.CompleteIssuances(ctx, cs) })
		if err == nil {
			for _, p := range group {
				p.err <- nil
			}
			return
		}
	}
	for _, p := range group {
		p.err <- s.store.InTx(ctx, func(q *store.Queries) error { return q.CompleteIssuance(ctx, p.c) })
	}
}
