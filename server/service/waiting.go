package service

// waiting.go: honest status for things that are not done yet. A live job
// says what it waits for, worked out from the current facts about its
// agent and target; and clients can wait (GET ...?wait=30s) for a job or a
// certificate to settle instead of polling, woken by the database.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
)

// MaxWait bounds how long one read may wait for a job or certificate.
const MaxWait = 60 * time.Second

// waitRecheck is how often a wait looks again without being woken: the
// database wakes it when a job ends, but an agent going offline (which
// settles a certificate whose deployment waits on it) announces nothing.
const waitRecheck = 2 * time.Second

// WaitingFor says why a live job is not progressing, from the facts read
// with it (j.Facts), or "" when it is not waiting on anything: it is done,
// a worker can run it now, or its agent is at work on it.
func WaitingFor(j core.Job, now time.Time) string {
	if j.Facts == nil || !jobLive(j.State) {
		return ""
	}
	f := j.Facts
	onAgent := j.Kind == core.JobDeploy || ((j.Kind == core.JobIssue || j.Kind == core.JobRenew) && j.State == core.JobWaiting)
	if onAgent {
		if j.AgentID == nil {
			if j.Kind == core.JobDeploy {
				return fmt.Sprintf("target %s has no agent", nameOr(f.TargetName, j.TargetID))
			}
			return "an agent: none of the certificate's targets has one"
		}
		agent := nameOr(f.AgentName, j.AgentID)
		if why := agentUnavailable(agent, f, now); why != "" {
			return why
		}
		switch {
		case j.Kind != core.JobDeploy && len(j.Payload.AwaitingChallenges) > 0:
			return fmt.Sprintf("agent %s to present HTTP-01 challenges for %s", agent, strings.Join(j.Payload.AwaitingChallenges, ", "))
		case j.Kind != core.JobDeploy:
			return fmt.Sprintf("agent %s to send a CSR", agent)
		case j.State == core.JobRunning:
			return "" // the agent took it and is deploying
		case j.State == core.JobRetrying && j.RunAt.After(now):
			return fmt.Sprintf("agent %s to pick it up after %s", agent, rfc3339(j.RunAt))
		default:
			return fmt.Sprintf("agent %s to pick it up", agent)
		}
	}
	if j.Payload.OrderID != "" && j.State == core.JobQueued && j.RunAt.After(now) {
		return fmt.Sprintf("the CA to process order %s (next look at %s)", j.Payload.OrderID, rfc3339(j.RunAt))
	}
	if j.State == core.JobRetrying && j.RunAt.After(now) {
		return "next attempt at " + rfc3339(j.RunAt)
	}
	return ""
}

// agentUnavailable says why an agent cannot take work now, or "". An
// agent silent for longer than offlineAfter counts as offline even before
// the sweep marks it so.
func agentUnavailable(name string, f *core.JobFacts, now time.Time) string {
	switch f.AgentStatus {
	case core.AgentRetired:
		return fmt.Sprintf("agent %s, which is retired", name)
	case core.AgentPending:
		return fmt.Sprintf("agent %s to connect (enrolled, no heartbeat yet)", name)
	}
	seen := f.AgentLastHeartbeatAt
	if f.AgentStatus == core.AgentOffline || seen == nil || now.Sub(*seen) > offlineAfter {
		if seen == nil {
			return fmt.Sprintf("agent %s, which is offline", name)
		}
		return fmt.Sprintf("agent %s offline since %s", name, rfc3339(*seen))
	}
	return ""
}

func nameOr(name string, id *uuid.UUID) string {
	if name != "" || id == nil {
		return name
	}
	return id.String()
}

func rfc3339(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}

// WaitJob returns a job once it is settled (succeeded, failed or
// cancelled), or when wait elapses, whichever comes first. changed, when
// not nil, receives when the job may have changed (see AgentHub: the
// database announces every job that ends). When ctx ends it returns at
// once with the state it read last.
func (s *Service) WaitJob(ctx context.Context, id uuid.UUID, wait time.Duration, changed <-chan struct{}) (core.Job, error) {
	var j core.Job
	err := s.waitUntil(ctx, wait, changed, func() (bool, error) {
		got, err := s.GetJob(ctx, id)
		if err != nil {
			return false, err
		}
		j = got
		return !jobLive(j.State), nil
	})
	return j, err
}

// WaitCertificate returns a certificate once it is settled, or when wait
// elapses, whichever comes first: settled means no issue, renew, revoke or
// deploy job of it is live that can progress (one that waits on an agent
// that is offline, or on a target without agent, cannot). changed and ctx
// work as for WaitJob.
func (s *Service) WaitCertificate(ctx context.Context, id uuid.UUID, wait time.Duration, changed <-chan struct{}) (core.Certificate, error) {
	var c core.Certificate
	err := s.waitUntil(ctx, wait, changed, func() (bool, error) {
		// Settled first, then the certificate: the answer is then at least
		// as new as the decision. The other order could see the issue job
		// end between the two reads and answer "settled" with the status
		// read before it ended.
		settled, err := s.store.Q().CertificateSettled(ctx, id, s.clock().Add(-offlineAfter))
		if err != nil {
			return false, err
		}
		got, err := s.GetCertificate(ctx, id)
		if err != nil {
			return false, err
		}
		c = got
		return settled, nil
	})
	return c, err
}

// waitUntil runs check until it reports done or fails, wait elapses (then
// it checks a last time, so that the caller answers with the current
// state) or ctx ends (then it stops at once: the caller answers with what
// check read last).
func (s *Service) waitUntil(ctx context.Context, wait time.Duration, changed <-chan struct{}, check func() (bool, error)) error {
	done, err := check()
	if err != nil || done || wait <= 0 {
		return err
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	recheck := time.NewTicker(waitRecheck)
	defer recheck.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-deadline.C:
			_, err := check()
			if err != nil && ctx.Err() != nil {
				return nil
			}
			return err
		case <-changed:
		case <-recheck.C:
		}
		done, err := check()
		if err != nil && ctx.Err() != nil {
			return nil
		}
		if err != nil || done {
			return err
		}
	}
}
