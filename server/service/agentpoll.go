package service

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
)

// agentpoll.go: an agent's long poll for work as a state machine that
// needs no goroutine while it waits. Thousands of agents keep a poll open
// all the time; a goroutine parked per poll (with the connection's own)
// was most of a server's memory per agent. A WorkWait is woken by the hub
// (SubscribeFunc), by a timer (the deadline, the agent's next retry, the
// rare safety re-check) or by its context ending, and runs a goroutine
// only while it looks at the database.

// pollState is where a WorkWait is.
type pollState uint8

const (
	pollIdle    pollState = iota // looked once, not parked yet
	pollWaiting                  // parked: a wake-up or the timer starts a look
	pollLooking                  // a goroutine looks at the database
	pollDone                     // answered (or stopped): nothing more happens
)

// A WorkWait is a long poll that looked once, found nothing, and may wait
// for work (PollAgentWork). Park it (without a goroutine) or Wait for it;
// Stop it when neither.
type WorkWait struct {
	s        *Service
	agent    uuid.UUID
	deadline time.Time     // the end of the poll's wait
	every    time.Duration // how often it looks without being woken
	stopSub  func()        // ends the hub subscription; nil without a hub
	resend   bool          // hand out again the deployments the agent took and has not reported

	mu      sync.Mutex
	state   pollState
	woken   bool       // woken while not waiting: look again at once
	next    *time.Time // when the agent's earliest retry comes due
	timer   *time.Timer
	ctx     context.Context
	slot    Slot
	alive   func() bool // whether the agent is still there to answer (nil: assume so)
	done    func([]WorkItem, error)
	stopCtx func() bool
}

// PollAgentWork looks at the calling agent's work. When there is some, or
// wait is 0, it returns it (and a nil WorkWait); otherwise it returns a
// WorkWait, subscribed to hub (nil: it looks every few seconds) since
// before its first look, so that no notification is missed in between.
//
// resend is for an agent that does one item at a time and knows a job it
// has done by its id: the deployments leased to it that it has not
// reported are handed out again. The answer that handed one out may never
// have reached it (its server died after the commit, the connection
// broke), and without resend such a deployment waits out its lease (ten
// minutes) before it is handed out again.
func (s *Service) PollAgentWork(ctx context.Context, wait time.Duration, resend bool, hub *AgentHub) ([]WorkItem, *WorkWait, error) {
	id, err := agentID(ctx)
	if err != nil {
		return nil, nil, err
	}
	w := &WorkWait{s: s, agent: id, deadline: time.Now().Add(wait), every: agentWorkRecheck, resend: resend}
	if hub != nil && wait > 0 {
		w.every = agentWorkSafetyRecheck
		w.stopSub = hub.SubscribeFunc(id, w.wake)
	}
	items, next, err := s.agentWorkNow(ctx, id, resend)
	switch {
	case err != nil && ctx.Err() != nil:
		w.Stop()
		return nil, nil, nil // the agent went away: nothing to answer, nothing to log
	case err != nil || len(items) > 0 || wait <= 0:
		w.Stop()
		return items, nil, err
	}
	w.next = next
	return nil, w, nil
}

// AgentWork returns the calling agent's work, waiting up to wait for some
// to arrive (long poll) on the calling goroutine. hub, when not nil, wakes
// it when new work may be there.
func (s *Service) AgentWork(ctx context.Context, wait time.Duration, resend bool, hub *AgentHub) ([]WorkItem, error) {
	items, w, err := s.PollAgentWork(ctx, wait, resend, hub)
	if w == nil {
		return items, err
	}
	return w.Wait(ctx)
}

// Wait waits on the calling goroutine until work comes, the deadline
// passes or ctx ends. The request's slot (WithSlot) is given up while
// it waits and taken again to look, as Park does.
func (w *WorkWait) Wait(ctx context.Context) ([]WorkItem, error) {
	slot := slotFrom(ctx)
	if slot != nil {
		slot.Release()
	}
	type result struct {
		items []WorkItem
		err   error
	}
	ch := make(chan result, 1)
	w.Park(ctx, slot, nil, func(items []WorkItem, err error) { ch <- result{items, err} })
	r := <-ch
	return r.items, r.err
}

// Park lets the poll wait without a goroutine. done is called once, on a
// goroutine of its own, with the work found, or with nothing when the
// deadline passed or ctx ended (nothing is looked at then). Each look
// takes slot (not held when Park is called; nil for no bound) and gives
// it up after. alive, when not nil, is asked before each look whether the
// agent is still connected: a parked poll has nothing reading its
// connection, and the poll of an agent gone (killed, restarted) must not
// take work (a deployment leased to it) that its next poll should get.
func (w *WorkWait) Park(ctx context.Context, slot Slot, alive func() bool, done func([]WorkItem, error)) {
	w.mu.Lock()
	w.ctx, w.slot, w.alive, w.done = ctx, slot, alive, done
	w.mu.Unlock()
	stop := context.AfterFunc(ctx, w.cancel)
	w.mu.Lock()
	if w.state == pollDone { // ctx had ended already: cancel answered
		w.mu.Unlock()
		return
	}
	w.stopCtx = stop
	w.waitLocked()
}

// Stop ends a poll that is not parked (nothing more comes of it).
func (w *WorkWait) Stop() {
	w.mu.Lock()
	w.state = pollDone
	w.mu.Unlock()
	if w.stopSub != nil {
		w.stopSub()
	}
}

// waitLocked parks the poll after a look found nothing, or looks again at
// once when woken meanwhile; it unlocks w.mu.
func (w *WorkWait) waitLocked() {
	if !time.Now().Before(w.deadline) {
		w.finishLocked(nil, nil)
		return
	}
	if w.woken {
		w.woken = false
		w.state = pollLooking
		w.mu.Unlock()
		go w.look()
		return
	}
	w.state = pollWaiting
	in := min(time.Until(w.deadline), w.every)
	if w.next != nil {
		// A retry comes due: look again then, just after, when the query
		// sees it due.
		in = min(in, max(w.next.Sub(w.s.clock()), 0)+50*time.Millisecond)
	}
	if w.timer == nil {
		w.timer = time.AfterFunc(in, w.fire)
	} else {
		w.timer.Reset(in)
	}
	w.mu.Unlock()
	if w.s.fleet.waiting != nil {
		w.s.fleet.waiting(w.agent)
	}
}

// wake is the hub's call: work may have arrived. It runs under the hub's
// lock, so it only starts a look.
func (w *WorkWait) wake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch w.state {
	case pollWaiting:
		w.state = pollLooking
		w.timer.Stop()
		go w.look()
	case pollIdle, pollLooking:
		w.woken = true
	}
}

// fire is the timer's call: the deadline, or time to look again.
func (w *WorkWait) fire() {
	w.mu.Lock()
	if w.state != pollWaiting {
		w.mu.Unlock()
		return
	}
	if !time.Now().Before(w.deadline) {
		w.finishLocked(nil, nil)
		return
	}
	w.state = pollLooking
	w.mu.Unlock()
	w.look()
}

// cancel is the context's call: the agent went away, or the server stops.
func (w *WorkWait) cancel() {
	w.mu.Lock()
	switch w.state {
	case pollWaiting, pollIdle:
		w.finishLocked(nil, nil)
	default:
		w.mu.Unlock() // a look in progress sees ctx end and finishes
	}
}

// look looks at the database, and answers or parks again.
func (w *WorkWait) look() {
	if w.slot != nil {
		if err := w.slot.Reacquire(w.ctx); err != nil {
			w.mu.Lock()
			w.finishLocked(nil, nil) // the agent went away while waiting its turn
			return
		}
	}
	if w.alive != nil && !w.alive() {
		if w.slot != nil {
			w.slot.Release()
		}
		w.mu.Lock()
		w.finishLocked(nil, nil) // the agent is gone: take nothing for it
		return
	}
	items, next, err := w.lookNow()
	if w.slot != nil {
		w.slot.Release()
	}
	w.mu.Lock()
	switch {
	case err != nil && w.ctx.Err() != nil:
		w.finishLocked(nil, nil)
	case err != nil || len(items) > 0:
		w.finishLocked(items, err)
	case w.ctx.Err() != nil:
		w.finishLocked(nil, nil)
	default:
		w.next = next
		w.waitLocked()
	}
}

// lookNow looks at the agent's work. It runs on a goroutine of its own,
// outside any request's recovery, so a panic becomes the poll's error (an
// internal error answered, logged) rather than the server's end.
func (w *WorkWait) lookNow() (items []WorkItem, next *time.Time, err error) {
	defer func() {
		if p := recover(); p != nil {
			items, next, err = nil, nil, fmt.Errorf("panic looking for agent %s's work: %v", w.agent, p)
		}
	}()
	return w.s.agentWorkNow(w.ctx, w.agent, w.resend)
}

// finishLocked answers the poll once; it unlocks w.mu.
func (w *WorkWait) finishLocked(items []WorkItem, err error) {
	if w.state == pollDone {
		w.mu.Unlock()
		return
	}
	w.state = pollDone
	if w.timer != nil {
		w.timer.Stop()
	}
	done, stopCtx := w.done, w.stopCtx
	w.mu.Unlock()
	if stopCtx != nil {
		stopCtx()
	}
	if w.stopSub != nil {
		w.stopSub()
	}
	if done != nil {
		done(items, err)
	}
}
