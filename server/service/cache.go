package service

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/core"
)

// configTTL is how long a worker reuses an issuer's decrypted
// configuration and a renewal policy. Changes made through this server
// take effect at once (the caches are cleared); those made through another
// replica within this time.
const configTTL = 2 * time.Second

// issuanceCache keeps what every issuance of one issuer or policy reads
// again: the issuer with its opened configuration, and policies.
type issuanceCache struct {
	mu       sync.Mutex
	issuers  map[uuid.UUID]cachedIssuer
	policies map[uuid.UUID]cachedPolicy // uuid.Nil: the default policy
}

type cachedIssuer struct {
	issuer core.Issuer
	config plugin.Config
	at     time.Time
}

type cachedPolicy struct {
	policy core.RenewalPolicy
	at     time.Time
}

// issuerWithConfig returns an issuer and its whole configuration.
func (s *Service) issuerWithConfig(ctx context.Context, id uuid.UUID) (core.Issuer, plugin.Config, error) {
	s.cache.mu.Lock()
	c, ok := s.cache.issuers[id]
	s.cache.mu.Unlock()
	if ok && time.Since(c.at) < configTTL {
		return c.issuer, c.config, nil
	}
	iss, err := s.store.Q().GetIssuer(ctx, id)
	if err != nil {
		return iss, nil, err
	}
	cfg, err := s.IssuerConfig(iss)
	if err != nil {
		return iss, nil, err
	}
	s.cache.mu.Lock()
	if s.cache.issuers == nil {
		s.cache.issuers = map[uuid.UUID]cachedIssuer{}
	}
	s.cache.issuers[id] = cachedIssuer{issuer: iss, config: cfg, at: time.Now()}
	s.cache.mu.Unlock()
	return iss, cfg, nil
}

// policyFor returns a certificate's renewal policy (the default when it names none).
func (s *Service) policyFor(ctx context.Context, id *uuid.UUID) (core.RenewalPolicy, error) {
	key := uuid.Nil
	if id != nil {
		key = *id
	}
	s.cache.mu.Lock()
	c, ok := s.cache.policies[key]
	s.cache.mu.Unlock()
	if ok && time.Since(c.at) < configTTL {
		return c.policy, nil
	}
	var p core.RenewalPolicy
	var err error
	if id != nil {
		p, err = s.store.Q().GetPolicy(ctx, *id)
	} else {
		p, err = s.store.Q().GetDefaultPolicy(ctx)
	}
	if err != nil {
		return p, err
	}
	s.cache.mu.Lock()
	if s.cache.policies == nil {
		s.cache.policies = map[uuid.UUID]cachedPolicy{}
	}
	s.cache.policies[key] = cachedPolicy{policy: p, at: time.Now()}
	s.cache.mu.Unlock()
	return p, nil
}

// forgetConfigs makes the next issuance read issuers and policies afresh.
func (s *Service) forgetConfigs() {
	s.cache.mu.Lock()
	s.cache.issuers, s.cache.policies = nil, nil
	s.cache.mu.Unlock()
}
