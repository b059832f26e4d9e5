package service

import (
	"context"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// TargetInput is what a client declares for a target.
type TargetInput struct {
	Name    string
	Type    string
	AgentID *uuid.UUID
	Config  map[string]any
}

// validateTarget checks a target's name and agent; prepareConnector checks
// its configuration.
func (s *Service) validateTarget(ctx context.Context, q *store.Queries, in *TargetInput) error {
	if err := core.ValidateName("name", in.Name); err != nil {
		return err
	}
	if in.AgentID != nil {
		a, err := q.GetAgent(ctx, *in.AgentID)
		if errIs(err, core.ENOTFOUND) {
			return core.Invalid("agent_id", "no agent with id %s", in.AgentID)
		}
		if err != nil {
			return err
		}
		if a.Status == core.AgentRetired {
			return core.Invalid("agent_id", "agent %q is retired", a.Name)
		}
	}
	return nil
}

// CreateTarget creates a target.
func (s *Service) CreateTarget(ctx context.Context, in TargetInput) (core.Target, error) {
	var out core.Target
	err := s.mutate(ctx, change{role: core.RoleOperator, action: "target.create", resourceType: "target"},
		func(q *store.Queries) (string, map[string]any, error) {
			if err := s.validateTarget(ctx, q, &in); err != nil {
				return "", nil, err
			}
			id := newID()
			public, sealed, err := s.prepareConnector(ctx, connectorInput{plugin.KindTarget, in.Type, in.Config}, id.String(), nil, false)
			if err != nil {
				return "", nil, err
			}
			now := s.clock()
			out = core.Target{ID: id, Name: in.Name, Type: in.Type, AgentID: in.AgentID, Config: public, Secret: sealed,
				CreatedAt: now, UpdatedAt: now}
			if err := q.CreateTarget(ctx, out); err != nil {
				return "", nil, err
			}
			return out.ID.String(), map[string]any{"name": out.Name, "type": out.Type}, nil
		})
	return out, err
}

// GetTarget returns a target.
func (s *Service) GetTarget(ctx context.Context, id uuid.UUID) (core.Target, error) {
	if err := s.read(ctx); err != nil {
		return core.Target{}, err
	}
	return s.store.Q().GetTarget(ctx, id)
}

// ListTargets returns a page of targets.
func (s *Service) ListTargets(ctx context.Context, f core.TargetFilter) ([]core.Target, bool, error) {
	if err := s.read(ctx); err != nil {
		return nil, false, err
	}
	return s.store.Q().ListTargets(ctx, f)
}

// UpdateTarget replaces a target's name and agent and changes its
// configuration (fields left out keep their values, null resets them).
func (s *Service) UpdateTarget(ctx context.Context, id uuid.UUID, in TargetInput) (core.Target, error) {
	var out core.Target
	err := s.mutate(ctx, change{role: core.RoleOperator, action: "target.update", resourceType: "target", resourceID: id.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			cur, err := q.GetTarget(ctx, id)
			if err != nil {
				return "", nil, err
			}
			if in.Type != "" && in.Type != cur.Type {
				return "", nil, core.Invalid("type", "cannot change from %q to %q; create a new target", cur.Type, in.Type)
			}
			if err := s.validateTarget(ctx, q, &in); err != nil {
				return "", nil, err
			}
			current := &storedConfig{public: cur.Config, sealed: cur.Secret, context: sealContext(plugin.KindTarget, id.String())}
			public, sealed, err := s.prepareConnector(ctx, connectorInput{plugin.KindTarget, cur.Type, in.Config}, id.String(), current, false)
			if err != nil {
				return "", nil, err
			}
			out = cur
			out.Name, out.AgentID, out.Config, out.Secret, out.UpdatedAt = in.Name, in.AgentID, public, sealed, s.clock()
			if err := q.UpdateTarget(ctx, out); err != nil {
				return "", nil, err
			}
			return "", map[string]any{"name": out.Name}, nil
		})
	return out, err
}

// DeleteTarget deletes a target that no certificate is bound to.
func (s *Service) DeleteTarget(ctx context.Context, id uuid.UUID) error {
	return s.mutate(ctx, change{role: core.RoleOperator, action: "target.delete", resourceType: "target", resourceID: id.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			err := q.DeleteTarget(ctx, id)
			if errIs(err, core.ECONFLICT) {
				return "", nil, core.Errorf(core.ECONFLICT, "target is bound to certificates; unbind them first")
			}
			return "", nil, err
		})
}
