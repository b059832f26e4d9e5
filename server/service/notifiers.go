package service

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// NotifierInput is what a client declares for a notifier.
type NotifierInput struct {
	Name    string
	Type    string
	Config  map[string]any
	Enabled *bool // nil means true on create, unchanged on update
}

// CreateNotifier creates a notifier after its plugin checked the configuration.
func (s *Service) CreateNotifier(ctx context.Context, in NotifierInput) (core.Notifier, error) {
	defer s.forgetRules()
	var out core.Notifier
	err := s.mutate(ctx, change{role: core.RoleOperator, action: "notifier.create", resourceType: "notifier"},
		func(q *store.Queries) (string, map[string]any, error) {
			if err := core.ValidateName("name", in.Name); err != nil {
				return "", nil, err
			}
			id := newID()
			public, sealed, err := s.prepareConnector(ctx, connectorInput{plugin.KindNotifier, in.Type, in.Config}, id.String(), nil, false)
			if err != nil {
				return "", nil, err
			}
			now := s.clock()
			out = core.Notifier{ID: id, Name: in.Name, Type: in.Type, Config: public, Secret: sealed, Enabled: true,
				CreatedAt: now, UpdatedAt: now}
			if in.Enabled != nil {
				out.Enabled = *in.Enabled
			}
			if err := q.CreateNotifier(ctx, out); err != nil {
				return "", nil, err
			}
			return id.String(), map[string]any{"name": out.Name, "type": out.Type}, nil
		})
	return out, err
}

// GetNotifier returns a notifier.
func (s *Service) GetNotifier(ctx context.Context, id uuid.UUID) (core.Notifier, error) {
	if err := s.read(ctx); err != nil {
		return core.Notifier{}, err
	}
	return s.store.Q().GetNotifier(ctx, id)
}

// ListNotifiers returns a page of notifiers.
func (s *Service) ListNotifiers(ctx context.Context, f core.NotifierFilter) ([]core.Notifier, bool, error) {
	if err := s.read(ctx); err != nil {
		return nil, false, err
	}
	return s.store.Q().ListNotifiers(ctx, f)
}

// UpdateNotifier renames a notifier, enables or disables it and changes its
// configuration (fields left out keep their values, null resets them).
func (s *Service) UpdateNotifier(ctx context.Context, id uuid.UUID, in NotifierInput) (core.Notifier, error) {
	defer s.forgetRules()
	var out core.Notifier
	err := s.mutate(ctx, change{role: core.RoleOperator, action: "notifier.update", resourceType: "notifier", resourceID: id.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			cur, err := q.GetNotifierForUpdate(ctx, id)
			if err != nil {
				return "", nil, err
			}
			if in.Type != "" && in.Type != cur.Type {
				return "", nil, core.Invalid("type", "cannot change from %q to %q; create a new notifier", cur.Type, in.Type)
			}
			if err := core.ValidateName("name", in.Name); err != nil {
				return "", nil, err
			}
			current := &storedConfig{public: cur.Config, sealed: cur.Secret, context: sealContext(plugin.KindNotifier, id.String())}
			public, sealed, err := s.prepareConnector(ctx, connectorInput{plugin.KindNotifier, cur.Type, in.Config}, id.String(), current, false)
			if err != nil {
				return "", nil, err
			}
			out = cur
			out.Name, out.Config, out.Secret, out.UpdatedAt = in.Name, public, sealed, s.clock()
			if in.Enabled != nil {
				out.Enabled = *in.Enabled
			}
			if err := q.UpdateNotifier(ctx, out); err != nil {
				return "", nil, err
			}
			return "", map[string]any{"name": out.Name, "enabled": out.Enabled}, nil
		})
	return out, err
}

// DeleteNotifier deletes a notifier and its rules.
func (s *Service) DeleteNotifier(ctx context.Context, id uuid.UUID) error {
	defer s.forgetRules()
	return s.mutate(ctx, change{role: core.RoleOperator, action: "notifier.delete", resourceType: "notifier", resourceID: id.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			return "", nil, q.DeleteNotifier(ctx, id)
		})
}

// NotifierSender delivers through a notifier plugin; *host.Host provides one per type.
type NotifierSender interface {
	Notifier(name string) (plugin.Notifier, error)
}

// TestNotifier sends a test event through a notifier, so that operators can
// check its configuration end to end. The result is audited.
func (s *Service) TestNotifier(ctx context.Context, id uuid.UUID) (plugin.SendResult, error) {
	var out plugin.SendResult
	err := s.mutate(ctx, change{role: core.RoleOperator, action: "notifier.test", resourceType: "notifier", resourceID: id.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			n, err := q.GetNotifier(ctx, id)
			if err != nil {
				return "", nil, err
			}
			cfg, err := s.openConfig(n.Config, n.Secret, sealContext(plugin.KindNotifier, id.String()))
			if err != nil {
				return "", nil, err
			}
			if s.senders == nil {
				return "", nil, core.Errorf(core.EUNAVAILABLE, "this server runs no notifier plugins")
			}
			p, err := s.senders.Notifier(n.Type)
			if err != nil {
				return "", nil, pluginError(err, plugin.KindNotifier, n.Type)
			}
			sendCtx, cancel := context.WithTimeout(ctx, validationTimeout)
			defer cancel()
			now := s.clock()
			out, err = p.SendEvent(sendCtx, plugin.SendRequest{Config: cfg, Notification: plugin.Notification{
				ID: "test-" + newID().String(), Event: "notifier.test", Severity: plugin.SeverityInfo,
				Title:   "certctl test notification",
				Message: "This is a test from certctl: notifier " + n.Name + " works.", OccurredAt: now.Truncate(time.Second),
			}})
			if err != nil {
				return "", nil, pluginError(err, plugin.KindNotifier, n.Type)
			}
			return "", map[string]any{"message_id": out.MessageID}, nil
		})
	return out, err
}
