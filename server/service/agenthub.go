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
	mu      sync.Mutex
	waiters map[uuid.UUID]map[chan struct{}]struct{}
}

// NewAgentHub returns an empty hub.
func NewAgentHub() *AgentHub {
	return &AgentHub{waiters: map[uuid.UUID]map[chan struct{}]struct{}{}}
}

// Subscribe returns a channel that receives when work for agent may have
// arrived, and a function to stop.
func (h *AgentHub) Subscribe(agent uuid.UUID) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if h.waiters[agent] == nil {
		h.waiters[agent] = map[chan struct{}]struct{}{}
	}
	h.waiters[agent][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.waiters[agent], ch)
		if len(h.waiters[agent]) == 0 {
			delete(h.waiters, agent)
		}
		h.mu.Unlock()
	}
}

// Notify wakes the polls of agent.
func (h *AgentHub) Notify(agent uuid.UUID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.waiters[agent] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// NotifyAll wakes every poll: when notifications may have been missed.
func (h *AgentHub) NotifyAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, chs := range h.waiters {
		for ch := range chs {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// RunAgentHub feeds the hub from the database's agent_work notifications
// until ctx ends, reconnecting after failures. One connection per server
// listens for all its polls. Each time it starts listening it wakes every
// poll, since what was announced while it was not listening is lost: the
// polls look again, so that no work waits for their slow re-check.
func (s *Service) RunAgentHub(ctx context.Context, h *AgentHub) {
	for ctx.Err() == nil {
		err := s.store.ListenFrom(ctx, "agent_work", h.NotifyAll, func(payload string) {
			if id, err := uuid.Parse(payload); err == nil {
				h.Notify(id)
			}
		})
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
