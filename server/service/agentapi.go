package service

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// What agents do, seen from the server: enroll with a single-use token,
// then authenticate with their own credential, report facts in heartbeats,
// fetch their work (CSRs to make, versions to deploy) and report results.
// An agent sees and changes only its own work; a retired agent is refused.

// Agent timing.
const (
	// HeartbeatInterval is how often agents are told to report.
	HeartbeatInterval = 30 * time.Second
	// offlineAfter: an agent silent this long is marked offline.
	offlineAfter = 3 * HeartbeatInterval
	// agentJobLease: how long an agent may take to deploy before its
	// deploy job can be handed out again.
	agentJobLease = 10 * time.Minute
)

// AgentFacts are what an agent reports about its host.
type AgentFacts = store.AgentFacts

// Enroll turns a single-use enrollment token into an agent and its own
// credential (returned once; the server keeps only its hash). The agent's
// name comes from the token when it names one, else from the request,
// else from the host name.
func (s *Service) Enroll(ctx context.Context, token, name string, facts AgentFacts) (core.Agent, string, error) {
	var agent core.Agent
	var credential string
	sys := core.WithActor(ctx, core.SystemActor)
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		now := s.clock()
		id := newID()
		t, err := q.TakeEnrollmentToken(ctx, hashSecret(token), now)
		if err != nil {
			return err
		}
		switch {
		case t.AgentName != "":
			name = t.AgentName
		case name == "":
			name = strings.ToLower(facts.Hostname)
		}
		if err := core.ValidateName("name", name); err != nil {
			return err
		}
		agent = core.Agent{ID: id, Name: name, Status: core.AgentPending, Labels: t.Labels, OS: facts.OS, Arch: facts.Arch,
			IPAddress: facts.IPAddress, Hostname: facts.Hostname, AgentVersion: facts.AgentVersion,
			UptimeSeconds: facts.UptimeSeconds, Plugins: facts.Plugins, EnrolledAt: now, CreatedAt: now, UpdatedAt: now}
		if agent.Labels == nil {
			agent.Labels = map[string]string{}
		}
		if err := q.CreateAgent(ctx, agent); err != nil {
			if errIs(err, core.ECONFLICT) {
				return core.Errorf(core.ECONFLICT, "an agent named %q exists already; enroll with another name", name)
			}
			return err
		}
		if err := q.SetTokenAgent(ctx, t.ID, id); err != nil {
			return err
		}
		secret, hash, _ := newSecret(agentCredentialPrefix)
		credential = secret
		if err := q.CreateAgentCredential(ctx, newID(), id, hash, now); err != nil {
			return err
		}
		return q.AppendAudit(ctx, s.auditEvent(sys, core.AgentActor(id, name), "agent.enroll", "agent", id.String(),
			core.OutcomeSuccess, map[string]any{"name": name, "token": t.Prefix, "hostname": facts.Hostname}))
	})
	// Every failure is recorded, a database outage too (the event then
	// waits for the database: see auditOutside), as mutate records them.
	if err != nil {
		s.auditOutside(ctx, core.Actor{Type: core.ActorAgent, ID: "unenrolled", Name: name}, "agent.enroll", "agent", "",
			core.OutcomeFailure, map[string]any{"error": core.ErrorMessage(err), "code": core.ErrorCode(err)})
	}
	return agent, credential, err
}

// IsAgentCredential tells an agent credential from an API key by its prefix.
func IsAgentCredential(secret string) bool {
	return strings.HasPrefix(secret, agentCredentialPrefix)
}

// AuthenticateAgent returns the actor of an agent credential. A retired
// agent is told so (403), an unknown or revoked credential is 401. A
// credential found valid is trusted for AgentAuthTTL (AgentAuthListenTTL
// while revocations are announced to this server) without asking the
// database again.
func (s *Service) AuthenticateAgent(ctx context.Context, credential string) (core.Actor, error) {
	a, err := s.agentByCredential(ctx, credential)
	if err != nil {
		return core.Actor{}, err
	}
	return core.AgentActor(a.ID, a.Name), nil
}

// agentByCredential returns the agent of a valid credential, as the cache
// or else the database knows it.
func (s *Service) agentByCredential(ctx context.Context, credential string) (core.Agent, error) {
	hash := sha256.Sum256([]byte(credential))
	now := s.clock()
	if a, ok := s.fleet.auth.get(hash, now); ok {
		return a, nil
	}
	gen := s.fleet.auth.generation()
	q, release, err := s.store.QWithin(ctx, agentDBWait)
	if err != nil {
		return core.Agent{}, err
	}
	a, revoked, err := q.AgentByCredential(ctx, hash[:])
	release()
	if errIs(err, core.ENOTFOUND) {
		return core.Agent{}, core.Errorf(core.EUNAUTHORIZED, "invalid agent credential")
	}
	if err != nil {
		return core.Agent{}, err
	}
	if a.Status == core.AgentRetired {
		return core.Agent{}, core.Errorf(core.EFORBIDDEN, "agent %q is retired; enroll again with a new token to come back", a.Name)
	}
	if revoked {
		return core.Agent{}, core.Errorf(core.EUNAUTHORIZED, "agent credential was revoked (rotated); use the new one")
	}
	s.fleet.auth.put(hash, gen, a, now.Add(s.agentAuthTTL()))
	return a, nil
}

// agentID returns the calling agent's id.
func agentID(ctx context.Context) (uuid.UUID, error) {
	a, ok := core.ActorFrom(ctx)
	if !ok || a.Type != core.ActorAgent {
		return uuid.Nil, core.Errorf(core.EFORBIDDEN, "only agents call this")
	}
	return uuid.Parse(a.ID)
}

// Heartbeat records an agent's facts and marks it online.
func (s *Service) Heartbeat(ctx context.Context, facts AgentFacts) (core.Agent, error) {
	id, err := agentID(ctx)
	if err != nil {
		return core.Agent{}, err
	}
	now := s.clock()
	// Kept for the next batch when this server knows the agent (it was
	// just authenticated) and writes batches (heartbeats.go).
	if a, ok := s.fleet.auth.agentOf(id, now); ok && s.fleet.beats.keep(store.Heartbeat{AgentID: id, Facts: facts, At: now}) {
		return heartbeatAgent(a, facts, now), nil
	}
	return s.store.Q().RecordHeartbeat(ctx, id, facts, now)
}

// RotateAgentCredential gives the calling agent a new credential and
// revokes the old ones.
func (s *Service) RotateAgentCredential(ctx context.Context) (string, error) {
	id, err := agentID(ctx)
	if err != nil {
		return "", err
	}
	var secret string
	err = s.mutate(ctx, change{role: "", action: "agent.rotate_credential", resourceType: "agent", resourceID: id.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			var hash []byte
			secret, hash, _ = newSecret(agentCredentialPrefix)
			credID := newID()
			if err := q.CreateAgentCredential(ctx, credID, id, hash, s.clock()); err != nil {
				return "", nil, err
			}
			return "", nil, q.RevokeAgentCredentials(ctx, id, credID, s.clock())
		})
	s.fleet.auth.forget(id, s.clock()) // the old credential stops working here at once
	return secret, err
}

// WorkItem is one thing an agent must do.
type WorkItem struct {
	Job         core.Job
	Certificate core.Certificate
	ReuseKey    bool                     // CSR work: keep the key of the current version
	Version     *core.CertificateVersion // deploy work
	Target      *core.Target             // deploy work
	Config      plugin.Config            // deploy work: the target's whole configuration
	// http-01 work: challenges to start (Present) or stop serving.
	HTTP01     bool
	Present    bool
	Challenges []core.Challenge
}

// Long polls for work wait for a notification (see AgentHub), or until
// the earliest retry of the agent's deployments comes due, and re-check
// the database on their own only rarely: a notification is lost only
// when a server dies between a commit and the notification it sends
// afterwards (store.Store.InTx), and the hub wakes every poll when its
// listener reconnects. Without a hub (notify nil) they re-check often.
const (
	agentWorkSafetyRecheck = time.Minute
	agentWorkRecheck       = 5 * time.Second
)

// agentWorkNow returns the agent's work now, and when its next retry
// comes due (nil when none is scheduled).
//
// With resend the agent's deployments that it took and has not reported
// are handed out again (see PollAgentWork).
func (s *Service) agentWorkNow(ctx context.Context, agent uuid.UUID, resend bool) ([]WorkItem, *time.Time, error) {
	q, release, err := s.store.QWithin(ctx, agentDBWait)
	if err != nil {
		return nil, nil, err
	}
	defer release()
	now := s.clock()
	jobs, next, err := q.AgentJobs(ctx, agent, now, 50, resend)
	if err != nil {
		return nil, nil, err
	}
	out, err := s.agentCleanupWork(ctx, q, agent)
	if err != nil {
		return nil, nil, err
	}
	for _, j := range jobs {
		c, err := q.GetCertificate(ctx, *j.CertificateID)
		if err != nil {
			return nil, nil, err
		}
		item := WorkItem{Job: j, Certificate: c}
		switch j.Kind {
		case core.JobIssue, core.JobRenew:
			if len(j.Payload.AwaitingChallenges) > 0 {
				// The CA's order waits for this agent's HTTP-01 responses.
				chs, err := presentWork(ctx, q, j, agent)
				if err != nil {
					return nil, nil, err
				}
				if len(chs) == 0 {
					continue
				}
				item.HTTP01, item.Present, item.Challenges = true, true, chs
				break
			}
			p, err := s.policyFor(ctx, c.RenewalPolicyID)
			if err != nil {
				return nil, nil, err
			}
			item.ReuseKey = p.ReuseKey
		case core.JobDeploy:
			if c.KeyMode == core.KeyModeServer {
				if err := s.refuseServerKeyDeploy(ctx, j, c, agent); err != nil {
					return nil, nil, err
				}
				continue
			}
			taken, err := q.TakeAgentJob(ctx, j.ID, agent, now.Add(agentJobLease), now, resend)
			if errIs(err, core.ENOTFOUND) {
				continue // another poll of this agent took it
			}
			if err != nil {
				return nil, nil, err
			}
			item.Job = taken
			v, err := q.GetVersionByID(ctx, *j.Payload.VersionID)
			if err != nil {
				return nil, nil, err
			}
			t, err := q.GetTarget(ctx, *j.TargetID)
			if err != nil {
				return nil, nil, err
			}
			cfg, err := s.openConfig(t.Config, t.Secret, sealContext(plugin.KindTarget, t.ID.String()))
			if err != nil {
				return nil, nil, err
			}
			item.Version, item.Target, item.Config = &v, &t, cfg
			if d, err := q.DeploymentByJob(ctx, j.ID); err == nil {
				_ = q.SetDeploymentStatus(ctx, d.ID, "in_progress", "", d.Metadata, false, now)
			}
		}
		out = append(out, item)
	}
	return out, next, nil
}

// refuseServerKeyDeploy fails a deploy job that would hand agent a
// certificate whose key the server keeps (its target got an agent after
// it was declared): keys never go to agents, so the agent could only fail
// it, and with a word about a missing key file. The server fails it
// instead, recorded as an agent's failed report is, saying what to change.
func (s *Service) refuseServerKeyDeploy(ctx context.Context, j core.Job, c core.Certificate, agent uuid.UUID) error {
	a, _ := core.ActorFrom(ctx)
	return s.store.InTx(ctx, func(q *store.Queries) error {
		now := s.clock()
		taken, err := q.TakeAgentJob(ctx, j.ID, agent, now.Add(agentJobLease), now, false)
		if errIs(err, core.ENOTFOUND) {
			return nil // another poll of this agent took it
		}
		if err != nil {
			return err
		}
		targets, err := q.GetTargets(ctx, c.TargetIDs)
		if err != nil {
			return err
		}
		allHere := len(targets) > 0
		for _, t := range targets {
			allHere = allHere && t.AgentID != nil && *t.AgentID == agent
		}
		msg := fmt.Sprintf(`certificate %q keeps its key on the server (key_mode "server") and keys never go to agents: `, c.Name)
		if allHere {
			msg += fmt.Sprintf(`change it to key_mode "agent" (a PUT without key_mode picks it) so that agent %s makes the key`, a.Name)
		} else {
			msg += fmt.Sprintf(`bind all its targets to agent %s and change it to key_mode "agent" (a PUT without key_mode picks it), `+
				`or declare one certificate per agent`, a.Name)
		}
		return s.finishDeployment(ctx, q, core.SystemActor, taken, agent, DeployReport{Message: msg})
	})
}

// DeployReport is an agent's account of a deployment.
type DeployReport struct {
	Succeeded    bool
	Message      string
	Metadata     map[string]any
	ServedSerial string // what ValidateDeployment saw live
	Verified     bool
}

// ReportDeployment records the outcome of a deploy job the agent took.
func (s *Service) ReportDeployment(ctx context.Context, jobID uuid.UUID, r DeployReport) error {
	agent, err := agentID(ctx)
	if err != nil {
		return err
	}
	a, _ := core.ActorFrom(ctx)
	return s.store.InTx(ctx, func(q *store.Queries) error {
		j, err := q.GetJobForUpdate(ctx, jobID)
		if err != nil {
			return err
		}
		if j.AgentID == nil || *j.AgentID != agent || j.Kind != core.JobDeploy {
			return core.Errorf(core.ENOTFOUND, "job not found")
		}
		if j.State != core.JobRunning || j.LeaseOwner != "agent:"+agent.String() {
			return core.Errorf(core.ECONFLICT, "job is %s; report only deployments you took", j.State)
		}
		return s.finishDeployment(ctx, q, a, j, agent, r)
	})
}

// finishDeployment records the outcome of a deploy job leased to agent:
// the job ends, its deployment takes the outcome, the audit log gets
// deployment.succeeded or deployment.failed as actor, and a failure is
// announced (deployment.failed). Agents' reports end here, and so does a
// deployment the server refuses to hand to an agent.
func (s *Service) finishDeployment(ctx context.Context, q *store.Queries, actor core.Actor, j core.Job, agent uuid.UUID, r DeployReport) error {
	jobID := j.ID
	now := s.clock()
	d, err := q.DeploymentByJob(ctx, jobID)
	if err != nil {
		return err
	}
	meta := r.Metadata
	if meta == nil {
		meta = map[string]any{}
	}
	if r.ServedSerial != "" {
		meta["served_serial"] = r.ServedSerial
	}
	state, status, outcome, action := core.JobSucceeded, "succeeded", core.OutcomeSuccess, "deployment.succeeded"
	if !r.Succeeded {
		state, status, outcome, action = core.JobFailed, "failed", core.OutcomeFailure, "deployment.failed"
	}
	if err := q.FinishJob(ctx, jobID, j.LeaseOwner, state, failMessage(r), now, now); err != nil {
		return err
	}
	if err := q.SetDeploymentStatus(ctx, d.ID, status, r.Message, meta, r.Verified && r.Succeeded, now); err != nil {
		return err
	}
	if err := q.AppendAudit(ctx, s.auditEvent(ctx, actor, action, "deployment", d.ID.String(), outcome,
		map[string]any{"job_id": jobID.String(), "target_id": d.TargetID.String(), "version_id": d.VersionID.String(),
			"message": r.Message, "served_serial": r.ServedSerial})); err != nil {
		return err
	}
	if r.Succeeded {
		return nil
	}
	c, err := q.GetCertificate(ctx, d.CertificateID)
	if err != nil {
		return err
	}
	return s.emit(ctx, q, Event{Name: EventDeploymentFailed, Certificate: &c, AgentID: &agent, Key: jobID.String(),
		Details: map[string]string{"target_id": d.TargetID.String(), "message": r.Message}})
}

func failMessage(r DeployReport) string {
	if r.Succeeded {
		return ""
	}
	return r.Message
}

// SweepOfflineAgents marks agents that stopped sending heartbeats offline
// and announces each.
func (s *Service) SweepOfflineAgents(ctx context.Context) (int, error) {
	var n int
	err := s.store.InTx(ctx, func(q *store.Queries) error {
		now := s.clock()
		agents, err := q.MarkAgentsOffline(ctx, now.Add(-offlineAfter), now)
		if err != nil {
			return err
		}
		n = len(agents)
		for _, a := range agents {
			id := a.ID
			if err := q.AppendAudit(ctx, s.auditEvent(ctx, core.SystemActor, "agent.offline", "agent", a.ID.String(),
				core.OutcomeSuccess, map[string]any{"name": a.Name, "last_heartbeat_at": a.LastHeartbeatAt})); err != nil {
				return err
			}
			if err := s.emit(ctx, q, Event{Name: EventAgentOffline, AgentID: &id, Key: a.ID.String() + ":" + a.LastHeartbeatAt.UTC().Format(time.RFC3339),
				Details: map[string]string{"agent": a.Name, "hostname": a.Hostname, "message": "agent " + a.Name + " stopped sending heartbeats"}}); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}
