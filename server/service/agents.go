package service

import (
	"context"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

var agentStatuses = []string{core.AgentPending, core.AgentOnline, core.AgentOffline, core.AgentRetired}

// GetAgent returns an agent.
func (s *Service) GetAgent(ctx context.Context, id uuid.UUID) (core.Agent, error) {
	if err := s.read(ctx); err != nil {
		return core.Agent{}, err
	}
	return s.store.Q().GetAgent(ctx, id)
}

// ListAgents returns a page of agents.
func (s *Service) ListAgents(ctx context.Context, f core.AgentFilter) ([]core.Agent, bool, error) {
	if err := s.read(ctx); err != nil {
		return nil, false, err
	}
	if f.Status != "" {
		if err := core.ValidateOneOf("status", f.Status, agentStatuses); err != nil {
			return nil, false, err
		}
	}
	return s.store.Q().ListAgents(ctx, f)
}

// RetireAgent retires an agent: its credentials stop working at once and it
// is refused from then on. Retiring a retired agent changes nothing.
func (s *Service) RetireAgent(ctx context.Context, id uuid.UUID) (core.Agent, error) {
	var out core.Agent
	err := s.mutate(ctx, change{role: core.RoleOperator, action: "agent.retire", resourceType: "agent", resourceID: id.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			a, err := q.RetireAgent(ctx, id, s.clock())
			out = a
			return "", map[string]any{"name": a.Name}, err
		})
	s.fleet.auth.forget(id, s.clock()) // its credentials stop working here at once
	return out, err
}
