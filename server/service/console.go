package service

// What the web console needs beyond the API's operations: sessions that
// stand for an API key, the dashboard's summary, sorted certificate lists
// and an agent's recent work. Reads need any role, like every read.

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// SessionLifetime is how long a console session lasts after sign-in.
const SessionLifetime = 12 * time.Hour

// Session is a console session as the console sees it.
type Session struct {
	Actor     core.Actor
	CSRFToken string
	ExpiresAt time.Time
}

// randomToken returns 256 random bits, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// SignIn checks an API key and opens a console session for it. It returns
// the session's token (for the cookie; only its hash is stored) and the
// session. The sign-in is recorded in the audit trail.
func (s *Service) SignIn(ctx context.Context, apiKey string) (string, Session, error) {
	a, err := s.Authenticate(ctx, apiKey)
	if err != nil {
		return "", Session{}, err
	}
	keyID, err := uuid.Parse(a.ID)
	if err != nil {
		return "", Session{}, core.Errorf(core.EINTERNAL, "API key id %q: %v", a.ID, err)
	}
	token := randomToken()
	now := s.clock()
	st := store.ConsoleSession{APIKeyID: keyID, CSRFToken: randomToken(), CreatedAt: now, ExpiresAt: now.Add(SessionLifetime)}
	ctx = core.WithActor(ctx, a)
	err = s.mutate(ctx, change{action: "console_session.create", resourceType: "api_key", resourceID: a.ID},
		func(q *store.Queries) (string, map[string]any, error) {
			// Sessions that ran out are swept here and at sign-out, so
			// the table holds little more than the live ones.
			if _, err := q.DeleteExpiredConsoleSessions(ctx, now); err != nil {
				return "", nil, err
			}
			return "", nil, q.CreateConsoleSession(ctx, hashSecret(token), st)
		})
	if err != nil {
		return "", Session{}, err
	}
	return token, Session{Actor: a, CSRFToken: st.CSRFToken, ExpiresAt: st.ExpiresAt}, nil
}

// SessionActor returns the session of a console token: its API key's
// actor, as long as the session is unexpired and the key still usable.
func (s *Service) SessionActor(ctx context.Context, token string) (Session, error) {
	if token == "" {
		return Session{}, core.Errorf(core.EUNAUTHORIZED, "not signed in")
	}
	now := s.clock()
	st, k, err := s.store.Q().GetConsoleSession(ctx, hashSecret(token), now)
	if errIs(err, core.ENOTFOUND) {
		return Session{}, core.Errorf(core.EUNAUTHORIZED, "the session ended; sign in again")
	}
	if err != nil {
		return Session{}, err
	}
	if k.RevokedAt != nil {
		return Session{}, core.Errorf(core.EUNAUTHORIZED, "API key %s is revoked", k.Prefix)
	}
	if k.ExpiresAt != nil && !now.Before(*k.ExpiresAt) {
		return Session{}, core.Errorf(core.EUNAUTHORIZED, "API key %s expired", k.Prefix)
	}
	s.touchAPIKey(ctx, k, now)
	return Session{Actor: core.APIKeyActor(k), CSRFToken: st.CSRFToken, ExpiresAt: st.ExpiresAt}, nil
}

// SignOut ends a console session (and expired ones, while at it).
func (s *Service) SignOut(ctx context.Context, token string) error {
	q := s.store.Q()
	if err := q.DeleteConsoleSession(ctx, hashSecret(token)); err != nil {
		return err
	}
	if _, err := q.DeleteExpiredConsoleSessions(ctx, s.clock()); err != nil {
		s.logger.WarnContext(ctx, "delete expired console sessions", "err", err)
	}
	return nil
}

// DashboardMaxAge is how old the dashboard's counts and charts may be.
// Counting 100,000 certificates and a month of jobs costs tens of
// milliseconds of database time; the dashboard shows each process's
// counts for this long, while its lists of recent failures are read
// afresh every time.
const DashboardMaxAge = 15 * time.Second

// dashboardCache holds the counts of the last dashboard.
type dashboardCache struct {
	mu sync.Mutex
	at time.Time
	d  store.Dashboard
}

// Dashboard returns the console's overview: certificates by status,
// expiries over the next 13 weeks, issuance outcomes over the last 30
// days, agents by status, and the latest failures. Its parts are read at
// once, each on its own pooled connection, so the page waits for the
// slowest rather than for their sum.
func (s *Service) Dashboard(ctx context.Context) (store.Dashboard, time.Time, error) {
	if err := s.read(ctx); err != nil {
		return store.Dashboard{}, time.Time{}, err
	}
	const weeks, days, recent = 13, 30, 8
	now := s.clock()
	q := s.store.Q()
	c := &s.dashboard
	c.mu.Lock()
	d, fresh := c.d, !c.at.IsZero() && now.Sub(c.at) < DashboardMaxAge && !now.Before(c.at)
	c.mu.Unlock()
	g, gctx := errgroup.WithContext(ctx)
	if !fresh {
		g.Go(func() (err error) {
			d.CertificatesByStatus, err = q.CountByStatus(gctx, "managed_certificates")
			return err
		})
		g.Go(func() (err error) {
			d.AgentsByStatus, err = q.CountByStatus(gctx, "agents")
			return err
		})
		g.Go(func() (err error) {
			d.ExpiringByWeek, d.Expired, err = q.ExpiriesByWeek(gctx, now, weeks)
			return err
		})
		g.Go(func() (err error) {
			d.SucceededByDay, d.FailedByDay, err = q.IssuanceOutcomesByDay(gctx, now, days)
			return err
		})
	}
	g.Go(func() (err error) {
		d.FailedJobs, _, err = q.ListJobs(gctx, core.JobFilter{State: core.JobFailed, Page: core.Page{Limit: recent}})
		return err
	})
	g.Go(func() (err error) {
		d.FailedDeploys, err = q.RecentFailedDeployments(gctx, recent)
		return err
	})
	if err := g.Wait(); err != nil {
		return store.Dashboard{}, now, err
	}
	if !fresh {
		c.mu.Lock()
		c.at, c.d = now, d
		c.mu.Unlock()
	}
	return d, now, nil
}

// ListCertificatesSorted returns a page of certificates in an order.
func (s *Service) ListCertificatesSorted(ctx context.Context, f store.SortedCertificateFilter) ([]core.Certificate, bool, error) {
	if err := s.read(ctx); err != nil {
		return nil, false, err
	}
	if f.Status != "" {
		if err := core.ValidateOneOf("status", f.Status, core.CertificateStatuses); err != nil {
			return nil, false, err
		}
	}
	return s.store.Q().ListCertificatesSorted(ctx, f)
}

// AgentJobs returns an agent's latest jobs, newest first.
func (s *Service) AgentJobs(ctx context.Context, agentID uuid.UUID, limit int) ([]core.Job, error) {
	if err := s.read(ctx); err != nil {
		return nil, err
	}
	return s.store.Q().ListAgentJobs(ctx, agentID, limit)
}

// Now is the service's clock, for pages that show ages and countdowns.
func (s *Service) Now() time.Time {
	return s.clock()
}
