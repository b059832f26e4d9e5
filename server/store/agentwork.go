package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/server/core"
)

// TakeEnrollmentToken consumes a token: it must exist, be unused,
// unrevoked and unexpired. It returns the token as it was.
func (q *Queries) TakeEnrollmentToken(ctx context.Context, hash []byte, now time.Time) (core.EnrollmentToken, error) {
	t, err := scanToken(q.db.QueryRow(ctx, `SELECT `+tokenColumns+` FROM enrollment_tokens WHERE token_hash = $1 FOR UPDATE`, hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, core.Errorf(core.EUNAUTHORIZED, "invalid enrollment token")
	}
	if err != nil {
		return t, mapError(err, "enrollment token")
	}
	switch {
	case t.RevokedAt != nil:
		return t, core.Errorf(core.EUNAUTHORIZED, "enrollment token %s was revoked", t.Prefix)
	case t.UsedAt != nil:
		return t, core.Errorf(core.EUNAUTHORIZED, "enrollment token %s was already used; tokens are single use", t.Prefix)
	case !now.Before(t.ExpiresAt):
		return t, core.Errorf(core.EUNAUTHORIZED, "enrollment token %s expired at %s", t.Prefix, t.ExpiresAt.Format(time.RFC3339))
	}
	_, err = q.db.Exec(ctx, `UPDATE enrollment_tokens SET used_at = $2 WHERE id = $1`, t.ID, now)
	return t, mapError(err, "enrollment token")
}

// SetTokenAgent records which agent a token enrolled.
func (q *Queries) SetTokenAgent(ctx context.Context, tokenID, agentID uuid.UUID) error {
	_, err := q.db.Exec(ctx, `UPDATE enrollment_tokens SET used_by_agent_id = $2 WHERE id = $1`, tokenID, agentID)
	return mapError(err, "enrollment token")
}

// CreateAgentCredential stores the hash of an agent's credential.
func (q *Queries) CreateAgentCredential(ctx context.Context, id, agentID uuid.UUID, hash []byte, now time.Time) error {
	_, err := q.db.Exec(ctx, `INSERT INTO agent_credentials (id, agent_id, token_hash, created_at) VALUES ($1, $2, $3, $4)`,
		id, agentID, hash, now)
	return mapError(err, "agent credential")
}

// RevokeAgentCredentials revokes an agent's credentials except keep.
func (q *Queries) RevokeAgentCredentials(ctx context.Context, agentID, keep uuid.UUID, now time.Time) error {
	// Announced on agent_work (after the commit), so that every server
	// forgets the credentials it trusts of this agent (service.AgentHub).
	_, err := q.db.Exec(ctx, `WITH r AS (UPDATE agent_credentials SET revoked_at = $3
		WHERE agent_id = $1 AND id <> $2 AND revoked_at IS NULL)
		SELECT certctl_notify('agent_work', $1::text)`, agentID, keep, now)
	return mapError(err, "agent credentials")
}

// AgentByCredential returns the agent a credential belongs to, and whether
// the credential is revoked, in one query (every agent call makes it).
func (q *Queries) AgentByCredential(ctx context.Context, hash []byte) (core.Agent, bool, error) {
	var revoked bool
	var a core.Agent
	err := q.db.QueryRow(ctx, `SELECT c.revoked_at IS NOT NULL, a.id, a.name, a.status, a.labels, a.os, a.arch, a.ip_address,
		a.hostname, a.agent_version, a.uptime_seconds, a.plugins, a.last_heartbeat_at, a.enrolled_at, a.retired_at,
		a.created_at, a.updated_at
		FROM agent_credentials c JOIN agents a ON a.id = c.agent_id WHERE c.token_hash = $1`, hash).Scan(&revoked,
		&a.ID, &a.Name, &a.Status, &a.Labels, &a.OS, &a.Arch, &a.IPAddress, &a.Hostname, &a.AgentVersion, &a.UptimeSeconds,
		&a.Plugins, &a.LastHeartbeatAt, &a.EnrolledAt, &a.RetiredAt, &a.CreatedAt, &a.UpdatedAt)
	if err != nil {
		return core.Agent{}, false, mapError(err, "agent credential")
	}
	return a, revoked, nil
}

// AgentFacts are what an agent reports about its host.
type AgentFacts struct {
	OS, Arch, Hostname, AgentVersion string
	IPAddress                        *netip.Addr
	UptimeSeconds                    int64
	Plugins                          []core.AgentPlugin
}

// RecordHeartbeat stores an agent's facts and marks it online.
func (q *Queries) RecordHeartbeat(ctx context.Context, id uuid.UUID, f AgentFacts, now time.Time) (core.Agent, error) {
	if f.Plugins == nil {
		f.Plugins = []core.AgentPlugin{}
	}
	a, err := scanAgent(q.db.QueryRow(ctx, `UPDATE agents SET os = $2, arch = $3, hostname = $4, agent_version = $5,
		ip_address = $6, uptime_seconds = $7, plugins = $8, last_heartbeat_at = $9, updated_at = $9,
		status = CASE WHEN status = 'retired' THEN status ELSE 'online' END
		WHERE id = $1 RETURNING `+agentColumns, id, f.OS, f.Arch, f.Hostname, f.AgentVersion, f.IPAddress, f.UptimeSeconds,
		f.Plugins, now))
	return a, mapError(err, "agent")
}

// Heartbeat is one agent's heartbeat, to be written with others.
type Heartbeat struct {
	AgentID uuid.UUID
	Facts   AgentFacts
	At      time.Time
}

// RecordHeartbeats writes heartbeats of distinct agents in one statement,
// as RecordHeartbeat does each. One older than what an agent's row holds
// (written meanwhile by another server) changes nothing.
func (q *Queries) RecordHeartbeats(ctx context.Context, hs []Heartbeat) error {
	n := len(hs)
	ids, at := make([]uuid.UUID, n), make([]time.Time, n)
	os, arch, host, version, plugins := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	ips, uptime := make([]*netip.Addr, n), make([]int64, n)
	for i, h := range hs {
		f := h.Facts
		if f.Plugins == nil {
			f.Plugins = []core.AgentPlugin{}
		}
		p, err := json.Marshal(f.Plugins)
		if err != nil {
			return fmt.Errorf("store: heartbeat plugins: %w", err)
		}
		ids[i], at[i], os[i], arch[i], host[i], version[i], plugins[i] = h.AgentID, h.At, f.OS, f.Arch, f.Hostname, f.AgentVersion, string(p)
		ips[i], uptime[i] = f.IPAddress, f.UptimeSeconds
	}
	_, err := q.db.Exec(ctx, `UPDATE agents a SET os = u.os, arch = u.arch, hostname = u.hostname,
		agent_version = u.agent_version, ip_address = u.ip, uptime_seconds = u.uptime, plugins = u.plugins::jsonb,
		last_heartbeat_at = u.at, updated_at = u.at,
		status = CASE WHEN a.status = 'retired' THEN a.status ELSE 'online' END
		FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::inet[], $7::bigint[], $8::text[],
			$9::timestamptz[]) AS u(id, os, arch, hostname, agent_version, ip, uptime, plugins, at)
		WHERE a.id = u.id AND (a.last_heartbeat_at IS NULL OR a.last_heartbeat_at <= u.at)`,
		ids, os, arch, host, version, ips, uptime, plugins, at)
	return mapError(err, "agents")
}

// MarkAgentsOffline marks offline the online agents silent since before,
// and returns them.
func (q *Queries) MarkAgentsOffline(ctx context.Context, before, now time.Time) ([]core.Agent, error) {
	rows, err := q.db.Query(ctx, `UPDATE agents SET status = 'offline', updated_at = $2
		WHERE status = 'online' AND last_heartbeat_at < $1 RETURNING `+agentColumns, before, now)
	if err != nil {
		return nil, mapError(err, "agents")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Agent, error) { return scanAgent(r) })
	return out, mapError(err, "agents")
}

// AgentJobs returns the work waiting for an agent: issuances waiting for
// its CSR, and deployments it has not taken (or that are due again, or
// that an operator retried: those are queued). next is when the earliest
// of its deployments that is not due yet comes due (nil when none, or
// when limit due jobs filled the answer): a notification announces a
// retry when it is scheduled, not when it comes due, so a long poll waits
// until then. One query gives both, on the agent's few rows. With resend,
// the deployments leased to the agent that it has not reported are due
// too: the answer that handed them out may have been lost.
func (q *Queries) AgentJobs(ctx context.Context, agentID uuid.UUID, now time.Time, limit int, resend bool) (due []core.Job, next *time.Time, err error) {
	jobs, err := collectJobs(q.db.Query(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE agent_id = $1 AND (
			(state = 'waiting' AND kind IN ('issue', 'renew', 'deploy')) OR
			(state IN ('retrying', 'queued') AND kind = 'deploy') OR
			($4 AND state = 'running' AND kind = 'deploy' AND lease_owner = 'agent:' || $1::text))
		ORDER BY (state IN ('waiting', 'running') OR run_at <= $2) DESC, run_at LIMIT $3`, agentID, now, limit+1, resend))
	if err != nil {
		return nil, nil, err
	}
	for _, j := range jobs {
		if j.State != core.JobWaiting && j.State != core.JobRunning && j.RunAt.After(now) {
			next = &j.RunAt
			break
		}
		if len(due) < limit {
			due = append(due, j)
		}
	}
	return due, next, nil
}

// TakeAgentJob leases a deploy job to its agent until until. With resend,
// a job already leased to the agent is taken again (its lease renewed,
// the same attempt): the agent asked for what it may not have received.
func (q *Queries) TakeAgentJob(ctx context.Context, id, agentID uuid.UUID, until, now time.Time, resend bool) (core.Job, error) {
	j, err := scanJob(q.db.QueryRow(ctx, `UPDATE jobs SET state = 'running', lease_owner = 'agent:' || $2::text,
		lease_expires_at = $3, attempt = attempt + CASE WHEN state = 'running' THEN 0 ELSE 1 END, updated_at = $4
		WHERE id = $1 AND agent_id = $2 AND kind = 'deploy' AND (state IN ('waiting', 'retrying', 'queued') OR
			($5 AND state = 'running' AND lease_owner = 'agent:' || $2::text)) RETURNING `+jobColumns,
		id, agentID, until, now, resend))
	return j, mapError(err, "job")
}

// DeploymentByJob returns the deployment a deploy job delivers.
func (q *Queries) DeploymentByJob(ctx context.Context, jobID uuid.UUID) (core.Deployment, error) {
	d, err := scanDeployment(q.db.QueryRow(ctx, `SELECT `+deploymentColumns+` FROM deployments WHERE job_id = $1`, jobID))
	return d, mapError(err, "deployment")
}

// SetDeploymentStatus records a deployment's progress or outcome.
func (q *Queries) SetDeploymentStatus(ctx context.Context, id uuid.UUID, status, message string, metadata map[string]any,
	verified bool, now time.Time) error {
	if metadata == nil {
		metadata = map[string]any{}
	}
	var done, verifiedAt *time.Time
	if status == "succeeded" || status == "failed" {
		done = &now
	}
	if verified {
		verifiedAt = &now
	}
	_, err := q.db.Exec(ctx, `UPDATE deployments SET status = $2, message = $3, metadata = $4, updated_at = $5,
		completed_at = COALESCE($6, completed_at), verified_at = COALESCE($7, verified_at) WHERE id = $1`,
		id, status, message, metadata, now, done, verifiedAt)
	return mapError(err, "deployment")
}

// GetVersionByID returns a version by its id alone.
func (q *Queries) GetVersionByID(ctx context.Context, id uuid.UUID) (core.CertificateVersion, error) {
	v, err := scanVersion(q.db.QueryRow(ctx, `SELECT `+versionColumns+` FROM certificate_versions WHERE id = $1`, id))
	return v, mapError(err, "certificate version")
}
