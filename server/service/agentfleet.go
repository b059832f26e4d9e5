package service

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
)

// agentFleet is what a server keeps in memory to serve many agents
// cheaply: who a credential belongs to, for a few seconds (so that an
// agent's requests do not each cost a query to authenticate).
type agentFleet struct {
	auth  agentAuthCache
	beats heartbeatBuffer // heartbeats.go
	// listening: this server's hub listens to agent_work (RunAgentHub), so
	// that a revocation made through any server reaches its cache.
	listening atomic.Bool
	// waiting, when set (tests), is called each time a long poll of agent
	// has looked at the database and starts to wait.
	waiting func(agent uuid.UUID)
}

const (
	// AgentAuthTTL is how long a server trusts what it last read of an
	// agent credential when it does not listen to the database's
	// notifications. A credential revoked (rotated, or its agent retired)
	// through one server stops working there at once, and on other
	// replicas at most this long after.
	AgentAuthTTL = 5 * time.Second
	// AgentAuthListenTTL is that time while the server listens: the
	// revocation is announced on agent_work (store.RevokeAgentCredentials,
	// store.RetireAgent) and every listening server forgets the agent's
	// credentials at once, so the TTL only bounds a notification lost (a
	// server dying between its commit and the announcement). It is longer
	// than an agent's heartbeat interval, so that an agent's requests
	// authenticate without a query (at 30 s heartbeats a 5 s TTL almost
	// never hit).
	AgentAuthListenTTL = 2 * time.Minute
	// agentAuthMax bounds the cache: about 400 bytes an entry.
	agentAuthMax = 50_000
	// agentForgetKeep is how long a forgotten agent is remembered, so that a
	// database read started before the forget does not put it back.
	agentForgetKeep = time.Minute
)

// agentAuthTTL is how long a credential verified now is trusted.
func (s *Service) agentAuthTTL() time.Duration {
	if s.fleet.listening.Load() {
		return AgentAuthListenTTL
	}
	return AgentAuthTTL
}

// agentAuthCache maps a credential's hash to its agent, as verified in the
// database less than the TTL ago. Only credentials found valid are kept: a
// wrong one always costs its query.
type agentAuthCache struct {
	mu      sync.Mutex
	gen     uint64 // moves on every invalidation
	allGen  uint64 // the generation of the last forgetAll
	entries map[[32]byte]agentAuthEntry
	byAgent map[uuid.UUID][][32]byte // the credentials kept of each agent (one, two around a rotation)
	// forgotten: the generation at which an agent was last forgotten, and
	// when, for put (pruned after agentForgetKeep).
	forgotten map[uuid.UUID]forgetMark
}

type agentAuthEntry struct {
	agent   core.Agent
	expires time.Time
}

type forgetMark struct {
	gen uint64
	at  time.Time
}

// get returns the agent of a credential hash verified before now.
func (c *agentAuthCache) get(hash [32]byte, now time.Time) (core.Agent, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[hash]
	if !ok || !now.Before(e.expires) {
		return core.Agent{}, false
	}
	return e.agent, true
}

// agentOf returns an agent as verified less than the TTL ago.
func (c *agentAuthCache) agentOf(id uuid.UUID, now time.Time) (core.Agent, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range c.byAgent[id] {
		if e, ok := c.entries[h]; ok && e.agent.ID == id && now.Before(e.expires) {
			return e.agent, true
		}
	}
	return core.Agent{}, false
}

// generation is read before looking a credential up in the database, and
// given to put: an invalidation of that agent (or of all) between the two
// wins (put keeps nothing), so that what a revocation removed is not put
// back from a read that started before it.
func (c *agentAuthCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *agentAuthCache) put(hash [32]byte, gen uint64, a core.Agent, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen < c.allGen || gen < c.forgotten[a.ID].gen {
		return
	}
	if c.entries == nil {
		c.entries, c.byAgent = map[[32]byte]agentAuthEntry{}, map[uuid.UUID][][32]byte{}
	}
	if len(c.entries) >= agentAuthMax {
		// Drop what has expired, then, if all are fresh (more agents than
		// the bound), start again.
		for h, e := range c.entries {
			if !e.expires.After(time.Now()) {
				delete(c.entries, h)
			}
		}
		if len(c.entries) >= agentAuthMax {
			clear(c.entries)
		}
		for id, hs := range c.byAgent {
			hs = slices.DeleteFunc(hs, func(h [32]byte) bool { _, ok := c.entries[h]; return !ok })
			if len(hs) == 0 {
				delete(c.byAgent, id)
			} else {
				c.byAgent[id] = hs
			}
		}
	}
	if _, ok := c.entries[hash]; !ok {
		// Keep at most the newest two of an agent: the one it uses, and the
		// one before a rotation.
		hs := append(c.byAgent[a.ID], hash)
		if len(hs) > 2 {
			delete(c.entries, hs[0])
			hs = slices.Delete(hs, 0, 1)
		}
		c.byAgent[a.ID] = hs
	}
	c.entries[hash] = agentAuthEntry{agent: a, expires: expires}
}

// forget drops every credential of agent: in proportion to the agent's
// credentials kept, not to the cache (it runs on every agent_work
// notification).
func (c *agentAuthCache) forget(agent uuid.UUID, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, h := range c.byAgent[agent] {
		delete(c.entries, h)
	}
	delete(c.byAgent, agent)
	if c.forgotten == nil {
		c.forgotten = map[uuid.UUID]forgetMark{}
	}
	if len(c.forgotten) >= 4096 {
		for id, m := range c.forgotten {
			if now.Sub(m.at) > agentForgetKeep {
				delete(c.forgotten, id)
			}
		}
	}
	c.forgotten[agent] = forgetMark{gen: c.gen, at: now}
}

// forgetAll drops every credential: when revocations may have been missed
// (the hub's listener (re)starts).
func (c *agentAuthCache) forgetAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.allGen = c.gen
	clear(c.entries)
	clear(c.byAgent)
	clear(c.forgotten)
}

// A Slot is a request's place among the agent requests a server serves at
// once (the transport bounds them, and sheds the rest). A long poll gives
// its place up while it waits, doing nothing, and takes one again, waiting
// its turn, to look at the database when woken: thousands of open polls
// do not crowd out the requests that work.
type Slot interface {
	Release()
	Reacquire(ctx context.Context) error
}

type slotKey struct{}

// WithSlot returns ctx carrying the request's slot.
func WithSlot(ctx context.Context, s Slot) context.Context {
	return context.WithValue(ctx, slotKey{}, s)
}

func slotFrom(ctx context.Context) Slot {
	s, _ := ctx.Value(slotKey{}).(Slot)
	return s
}

// agentDBWait bounds how long an agent request waits for a database
// connection: past it the server is overloaded, and the agent is better
// told to come back (503 with Retry-After) than kept waiting while it
// holds a connection, a goroutine and a descriptor.
const agentDBWait = time.Second
