package service

import (
	"context"
	"sync"
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
	// waiting, when set (tests), is called each time a long poll of agent
	// has looked at the database and starts to wait.
	waiting func(agent uuid.UUID)
}

const (
	// AgentAuthTTL is how long a server trusts what it last read of an
	// agent credential. A credential revoked (rotated, or its agent
	// retired) through one server stops working there at once, and on
	// other replicas at most this long after.
	AgentAuthTTL = 5 * time.Second
	// agentAuthMax bounds the cache: about 400 bytes an entry.
	agentAuthMax = 50_000
)

// agentAuthCache maps a credential's hash to its agent, as verified in the
// database less than AgentAuthTTL ago. Only credentials found valid are
// kept: a wrong one always costs its query.
type agentAuthCache struct {
	mu      sync.Mutex
	gen     uint64 // moves on every invalidation
	entries map[[32]byte]agentAuthEntry
	byAgent map[uuid.UUID][32]byte // the credential last verified of each agent
}

type agentAuthEntry struct {
	agent   core.Agent
	expires time.Time
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
	e, ok := c.entries[c.byAgent[id]]
	if !ok || e.agent.ID != id || !now.Before(e.expires) {
		return core.Agent{}, false
	}
	return e.agent, true
}

// generation is read before looking a credential up in the database, and
// given to put: an invalidation between the two wins (put keeps nothing),
// so that what a revocation in this process removed is not put back from
// a read that started before it.
func (c *agentAuthCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *agentAuthCache) put(hash [32]byte, gen uint64, a core.Agent, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.entries == nil {
		c.entries, c.byAgent = map[[32]byte]agentAuthEntry{}, map[uuid.UUID][32]byte{}
	}
	if len(c.entries) >= agentAuthMax {
		for h, e := range c.entries {
			if !e.expires.After(expires.Add(-AgentAuthTTL)) {
				delete(c.entries, h)
				if c.byAgent[e.agent.ID] == h {
					delete(c.byAgent, e.agent.ID)
				}
			}
		}
		if len(c.entries) >= agentAuthMax {
			clear(c.entries) // all fresh: more agents than the bound; start again
			clear(c.byAgent)
		}
	}
	c.entries[hash] = agentAuthEntry{agent: a, expires: expires}
	c.byAgent[a.ID] = hash
}

// forget drops every credential of agent.
func (c *agentAuthCache) forget(agent uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.byAgent, agent)
	for h, e := range c.entries {
		if e.agent.ID == agent {
			delete(c.entries, h)
		}
	}
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
