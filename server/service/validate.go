package service

// validate.go checks a connector's declaration the way creating (or
// updating) it would, without storing or provisioning anything: so that
// tools such as the Terraform provider can refuse a typo at plan time.

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// ConnectorCheck is what a validation found acceptable.
type ConnectorCheck struct {
	Kind plugin.Kind
	Type string
	// Config is the normalised configuration (defaults applied) without
	// its sensitive fields.
	Config map[string]any
	// SecretFields names the sensitive fields that are set, sorted.
	SecretFields []string
}

// ConnectorDraft is a connector declaration to check. ID, when set, checks
// it as an update of that connector: configuration fields left out keep
// their stored values, and the type cannot change.
type ConnectorDraft struct {
	Kind    plugin.Kind
	ID      *uuid.UUID
	Name    string
	Type    string
	AgentID *uuid.UUID // targets only
	Config  map[string]any
}

// ValidateConnector runs the checks of the create path (or, with d.ID, of
// the update path) on d: its name, its agent (targets), and its
// configuration against the plugin's schema and by the plugin itself. It
// neither stores nor provisions anything (an issuer's CA is not created),
// so a name already taken is not reported. Operators and admins only, like
// the changes it stands for.
func (s *Service) ValidateConnector(ctx context.Context, d ConnectorDraft) (ConnectorCheck, error) {
	if _, err := s.authorize(ctx, core.RoleOperator, string(d.Kind)+".validate", string(d.Kind), ""); err != nil {
		return ConnectorCheck{}, err
	}
	if !slices.Contains(plugin.Kinds, d.Kind) {
		return ConnectorCheck{}, core.Invalid("kind", "must be issuer, target or notifier")
	}
	q := s.store.Q()
	if d.Kind == plugin.KindTarget {
		if err := s.validateTarget(ctx, q, &TargetInput{Name: d.Name, Type: d.Type, AgentID: d.AgentID, Config: d.Config}); err != nil {
			return ConnectorCheck{}, err
		}
	} else if err := core.ValidateName("name", d.Name); err != nil {
		return ConnectorCheck{}, err
	}
	typ, cfg := d.Type, d.Config
	var current *storedConfig
	if d.ID != nil {
		cur, err := s.storedConnector(ctx, q, d.Kind, *d.ID)
		if err != nil {
			return ConnectorCheck{}, err
		}
		if d.Type != "" && d.Type != cur.typ {
			return ConnectorCheck{}, core.Invalid("type", "cannot change from %q to %q; create a new %s", cur.typ, d.Type, d.Kind)
		}
		typ, current = cur.typ, &cur.stored
	} else if d.Kind == plugin.KindIssuer {
		cfg = s.withDefaultCRLURL(d.Name, typ, cfg)
	}
	full, schema, err := s.checkConnector(ctx, connectorInput{d.Kind, typ, cfg}, current)
	if err != nil {
		return ConnectorCheck{}, err
	}
	public, secret := schema.Split(full)
	names := make([]string, 0, len(secret))
	for k := range secret {
		names = append(names, k)
	}
	slices.Sort(names)
	if public == nil {
		public = map[string]any{}
	}
	return ConnectorCheck{Kind: d.Kind, Type: typ, Config: public, SecretFields: names}, nil
}

// typedConfig is a stored connector's type and configuration.
type typedConfig struct {
	typ    string
	stored storedConfig
}

// storedConnector reads the connector of kind with id.
func (s *Service) storedConnector(ctx context.Context, q *store.Queries, kind plugin.Kind, id uuid.UUID) (typedConfig, error) {
	sc := sealContext(kind, id.String())
	switch kind {
	case plugin.KindIssuer:
		c, err := q.GetIssuer(ctx, id)
		return typedConfig{c.Type, storedConfig{c.Config, c.Secret, sc}}, err
	case plugin.KindTarget:
		c, err := q.GetTarget(ctx, id)
		return typedConfig{c.Type, storedConfig{c.Config, c.Secret, sc}}, err
	default:
		c, err := q.GetNotifier(ctx, id)
		return typedConfig{c.Type, storedConfig{c.Config, c.Secret, sc}}, err
	}
}
