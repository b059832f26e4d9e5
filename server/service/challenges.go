package service

// challenges.go: issuances whose CA answers "pending" (ACME orders). The
// job keeps the order (and, in server key mode, the key and CSR) in its
// payload and runs again later without counting a failed attempt; the
// HTTP-01 challenges the CA asks for are presented by the server's
// responder or by the agent that owns the certificate's targets, from the
// http01_challenges table (migration 00006).

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// Bounds of the wait before a pending order is looked at again: the
// issuer's RetryAfter, at least a second (never a hot loop) and at most an
// hour. A CA's Retry-After on a transient error is capped the same way.
const (
	minPendingWait = time.Second
	maxPendingWait = time.Hour
)

// DefaultPendingLimit is how long an order may stay pending before its
// job fails.
const DefaultPendingLimit = 24 * time.Hour

// jobKeyContext is the sealing context of a pending order's private key.
func jobKeyContext(id uuid.UUID) string { return "job:" + id.String() }

func clampWait(d time.Duration) time.Duration {
	return min(max(d, minPendingWait), maxPendingWait)
}

// presentedTokens returns the tokens of a job's challenges that are served now.
func (s *Service) presentedTokens(ctx context.Context, jobID uuid.UUID) ([]string, error) {
	cs, err := s.store.Q().JobChallenges(ctx, jobID)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range cs {
		if c.State == core.ChallengePresented {
			out = append(out, c.Token)
		}
	}
	return out, nil
}

// validToken: ACME tokens are base64url (RFC 8555 §8.3); they end up in a
// URL path and a file name on the agent's host, so nothing else passes.
func validToken(t string) bool {
	if t == "" || len(t) > 256 {
		return false
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// challengeRows turns an issuer's challenges into rows, each with who
// presents it: the server ("server"), the agent of the certificate's
// targets ("agent"), or the agent when there is one, else the server ("").
func (s *Service) challengeRows(ctx context.Context, j core.Job, c core.Certificate, chs []plugin.Challenge) ([]core.Challenge, error) {
	var rows []core.Challenge
	var agent *uuid.UUID
	agentRead := false
	for _, ch := range chs {
		if ch.Type != plugin.ChallengeHTTP01 {
			return nil, failf(FailUnsupported, "the issuer asks the host to present a %q challenge for %s; "+
				"certctl presents only %s challenges", ch.Type, ch.Identifier, plugin.ChallengeHTTP01)
		}
		if !validToken(ch.Token) || ch.KeyAuthorization == "" || ch.Identifier == "" || len(ch.KeyAuthorization) > 1024 {
			return nil, failf(FailBadAnswer, "the issuer returned a malformed HTTP-01 challenge for %q", ch.Identifier)
		}
		if !agentRead && ch.Solver != plugin.SolverServer {
			var err error
			if agent, err = s.store.Q().CertificateAgent(ctx, c.ID); err != nil {
				return nil, err
			}
			agentRead = true
		}
		row := core.Challenge{JobID: j.ID, Token: ch.Token, Identifier: ch.Identifier, KeyAuthorization: ch.KeyAuthorization,
			State: core.ChallengePresented}
		switch ch.Solver {
		case plugin.SolverServer:
		case plugin.SolverAgent, plugin.SolverAuto:
			if agent == nil && ch.Solver == plugin.SolverAgent {
				return nil, failf(FailUnsupported, "the issuer asks the agent of certificate %q to present the HTTP-01 "+
					"challenge for %s, but none of its targets is bound to an agent: bind a target to the agent on the host "+
					"%s points at, or set the issuer's http01_solver to \"server\" if it points at certctl's server",
					c.Name, ch.Identifier, ch.Identifier)
			}
			if agent != nil {
				row.AgentID, row.State = agent, core.ChallengePending
			}
		default:
			return nil, failf(FailBadAnswer, "the issuer names an unknown challenge solver %q", ch.Solver)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// pendIssuance keeps an order the CA has not finished: the job goes back
// to the queue (due after the issuer's RetryAfter, or at once when the
// server now presents new challenges), or waits for its agent to present
// challenges. None of this counts as a failed attempt. An order pending
// longer than the limit fails the job.
func (s *Service) pendIssuance(ctx context.Context, owner string, j core.Job, in issuanceInput, res plugin.IssueResult) error {
	ctx = context.WithoutCancel(ctx)
	now := s.clock()
	p := j.Payload
	since := now
	if p.PendingSince != nil {
		since = *p.PendingSince
	}
	order := res.OrderID
	if order == "" {
		order = p.OrderID
	}
	if limit := s.jobs.PendingLimit; limit > 0 && now.Sub(since) > limit {
		return failf(FailTimedOut, "the CA's order %s is still pending after %s (the limit is %s): "+
			"check the order at the CA and the challenges' names, then retry the job", order,
			now.Sub(since).Round(time.Second), limit)
	}
	rows, err := s.challengeRows(ctx, j, in.cert, res.Challenges)
	if err != nil {
		return err
	}
	firstTime := p.OrderID == ""
	p.OrderID, p.PendingSince = order, &since
	if in.cert.KeyMode == core.KeyModeServer && p.SealedKey == nil {
		// Every later call, and a resumed order, must finalize with this key.
		p.ServerCSRPEM, p.SpecRevision = in.csrPEM, in.cert.SpecRevision
		p.SealedKey = s.box.Seal(in.sealedKey, jobKeyContext(j.ID))
	}
	return s.store.InTx(ctx, func(q *store.Queries) error {
		added, err := q.AddChallenges(ctx, j.ID, rows, now)
		if err != nil {
			return err
		}
		all, err := q.JobChallenges(ctx, j.ID)
		if err != nil {
			return err
		}
		isAdded := map[string]bool{}
		for _, t := range added {
			isAdded[t] = true
		}
		var awaiting []string
		var agent *uuid.UUID
		newOnServer := false
		for _, c := range all {
			switch {
			case c.State == core.ChallengePending && c.AgentID != nil:
				awaiting, agent = append(awaiting, c.Identifier), c.AgentID
			case isAdded[c.Token] && c.AgentID == nil:
				newOnServer = true
			}
		}
		state, runAt := core.JobQueued, now
		p.AwaitingChallenges = nil
		switch {
		case len(awaiting) > 0:
			state, p.AwaitingChallenges = core.JobWaiting, uniqueSorted(awaiting)
		case newOnServer: // served from now on: the CA may validate at once
		default:
			runAt = now.Add(clampWait(res.RetryAfter))
		}
		if err := q.PendJob(ctx, j.ID, owner, state, p, agent, runAt, now); err != nil {
			return err
		}
		if !firstTime && len(added) == 0 {
			return nil // a poll of the order: nothing new to record
		}
		details := map[string]any{"kind": j.Kind, "order_id": order, "challenges_added": len(added), "next_run_at": runAt}
		if len(p.AwaitingChallenges) > 0 {
			details["awaiting_agent"] = agent.String()
			details["awaiting_names"] = p.AwaitingChallenges
		}
		return q.AppendAudit(ctx, s.auditEvent(ctx, core.SystemActor, "job.pending", "job", j.ID.String(), core.OutcomeSuccess, details))
	})
}

func uniqueSorted(xs []string) []string {
	sort.Strings(xs)
	out := xs[:0]
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// ChallengeResponse returns the key authorization the server's HTTP-01
// responder serves for token, and whether there is one.
func (s *Service) ChallengeResponse(ctx context.Context, token string) (string, bool, error) {
	if !validToken(token) {
		return "", false, nil
	}
	return s.store.Q().ServerChallengeResponse(ctx, token)
}

// ChallengeReport is an agent's answer to http-01 work.
type ChallengeReport struct {
	Present bool     // the work item's Present
	Tokens  []string // the tokens done
	Error   string   // why the agent cannot present them
}

// ReportChallenges records an agent's answer to http-01 work: the tokens
// it now serves (when none of the job's is left to present, the job runs
// again at once), the tokens it no longer serves after the job ended (their
// rows go), or why it cannot present them (the job fails with its words).
func (s *Service) ReportChallenges(ctx context.Context, jobID uuid.UUID, r ChallengeReport) error {
	agent, err := agentID(ctx)
	if err != nil {
		return err
	}
	a, _ := core.ActorFrom(ctx)
	notFound := core.Errorf(core.ENOTFOUND, "job not found") // another agent's jobs do not exist for this one
	return s.store.InTx(ctx, func(q *store.Queries) error {
		j, err := lockJob(ctx, q, jobID)
		if err != nil {
			return err
		}
		if j.Kind != core.JobIssue && j.Kind != core.JobRenew {
			return notFound
		}
		all, err := q.JobChallenges(ctx, jobID)
		if err != nil {
			return err
		}
		var mine []core.Challenge
		for _, c := range all {
			if c.AgentID != nil && *c.AgentID == agent {
				mine = append(mine, c)
			}
		}
		if len(mine) == 0 && (j.AgentID == nil || *j.AgentID != agent) {
			return notFound
		}
		if r.Error == "" && len(r.Tokens) == 0 {
			return core.Invalid("tokens", "is required unless error is set")
		}
		now := s.clock()
		if !r.Present {
			tokens := r.Tokens
			if r.Error != "" {
				// The agent could not remove them (it says why in its log):
				// the server forgets them all the same, rather than offer
				// the same cleanup at every poll.
				tokens = nil
				for _, c := range mine {
					tokens = append(tokens, c.Token)
				}
			}
			_, err := q.DeleteAgentChallenges(ctx, jobID, agent, tokens, core.ChallengeCleanup)
			return err
		}
		if j.State != core.JobWaiting || len(j.Payload.AwaitingChallenges) == 0 {
			if r.Error == "" && allPresented(mine, r.Tokens) {
				return nil // the same report again (the first one's answer was lost)
			}
			return core.Errorf(core.ECONFLICT, "job is %s; it does not wait for HTTP-01 challenges", j.State)
		}
		if r.Error != "" {
			msg := fmt.Sprintf("agent %s could not present the HTTP-01 challenges for %s: %s", a.Name,
				strings.Join(j.Payload.AwaitingChallenges, ", "), r.Error)
			if _, err := q.SetJobState(ctx, jobID, core.JobFailed, nil, now, now, msg); err != nil {
				return err
			}
			if err := q.EndChallenges(ctx, jobID, now); err != nil {
				return err
			}
			if err := q.AppendAudit(ctx, s.auditEvent(ctx, a, "job.failed", "job", jobID.String(), core.OutcomeFailure,
				map[string]any{"kind": j.Kind, "attempt": j.Attempt, "max_attempts": j.MaxAttempts, "error": msg})); err != nil {
				return err
			}
			return s.issuanceFailed(ctx, q, j, msg, true)
		}
		if _, err := q.SetAgentChallengeState(ctx, jobID, agent, r.Tokens, core.ChallengePending, core.ChallengePresented, now); err != nil {
			return err
		}
		done := map[string]bool{}
		for _, t := range r.Tokens {
			done[t] = true
		}
		var awaiting []string
		for _, c := range mine {
			if c.State == core.ChallengePending && !done[c.Token] {
				awaiting = append(awaiting, c.Identifier)
			}
		}
		p := j.Payload
		p.AwaitingChallenges = nil
		state := core.JobQueued
		if len(awaiting) > 0 {
			state, p.AwaitingChallenges = core.JobWaiting, uniqueSorted(awaiting)
		}
		if _, err := q.SetJobState(ctx, jobID, state, &p, now, now, ""); err != nil {
			return err
		}
		return q.AppendAudit(ctx, s.auditEvent(ctx, a, "job.challenges_presented", "job", jobID.String(), core.OutcomeSuccess,
			map[string]any{"tokens": len(r.Tokens), "still_awaiting": p.AwaitingChallenges}))
	})
}

// agentCleanupWork returns an agent's http-01 work of ended jobs: the
// challenges to stop serving (Present false).
func (s *Service) agentCleanupWork(ctx context.Context, q *store.Queries, agent uuid.UUID) ([]WorkItem, error) {
	rows, err := q.AgentChallenges(ctx, agent, core.ChallengeCleanup, 500)
	if err != nil || len(rows) == 0 {
		return nil, err
	}
	var out []WorkItem
	byJob := map[uuid.UUID]int{}
	for _, c := range rows {
		i, ok := byJob[c.JobID]
		if !ok {
			j, err := q.GetJob(ctx, c.JobID)
			if err != nil {
				return nil, err
			}
			var cert core.Certificate
			if j.CertificateID != nil {
				if cert, err = q.GetCertificate(ctx, *j.CertificateID); err != nil && !errIs(err, core.ENOTFOUND) {
					return nil, err
				}
			}
			out = append(out, WorkItem{Job: j, Certificate: cert, HTTP01: true})
			i = len(out) - 1
			byJob[c.JobID] = i
		}
		out[i].Challenges = append(out[i].Challenges, c)
	}
	return out, nil
}

// presentWork returns the challenges an agent is asked to present for j,
// or nil.
func presentWork(ctx context.Context, q *store.Queries, j core.Job, agent uuid.UUID) ([]core.Challenge, error) {
	all, err := q.JobChallenges(ctx, j.ID)
	if err != nil {
		return nil, err
	}
	var out []core.Challenge
	for _, c := range all {
		if c.AgentID != nil && *c.AgentID == agent && c.State == core.ChallengePending {
			out = append(out, c)
		}
	}
	return out, nil
}

// allPresented reports whether every token is one of cs, presented.
func allPresented(cs []core.Challenge, tokens []string) bool {
	presented := map[string]bool{}
	for _, c := range cs {
		presented[c.Token] = c.State == core.ChallengePresented
	}
	for _, t := range tokens {
		if !presented[t] {
			return false
		}
	}
	return len(tokens) > 0
}

// failStalePresentations fails the issuance jobs whose agent has not
// presented their HTTP-01 challenges within the pending limit (it is
// offline, or never reports): a waiting job does not run, so nothing else
// would end it.
func (s *Service) failStalePresentations(ctx context.Context) error {
	limit := s.jobs.PendingLimit
	if limit <= 0 {
		return nil
	}
	stale, err := s.store.Q().StalePresentations(ctx, s.clock().Add(-limit), 100)
	if err != nil {
		return err
	}
	for _, j := range stale {
		err := s.store.InTx(ctx, func(q *store.Queries) error {
			j, err := lockJob(ctx, q, j.ID)
			if err != nil || j.State != core.JobWaiting || len(j.Payload.AwaitingChallenges) == 0 {
				return err // it moved on meanwhile
			}
			now := s.clock()
			msg := fmt.Sprintf("the HTTP-01 challenges for %s were not presented within %s (the CA's order %s stays pending): "+
				"is the certificate's agent online?", strings.Join(j.Payload.AwaitingChallenges, ", "), limit, j.Payload.OrderID)
			if _, err := q.SetJobState(ctx, j.ID, core.JobFailed, nil, now, now, msg); err != nil {
				return err
			}
			if err := q.EndChallenges(ctx, j.ID, now); err != nil {
				return err
			}
			if err := q.AppendAudit(ctx, s.auditEvent(ctx, core.SystemActor, "job.failed", "job", j.ID.String(), core.OutcomeFailure,
				map[string]any{"kind": j.Kind, "attempt": j.Attempt, "max_attempts": j.MaxAttempts, "error": msg})); err != nil {
				return err
			}
			return s.issuanceFailed(ctx, q, j, msg, true)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
