package httpapi

// shed.go: a bound on the agent requests served at once, and on those
// waiting for their turn. Past the knee a
// server that queues every request makes every one of them slow (each
// waiting request holds a connection, a goroutine and a descriptor, and
// waits for a database connection behind all the others); one that
// refuses the excess at once (429 with Retry-After, which agents honour)
// stays fast for the requests it takes.

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

// agentSlots holds one token per agent request being served.
type agentSlots chan struct{}

// agentSlot is one request's place: held while the request works, given
// up by a long poll while it waits (service.Slot). Only the request's own
// goroutine uses it.
type agentSlot struct {
	slots agentSlots
	held  bool
}

func (s *agentSlot) Release() {
	if s.held {
		<-s.slots
		s.held = false
	}
}

// Reacquire waits its turn: a woken poll was admitted once, and is not
// shed in the middle of its wait.
func (s *agentSlot) Reacquire(ctx context.Context) error {
	if s.held {
		return nil
	}
	select {
	case s.slots <- struct{}{}:
		s.held = true
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryAfterSeconds is what a shed request is told to wait: 1 to 3
// seconds at random, so that the agents refused together do not all come
// back together.
func retryAfterSeconds() string {
	return strconv.Itoa(1 + rand.IntN(3))
}

// agentQueueFactor and agentQueueWait shape the queue in front of the
// bound: up to factor × the bound requests may wait their turn, each at
// most agentQueueWait, so that a burst (10,000 agents opening their polls
// on a busy machine) is served seconds late rather than refused: an agent
// refused retries within seconds, so refusing a burst only multiplies it
// (with a queue of ten times the bound and 2 s, a 10,000-agent start made
// 1,400 requests/s of refusals and retries where 560 were needed). Past
// the queue, a server that stays behind answers at once instead of
// holding a goroutine, a descriptor and memory for every request.
const (
	agentQueueFactor = 50
	agentQueueWait   = 10 * time.Second
)

// shedAgents admits an agent request when fewer than the bound are being
// served, queues it (within limits) otherwise, and answers 429 with
// Retry-After when the queue is full or its turn does not come in time,
// before doing anything (so that any request, a POST too, may simply be
// sent again).
func (s *Server) shedAgents(next http.Handler) http.Handler {
	if s.agentSlots == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slot := &agentSlot{slots: s.agentSlots}
		select {
		case s.agentSlots <- struct{}{}:
			slot.held = true
		default:
			if !s.waitTurn(r.Context()) {
				if r.Context().Err() != nil {
					return // the agent went away
				}
				w.Header().Set("Retry-After", retryAfterSeconds())
				encode(w, http.StatusTooManyRequests, api.ErrorResponse{Error: api.ErrorDetail{Code: core.EUNAVAILABLE,
					Message: "the server is busy; retry after the delay in Retry-After", RequestID: core.RequestIDFrom(r.Context())}})
				return
			}
			slot.held = true
		}
		defer slot.Release()
		next.ServeHTTP(w, r.WithContext(service.WithSlot(r.Context(), slot)))
	})
}

// waitTurn waits in the queue for a slot, and reports whether it took one.
func (s *Server) waitTurn(ctx context.Context) bool {
	select {
	case s.agentQueue <- struct{}{}:
	default:
		return false // the queue is full
	}
	defer func() { <-s.agentQueue }()
	t := time.NewTimer(agentQueueWait)
	defer t.Stop()
	select {
	case s.agentSlots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}
