package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// APIKeyInput is what a client declares for a new API key.
type APIKeyInput struct {
	Name      string
	Role      string
	ExpiresAt *time.Time
}

// minBootstrapKeyLen is the shortest key accepted from
// CERTCTL_BOOTSTRAP_ADMIN_KEY: an operator-chosen key must still be hard to guess.
const minBootstrapKeyLen = 32

// Authenticate returns the actor for an API key secret, or an
// EUNAUTHORIZED error that does not say which check failed beyond
// "expired" or "revoked".
func (s *Service) Authenticate(ctx context.Context, secret string) (core.Actor, error) {
	if secret == "" {
		return core.Actor{}, core.Errorf(core.EUNAUTHORIZED, "an API key is required (Authorization: Bearer <key>)")
	}
	k, err := s.store.Q().GetAPIKeyByHash(ctx, hashSecret(secret))
	if errIs(err, core.ENOTFOUND) {
		return core.Actor{}, core.Errorf(core.EUNAUTHORIZED, "invalid API key")
	}
	if err != nil {
		return core.Actor{}, err
	}
	now := s.clock()
	if k.RevokedAt != nil {
		return core.Actor{}, core.Errorf(core.EUNAUTHORIZED, "API key %s is revoked", k.Prefix)
	}
	if k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) {
		return core.Actor{}, core.Errorf(core.EUNAUTHORIZED, "API key %s expired at %s", k.Prefix, k.ExpiresAt.Format(time.RFC3339))
	}
	s.touchAPIKey(ctx, k, now)
	return core.APIKeyActor(k), nil
}

// touchInterval is how often a key's last_used_at is written: often enough
// to tell a live key from a forgotten one, rarely enough that reads do not
// each cost a write.
const touchInterval = time.Minute

// touchAPIKey records that k was used, at most once per touchInterval per
// key and process (the store enforces the same across replicas).
func (s *Service) touchAPIKey(ctx context.Context, k core.APIKey, now time.Time) {
	if k.LastUsedAt != nil && now.Sub(*k.LastUsedAt) < touchInterval {
		return
	}
	if last, ok := s.touched.Load(k.ID); ok && now.Sub(last.(time.Time)) < touchInterval {
		return
	}
	s.touched.Store(k.ID, now)
	if err := s.store.Q().TouchAPIKey(ctx, k.ID, now); err != nil {
		s.logger.WarnContext(ctx, "record API key use", "key", k.Prefix, "err", err)
	}
}

// CreateAPIKey creates an API key. The secret is in the returned key's
// Secret, this once; only its hash is kept.
func (s *Service) CreateAPIKey(ctx context.Context, in APIKeyInput) (core.APIKey, error) {
	var out core.APIKey
	err := s.mutate(ctx, change{role: core.RoleAdmin, action: "api_key.create", resourceType: "api_key"},
		func(q *store.Queries) (string, map[string]any, error) {
			a, _ := core.ActorFrom(ctx)
			k, err := s.newAPIKey(ctx, q, in, a.Name, "")
			out = k
			return k.ID.String(), map[string]any{"name": k.Name, "role": k.Role, "prefix": k.Prefix}, err
		})
	return out, err
}

// newAPIKey validates and stores a key. An empty secret means a new random one.
func (s *Service) newAPIKey(ctx context.Context, q *store.Queries, in APIKeyInput, createdBy, secret string) (core.APIKey, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 100 {
		return core.APIKey{}, core.Invalid("name", "is required, at most 100 characters")
	}
	if err := core.ValidateOneOf("role", in.Role, core.Roles); err != nil {
		return core.APIKey{}, err
	}
	now := s.clock()
	if in.ExpiresAt != nil && !in.ExpiresAt.After(now) {
		return core.APIKey{}, core.Invalid("expires_at", "must be in the future")
	}
	var hash []byte
	var display string
	if secret == "" {
		secret, hash, display = newSecret(apiKeyPrefix)
	} else {
		// A key chosen by an operator may be short on entropy: show a
		// digest of it, never a piece of it.
		hash = hashSecret(secret)
		display = fmt.Sprintf("preset-%x", hash[:3])
	}
	k := core.APIKey{ID: newID(), Name: in.Name, Prefix: display, Secret: secret, Role: in.Role,
		ExpiresAt: in.ExpiresAt, CreatedBy: createdBy, CreatedAt: now}
	if err := q.CreateAPIKey(ctx, k, hash); err != nil {
		return core.APIKey{}, err
	}
	return k, nil
}

// GetAPIKey returns an API key (never its secret).
func (s *Service) GetAPIKey(ctx context.Context, id uuid.UUID) (core.APIKey, error) {
	if _, err := s.authorize(ctx, core.RoleAdmin, "", "", ""); err != nil {
		return core.APIKey{}, err
	}
	return s.store.Q().GetAPIKey(ctx, id)
}

// ListAPIKeys returns a page of API keys, newest first.
func (s *Service) ListAPIKeys(ctx context.Context, p core.Page) ([]core.APIKey, bool, error) {
	if _, err := s.authorize(ctx, core.RoleAdmin, "", "", ""); err != nil {
		return nil, false, err
	}
	return s.store.Q().ListAPIKeys(ctx, p)
}

// RevokeAPIKey revokes an API key at once. The last usable admin key
// cannot be revoked: that would lock everyone out. The usable admin keys
// are locked before they are looked at, so that two admin keys revoking
// each other at the same moment cannot both succeed: the second waits for
// the first and then finds its target is the last one.
func (s *Service) RevokeAPIKey(ctx context.Context, id uuid.UUID) (core.APIKey, error) {
	var out core.APIKey
	err := s.mutate(ctx, change{role: core.RoleAdmin, action: "api_key.revoke", resourceType: "api_key", resourceID: id.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			now := s.clock()
			admins, err := q.LockUsableAdminKeys(ctx, now)
			if err != nil {
				return "", nil, err
			}
			if len(admins) == 1 && admins[0] == id {
				return "", nil, core.Errorf(core.ECONFLICT, "this is the last usable admin key; create another admin key first")
			}
			k, err := q.RevokeAPIKey(ctx, id, now)
			if err != nil {
				return "", nil, err
			}
			out = k
			return "", map[string]any{"name": k.Name, "prefix": k.Prefix}, nil
		})
	return out, err
}

// Bootstrap makes sure an admin can get in on first start. When preset is
// set (CERTCTL_BOOTSTRAP_ADMIN_KEY) that key is registered as an admin key
// unless it already is; otherwise, when no API key exists at all, a new
// admin key is created. It returns the secret of a key it created from
// nothing (to print once), or "". Run it under the startup lock so that
// replicas starting together create one key.
func (s *Service) Bootstrap(ctx context.Context, preset string) (string, error) {
	var created string
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		if preset != "" {
			if len(preset) < minBootstrapKeyLen {
				return core.Invalid("CERTCTL_BOOTSTRAP_ADMIN_KEY", "must be at least %d characters", minBootstrapKeyLen)
			}
			_, err := q.GetAPIKeyByHash(ctx, hashSecret(preset))
			if err == nil {
				return nil
			}
			if !errIs(err, core.ENOTFOUND) {
				return err
			}
			k, err := s.newAPIKey(ctx, q, APIKeyInput{Name: "bootstrap-admin", Role: core.RoleAdmin}, core.SystemActor.Name, preset)
			if err != nil {
				return err
			}
			return q.AppendAudit(ctx, s.auditEvent(ctx, core.SystemActor, "api_key.bootstrap", "api_key", k.ID.String(),
				core.OutcomeSuccess, map[string]any{"prefix": k.Prefix, "source": "CERTCTL_BOOTSTRAP_ADMIN_KEY"}))
		}
		n, err := q.CountAPIKeys(ctx)
		if err != nil || n > 0 {
			return err
		}
		k, err := s.newAPIKey(ctx, q, APIKeyInput{Name: "bootstrap-admin", Role: core.RoleAdmin}, core.SystemActor.Name, "")
		if err != nil {
			return err
		}
		created = k.Secret
		return q.AppendAudit(ctx, s.auditEvent(ctx, core.SystemActor, "api_key.bootstrap", "api_key", k.ID.String(),
			core.OutcomeSuccess, map[string]any{"prefix": k.Prefix, "source": "generated"}))
	})
	return created, err
}
