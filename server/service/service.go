// Package service holds the rules of certctl's control plane: who may do
// what, what a valid resource is, and what is recorded in the audit trail.
// Transports (HTTP) call it; it keeps its state through the store.
package service

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/secrets"
	"github.com/certctl/certctl/server/store"
)

// Service is the control plane's domain logic.
type Service struct {
	store      *store.Store
	connectors ConnectorCatalog
	plugins    PluginRegistry
	senders    NotifierSender
	issuers    IssuerProvider
	box        *secrets.Box
	jobs       JobSettings
	now        func() time.Time
	logger     *slog.Logger
	publicURL  string
	fleet      agentFleet
	touched    sync.Map // API key id → when this process last recorded its use
	rules      rulesCache
	cache      issuanceCache
	audits     *auditBacklog // audit events waiting for the database (RunAuditBacklog)
	dashboard  dashboardCache
	// completions commits issuances that end together in one transaction.
	completions completionGroup
}

// Options are what a Service is built from.
type Options struct {
	Store      *store.Store
	Connectors ConnectorCatalog // nil means Builtins (type names only)
	Plugins    PluginRegistry   // nil means no plugins to list
	Notifiers  NotifierSender   // nil means no notifier plugins
	Issuers    IssuerProvider   // nil means no issuer plugins
	Jobs       *JobSettings     // nil means DefaultJobSettings()
	Secrets    *secrets.Box     // encrypts sensitive configuration fields
	Clock      func() time.Time // nil means time.Now
	Logger     *slog.Logger
	// PublicURL is the URL clients reach the server at, without a trailing
	// slash (e.g. https://certctl.example.com). It gives local CA issuers
	// created without a crl_url their CRL distribution point,
	// <PublicURL>/crl/<name>.crl. Empty means none.
	PublicURL string
	// AuditBacklog is how many audit events of failures may wait in
	// memory for an unavailable database (see RunAuditBacklog); 0 means
	// DefaultAuditBacklog.
	AuditBacklog int
}

// New returns a Service.
func New(o Options) *Service {
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Connectors == nil {
		o.Connectors = Builtins{}
	}
	jobs := DefaultJobSettings()
	if o.Jobs != nil {
		jobs = *o.Jobs
	}
	return &Service{store: o.Store, connectors: o.Connectors, plugins: o.Plugins, senders: o.Notifiers, issuers: o.Issuers,
		box: o.Secrets, jobs: jobs, now: o.Clock, logger: o.Logger, publicURL: strings.TrimSuffix(o.PublicURL, "/"),
		audits: newAuditBacklog(o.AuditBacklog)}
}

// clock returns the current time at the database's precision.
func (s *Service) clock() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// newID returns a time-ordered UUIDv7, so that ids sort by creation.
func newID() uuid.UUID {
	return uuid.Must(uuid.NewV7())
}

// actor returns the caller, which the transport must have put in ctx.
func actor(ctx context.Context) (core.Actor, error) {
	a, ok := core.ActorFrom(ctx)
	if !ok {
		return core.Actor{}, core.Errorf(core.EUNAUTHORIZED, "authentication required")
	}
	return a, nil
}

// authorize checks that the caller has at least role. A denial is
// recorded in the audit trail when action is not empty.
func (s *Service) authorize(ctx context.Context, role, action, resourceType, resourceID string) (core.Actor, error) {
	a, err := actor(ctx)
	if err != nil {
		return a, err
	}
	if role == "" || a.Can(role) { // "": any caller; the operation checks further
		return a, nil
	}
	denied := core.Errorf(core.EFORBIDDEN, "role %q may not do this (needs %s)", a.Role, role)
	if action != "" {
		s.auditOutside(ctx, a, action, resourceType, resourceID, core.OutcomeDenied, map[string]any{"error": denied.Message})
	}
	return a, denied
}

// change describes one mutation for mutate.
type change struct {
	role         string // the least role allowed to make it
	action       string // e.g. "issuer.create"
	resourceType string // e.g. "issuer"
	resourceID   string // known before the change, or set by apply
}

// mutate authorizes and applies one change in a transaction together with
// its audit event. apply returns the resource id (if it was not known
// before) and details for the audit trail. A change that fails is recorded
// with outcome "failure" in a transaction of its own.
func (s *Service) mutate(ctx context.Context, c change, apply func(q *store.Queries) (string, map[string]any, error)) error {
	a, err := s.authorize(ctx, c.role, c.action, c.resourceType, c.resourceID)
	if err != nil {
		return err
	}
	err = s.store.InTx(ctx, func(q *store.Queries) error {
		id, details, err := apply(q)
		if err != nil {
			return err
		}
		if id != "" {
			c.resourceID = id
		}
		return q.AppendAudit(ctx, s.auditEvent(ctx, a, c.action, c.resourceType, c.resourceID, core.OutcomeSuccess, details))
	})
	if err != nil {
		if core.ErrorCode(err) == core.EINTERNAL {
			s.logger.ErrorContext(ctx, "mutation failed", "action", c.action, "resource_id", c.resourceID, "err", err)
		}
		s.auditOutside(ctx, a, c.action, c.resourceType, c.resourceID, core.OutcomeFailure,
			map[string]any{"error": core.ErrorMessage(err), "code": core.ErrorCode(err)})
		return err
	}
	return nil
}

func (s *Service) auditEvent(ctx context.Context, a core.Actor, action, resourceType, resourceID, outcome string, details map[string]any) core.AuditEvent {
	return core.AuditEvent{
		ID:           newID(),
		OccurredAt:   s.clock(),
		Actor:        a.ID,
		ActorType:    a.Type,
		ActorName:    a.Name,
		Action:       action,
		ResourceType: resourceType,
		ResourceID:   resourceID,
		Outcome:      outcome,
		RequestID:    core.RequestIDFrom(ctx),
		Details:      details,
	}
}

// auditOutside records a denied or failed change in its own transaction.
// The request's own context may be cancelled already, so it uses a fresh,
// bounded one. When the database is unavailable (often the very cause of
// the failure), the event waits for it in the audit backlog.
func (s *Service) auditOutside(ctx context.Context, a core.Actor, action, resourceType, resourceID, outcome string, details map[string]any) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	e := s.auditEvent(ctx, a, action, resourceType, resourceID, outcome, details)
	if err := s.store.Q().AppendAudit(wctx, e); err != nil {
		s.keepAudit(ctx, e, err)
	}
}

// read authorizes a read: any authenticated API key may read.
func (s *Service) read(ctx context.Context) error {
	_, err := s.authorize(ctx, core.RoleViewer, "", "", "")
	return err
}

// errIs reports whether err carries code.
func errIs(err error, code string) bool {
	var e *core.Error
	return errors.As(err, &e) && e.Code == code
}

// AuthorizeMutation is the coarse gate transports put before every
// request that changes something: only operators and admins change
// anything. (Each operation checks its own, possibly stricter, role too.)
// A refusal is recorded in the audit trail under the action and resource.
func (s *Service) AuthorizeMutation(ctx context.Context, action, resourceType, resourceID string) error {
	_, err := s.authorize(ctx, core.RoleOperator, action, resourceType, resourceID)
	return err
}
