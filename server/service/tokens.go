package service

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// EnrollmentTokenInput is what a client declares for an enrollment token.
type EnrollmentTokenInput struct {
	AgentName string
	Labels    map[string]string
	TTL       *time.Duration // nil: DefaultEnrollmentTTL
}

// Enrollment token lifetimes.
const (
	DefaultEnrollmentTTL = 24 * time.Hour
	MinEnrollmentTTL     = time.Minute
	MaxEnrollmentTTL     = 30 * 24 * time.Hour
)

// CreateEnrollmentToken creates a single-use token an agent enrolls with.
// The secret is in the returned token's Secret, this once.
func (s *Service) CreateEnrollmentToken(ctx context.Context, in EnrollmentTokenInput) (core.EnrollmentToken, error) {
	var out core.EnrollmentToken
	err := s.mutate(ctx, change{role: core.RoleAdmin, action: "enrollment_token.create", resourceType: "enrollment_token"},
		func(q *store.Queries) (string, map[string]any, error) {
			if in.AgentName != "" {
				if err := core.ValidateName("agent_name", in.AgentName); err != nil {
					return "", nil, err
				}
			}
			if err := core.ValidateLabels("labels", in.Labels); err != nil {
				return "", nil, err
			}
			if in.Labels == nil {
				in.Labels = map[string]string{}
			}
			ttl := DefaultEnrollmentTTL
			if in.TTL != nil {
				ttl = *in.TTL
			}
			// A zero or negative lifetime is refused, not read as "the default":
			// only an omitted ttl means that.
			if ttl < MinEnrollmentTTL || ttl > MaxEnrollmentTTL {
				return "", nil, core.Invalid("ttl", "%s is out of range: a lifetime from 1m to 720h (30 days); omit it for the default, 24h", ttl)
			}
			a, _ := core.ActorFrom(ctx)
			secret, hash, display := newSecret(enrollmentTokenPrefix)
			now := s.clock()
			out = core.EnrollmentToken{ID: newID(), Prefix: display, Secret: secret, AgentName: in.AgentName,
				Labels: in.Labels, ExpiresAt: now.Add(ttl), CreatedBy: a.Name, CreatedAt: now}
			if err := q.CreateEnrollmentToken(ctx, out, hash); err != nil {
				return "", nil, err
			}
			return out.ID.String(), map[string]any{"prefix": display, "agent_name": in.AgentName, "expires_at": out.ExpiresAt}, nil
		})
	return out, err
}

// GetEnrollmentToken returns a token (never its secret).
func (s *Service) GetEnrollmentToken(ctx context.Context, id uuid.UUID) (core.EnrollmentToken, error) {
	if _, err := s.authorize(ctx, core.RoleAdmin, "", "", ""); err != nil {
		return core.EnrollmentToken{}, err
	}
	return s.store.Q().GetEnrollmentToken(ctx, id)
}

// ListEnrollmentTokens returns a page of tokens, newest first.
func (s *Service) ListEnrollmentTokens(ctx context.Context, p core.Page) ([]core.EnrollmentToken, bool, error) {
	if _, err := s.authorize(ctx, core.RoleAdmin, "", "", ""); err != nil {
		return nil, false, err
	}
	return s.store.Q().ListEnrollmentTokens(ctx, p)
}

// RevokeEnrollmentToken revokes a token so that it can no longer enroll.
func (s *Service) RevokeEnrollmentToken(ctx context.Context, id uuid.UUID) (core.EnrollmentToken, error) {
	var out core.EnrollmentToken
	err := s.mutate(ctx, change{role: core.RoleAdmin, action: "enrollment_token.revoke", resourceType: "enrollment_token", resourceID: id.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			t, err := q.RevokeEnrollmentToken(ctx, id, s.clock())
			out = t
			return "", map[string]any{"prefix": t.Prefix}, err
		})
	return out, err
}
