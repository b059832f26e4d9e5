package service

import (
	"context"
	"maps"
	"net/url"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// IssuerInput is what a client declares for an issuer.
type IssuerInput struct {
	Name   string
	Type   string
	Config map[string]any
}

// CreateIssuer creates an issuer. Its plugin checks the configuration and
// provisions it (the local CA creates its root here).
func (s *Service) CreateIssuer(ctx context.Context, in IssuerInput) (core.Issuer, error) {
	defer s.forgetConfigs()
	var out core.Issuer
	err := s.mutate(ctx, change{role: core.RoleOperator, action: "issuer.create", resourceType: "issuer"},
		func(q *store.Queries) (string, map[string]any, error) {
			if err := core.ValidateName("name", in.Name); err != nil {
				return "", nil, err
			}
			id := newID()
			cfg := s.withDefaultCRLURL(in.Name, in.Type, in.Config)
			public, sealed, err := s.prepareConnector(ctx, connectorInput{plugin.KindIssuer, in.Type, cfg}, id.String(), nil, true)
			if err != nil {
				return "", nil, err
			}
			now := s.clock()
			out = core.Issuer{ID: id, Name: in.Name, Type: in.Type, Config: public, Secret: sealed, CreatedAt: now, UpdatedAt: now}
			if err := q.CreateIssuer(ctx, out); err != nil {
				return "", nil, err
			}
			return out.ID.String(), map[string]any{"name": out.Name, "type": out.Type}, nil
		})
	return out, err
}

// localIssuerType is the type of certctl's own CA, whose CRL this server
// signs and serves at /crl/{issuer}.crl.
const localIssuerType = "local"

// withDefaultCRLURL returns cfg with crl_url set to where this server
// serves the issuer's CRL, when the issuer is a local CA, its
// configuration leaves crl_url out (or null) and the server knows its
// public URL: without a distribution point in its certificates, relying
// parties cannot find the CRL. An explicit "" keeps none. cfg itself is
// not changed.
func (s *Service) withDefaultCRLURL(name, typ string, cfg map[string]any) map[string]any {
	if typ != localIssuerType || s.publicURL == "" {
		return cfg
	}
	if v, ok := cfg["crl_url"]; ok && v != nil {
		return cfg
	}
	out := make(map[string]any, len(cfg)+1)
	maps.Copy(out, cfg)
	out["crl_url"] = s.publicURL + "/crl/" + url.PathEscape(name) + ".crl"
	return out
}

// GetIssuer returns an issuer.
func (s *Service) GetIssuer(ctx context.Context, id uuid.UUID) (core.Issuer, error) {
	if err := s.read(ctx); err != nil {
		return core.Issuer{}, err
	}
	return s.store.Q().GetIssuer(ctx, id)
}

// ListIssuers returns a page of issuers.
func (s *Service) ListIssuers(ctx context.Context, f core.IssuerFilter) ([]core.Issuer, bool, error) {
	if err := s.read(ctx); err != nil {
		return nil, false, err
	}
	return s.store.Q().ListIssuers(ctx, f)
}

// UpdateIssuer renames an issuer and changes its configuration: fields
// left out keep their values, fields sent as null return to their
// defaults. Its type cannot change: certificates depend on what kind of CA
// it is.
func (s *Service) UpdateIssuer(ctx context.Context, id uuid.UUID, in IssuerInput) (core.Issuer, error) {
	defer s.forgetConfigs()
	var out core.Issuer
	err := s.mutate(ctx, change{role: core.RoleOperator, action: "issuer.update", resourceType: "issuer", resourceID: id.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			cur, err := q.GetIssuerForUpdate(ctx, id)
			if err != nil {
				return "", nil, err
			}
			if in.Type != "" && in.Type != cur.Type {
				return "", nil, core.Invalid("type", "cannot change from %q to %q; create a new issuer", cur.Type, in.Type)
			}
			if err := core.ValidateName("name", in.Name); err != nil {
				return "", nil, err
			}
			current := &storedConfig{public: cur.Config, sealed: cur.Secret, context: sealContext(plugin.KindIssuer, id.String())}
			public, sealed, err := s.prepareConnector(ctx, connectorInput{plugin.KindIssuer, cur.Type, in.Config}, id.String(), current, true)
			if err != nil {
				return "", nil, err
			}
			out = cur
			out.Name, out.Config, out.Secret, out.UpdatedAt = in.Name, public, sealed, s.clock()
			if err := q.UpdateIssuer(ctx, out); err != nil {
				return "", nil, err
			}
			return "", map[string]any{"name": out.Name}, nil
		})
	return out, err
}

// DeleteIssuer deletes an issuer that no certificate uses.
func (s *Service) DeleteIssuer(ctx context.Context, id uuid.UUID) error {
	defer s.forgetConfigs()
	return s.mutate(ctx, change{role: core.RoleOperator, action: "issuer.delete", resourceType: "issuer", resourceID: id.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			err := q.DeleteIssuer(ctx, id)
			if errIs(err, core.ECONFLICT) {
				return "", nil, core.Errorf(core.ECONFLICT, "issuer is used by certificates; move or delete them first")
			}
			return "", nil, err
		})
}

// IssuerConfig returns an issuer's whole configuration, sensitive fields
// included, for calling its plugin. It never leaves the server.
func (s *Service) IssuerConfig(iss core.Issuer) (plugin.Config, error) {
	return s.openConfig(iss.Config, iss.Secret, sealContext(plugin.KindIssuer, iss.ID.String()))
}
