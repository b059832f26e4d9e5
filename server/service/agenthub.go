package service

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"
)

// AgentHub wakes long polls by id: agents' polls for work, and reads that
// wait for a job or a certificate to settle (?wait=). The database
// announces ids on the agent_work channel from triggers on jobs: an
// agent's id when work for it appears (migration 00002), a job's id and
// its certificate's id when the job ends (00005). Ids are UUIDs, so the
// three never collide, and a poll held by this server wakes whichever
// server made the change.
type AgentHub struct {
	mu sync.Mutex
	// waiters of each id; most ids have one (an agent's poll), so a slice
	// costs less than a set. A waiter is a pointer so that stop finds its own.
	waiters map[uuid.UUID][]*hubWaiter
}

// hubWaiter is one subscription: wake is called, under the hub's lock, on
// every notification of its id, so it must not block nor call the hub.
type hubWaiter struct {
	wake func()
}

// NewAgentHub returns an empty hub.
func NewAgentHub() *AgentHub {
	return &AgentHub{waiters: map[uuid.UUID][]*hubWaiter{}}
}

// Subscribe returns a channel that receives when work for agent may have
// arrived, and a function to stop.
func (h *AgentHub) Subscribe(agent uuid.UUID) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	return ch, h.SubscribeFunc(agent, func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	})
}

// SubscribeFunc calls wake whenever work for agent may have arrived, until
// the returned stop is called: a parked long poll (WorkWait) needs no
// goroutine of its own to be woken. wake runs under the hub's lock: it
// must return at once and must not call the hub.
func (h *AgentHub) SubscribeFunc(agent uuid.UUID, wake func()) (stop func()) {
	w := &hubWaiter{wake: wake}
	h.mu.Lock()
	h.waiters[agent] = append(h.waiters[agent], w)
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		ws := h.waiters[agent]
		for i, x := range ws {
			if x == w {
				ws[i] = ws[len(ws)-1]
				ws[len(ws)-1] = nil
				ws = ws[:len(ws)-1]
				break
			}
		}
		if len(ws) == 0 {
			delete(h.waiters, agent)
		} else {
			h.waiters[agent] = ws
		}
	}
}

// Notify wakes the polls of agent.
func (h *AgentHub) Notify(agent uuid.UUID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, w := range h.waiters[agent] {
		w.wake()
	}
}

// NotifyAll wakes every poll: when notifications may have been missed.
func (h *AgentHub) NotifyAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ws := range h.waiters {
		for _, w := range ws {
			w.wake()
		}
	}
}

// RunAgentHub feeds the hub from the database's agent_work notifications
// until ctx ends, reconnecting after failures. One connection per server
// listens for all its polls, and for revocations of agent credentials,
// which it drops from the server's cache. Each time it starts listening it wakes every
// poll, since what was announced while it was not listening is lost: the
// polls look again, so that no work waits for their slow re-check.
func (s *Service) RunAgentHub(ctx context.Context, h *AgentHub) {
	for ctx.Err() == nil {
		onListen := func() {
			// Revocations announced while not listening are lost too: trust
			// nothing read before, and from now on trust longer.
			s.fleet.auth.forgetAll()
			s.fleet.listening.Store(true)
			h.NotifyAll()
		}
		err := s.store.ListenFrom(ctx, "agent_work", onListen, func(payload string) {
			if id, err := uuid.Parse(payload); err == nil {
				// An agent's id comes when its work or its credentials
				// changed: its credentials are read again on its next call.
				s.fleet.auth.forget(id, s.clock())
				h.Notify(id)
			}
		})
		s.fleet.listening.Store(false)
		if ctx.Err() != nil {
			return
		}
		s.logger.Warn("agent work notifications interrupted; reconnecting", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
