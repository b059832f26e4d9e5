package core

import (
	"context"
	"slices"

	"github.com/google/uuid"
)

// Actor types recorded in the audit trail.
const (
	ActorAPIKey = "api_key"
	ActorAgent  = "agent"
	ActorSystem = "system"
)

// Actor is who makes a request: an API key with its role, an agent, or the
// server itself.
type Actor struct {
	Type string
	ID   string
	Name string
	Role string // for API keys
}

// SystemActor is the server acting on its own (bootstrap, scheduler).
var SystemActor = Actor{Type: ActorSystem, ID: "system", Name: "certctl-server", Role: RoleAdmin}

// APIKeyActor returns the actor of a request made with key.
func APIKeyActor(key APIKey) Actor {
	return Actor{Type: ActorAPIKey, ID: key.ID.String(), Name: key.Name, Role: key.Role}
}

// AgentActor returns the actor of a request made by an agent.
func AgentActor(id uuid.UUID, name string) Actor {
	return Actor{Type: ActorAgent, ID: id.String(), Name: name}
}

// Can reports whether the actor's role includes role.
func (a Actor) Can(role string) bool {
	rank := func(r string) int { return len(Roles) - slices.Index(Roles, r) }
	if a.Type == ActorAgent || slices.Index(Roles, a.Role) < 0 {
		return false
	}
	return rank(a.Role) >= rank(role)
}

type ctxKey int

const (
	actorKey ctxKey = iota
	requestIDKey
)

// WithActor returns a context carrying the actor of the request.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey, a)
}

// ActorFrom returns the actor in ctx and whether there is one.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey).(Actor)
	return a, ok
}

// WithRequestID returns a context carrying the request's ID.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestIDFrom returns the request ID in ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}
