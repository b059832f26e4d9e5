package service

import (
	"context"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// RenewalPolicyInput is what a client declares for a renewal policy.
type RenewalPolicyInput struct {
	Name             string
	Mode             string
	RenewFraction    float64
	DaysBeforeExpiry int
	JitterFraction   *float64 // nil means 0.05
	ReuseKey         bool
	UseIssuerWindow  *bool // nil means true
	IsDefault        bool
}

func validatePolicy(in RenewalPolicyInput) (core.RenewalPolicy, error) {
	p := core.RenewalPolicy{Name: in.Name, Mode: in.Mode, ReuseKey: in.ReuseKey, IsDefault: in.IsDefault,
		JitterFraction: 0.05, UseIssuerWindow: true}
	if err := core.ValidateName("name", in.Name); err != nil {
		return p, err
	}
	switch in.Mode {
	case core.PolicyFraction:
		if in.RenewFraction <= 0 || in.RenewFraction >= 1 {
			return p, core.Invalid("renew_fraction", "must be between 0 and 1 (e.g. 0.333 renews when a third of the lifetime remains)")
		}
		p.RenewFraction = in.RenewFraction
	case core.PolicyDaysBefore:
		if in.DaysBeforeExpiry < 1 || in.DaysBeforeExpiry > 3650 {
			return p, core.Invalid("days_before_expiry", "must be from 1 to 3650")
		}
		p.DaysBeforeExpiry = in.DaysBeforeExpiry
	default:
		return p, core.Invalid("mode", "must be %q or %q", core.PolicyFraction, core.PolicyDaysBefore)
	}
	if in.JitterFraction != nil {
		if *in.JitterFraction < 0 || *in.JitterFraction >= 0.5 {
			return p, core.Invalid("jitter_fraction", "must be from 0 to below 0.5")
		}
		p.JitterFraction = *in.JitterFraction
	}
	if in.UseIssuerWindow != nil {
		p.UseIssuerWindow = *in.UseIssuerWindow
	}
	return p, nil
}

// CreatePolicy creates a renewal policy; making it the default takes that
// role from the previous default.
func (s *Service) CreatePolicy(ctx context.Context, in RenewalPolicyInput) (core.RenewalPolicy, error) {
	defer s.forgetConfigs()
	var out core.RenewalPolicy
	err := s.mutate(ctx, change{role: core.RoleOperator, action: "renewal_policy.create", resourceType: "renewal_policy"},
		func(q *store.Queries) (string, map[string]any, error) {
			p, err := validatePolicy(in)
			if err != nil {
				return "", nil, err
			}
			if p.IsDefault {
				if err := q.ClearDefaultPolicy(ctx); err != nil {
					return "", nil, err
				}
			}
			now := s.clock()
			p.ID, p.CreatedAt, p.UpdatedAt = newID(), now, now
			out = p
			return p.ID.String(), map[string]any{"name": p.Name, "mode": p.Mode}, q.CreatePolicy(ctx, p)
		})
	return out, err
}

// UpdatePolicy replaces a renewal policy. Certificates that follow it get
// the new timing from their next issued version on. The default policy
// cannot stop being the default except by making another the default.
func (s *Service) UpdatePolicy(ctx context.Context, id uuid.UUID, in RenewalPolicyInput) (core.RenewalPolicy, error) {
	defer s.forgetConfigs()
	var out core.RenewalPolicy
	err := s.mutate(ctx, change{role: core.RoleOperator, action: "renewal_policy.update", resourceType: "renewal_policy", resourceID: id.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			cur, err := q.GetPolicy(ctx, id)
			if err != nil {
				return "", nil, err
			}
			p, err := validatePolicy(in)
			if err != nil {
				return "", nil, err
			}
			if cur.IsDefault && !p.IsDefault {
				return "", nil, core.Invalid("is_default", "make another policy the default instead")
			}
			if p.IsDefault && !cur.IsDefault {
				if err := q.ClearDefaultPolicy(ctx); err != nil {
					return "", nil, err
				}
			}
			p.ID, p.CreatedAt, p.UpdatedAt = id, cur.CreatedAt, s.clock()
			out = p
			return "", map[string]any{"name": p.Name}, q.UpdatePolicy(ctx, p)
		})
	return out, err
}

// DeletePolicy deletes a renewal policy that is neither the default nor in use.
func (s *Service) DeletePolicy(ctx context.Context, id uuid.UUID) error {
	defer s.forgetConfigs()
	return s.mutate(ctx, change{role: core.RoleOperator, action: "renewal_policy.delete", resourceType: "renewal_policy", resourceID: id.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			p, err := q.GetPolicy(ctx, id)
			if err != nil {
				return "", nil, err
			}
			if p.IsDefault {
				return "", nil, core.Errorf(core.ECONFLICT, "the default policy cannot be deleted; make another the default first")
			}
			err = q.DeletePolicy(ctx, id)
			if errIs(err, core.ECONFLICT) {
				return "", nil, core.Errorf(core.ECONFLICT, "certificates follow this policy; move them first")
			}
			return "", nil, err
		})
}

// GetPolicy returns a renewal policy.
func (s *Service) GetPolicy(ctx context.Context, id uuid.UUID) (core.RenewalPolicy, error) {
	if err := s.read(ctx); err != nil {
		return core.RenewalPolicy{}, err
	}
	return s.store.Q().GetPolicy(ctx, id)
}

// ListPolicies returns a page of renewal policies.
func (s *Service) ListPolicies(ctx context.Context, p core.Page) ([]core.RenewalPolicy, bool, error) {
	if err := s.read(ctx); err != nil {
		return nil, false, err
	}
	return s.store.Q().ListPolicies(ctx, p)
}
