package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/server/core"
)

const agentColumns = `id, name, status, labels, os, arch, ip_address, hostname, agent_version, uptime_seconds,
	plugins, last_heartbeat_at, enrolled_at, retired_at, created_at, updated_at`

func scanAgent(row pgx.Row) (core.Agent, error) {
	var a core.Agent
	err := row.Scan(&a.ID, &a.Name, &a.Status, &a.Labels, &a.OS, &a.Arch, &a.IPAddress, &a.Hostname, &a.AgentVersion,
		&a.UptimeSeconds, &a.Plugins, &a.LastHeartbeatAt, &a.EnrolledAt, &a.RetiredAt, &a.CreatedAt, &a.UpdatedAt)
	return a, err
}

// CreateAgent inserts an agent.
func (q *Queries) CreateAgent(ctx context.Context, a core.Agent) error {
	if a.Plugins == nil {
		a.Plugins = []core.AgentPlugin{}
	}
	_, err := q.db.Exec(ctx, `INSERT INTO agents (id, name, status, labels, os, arch, ip_address, hostname,
		agent_version, uptime_seconds, plugins, last_heartbeat_at, enrolled_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		a.ID, a.Name, a.Status, a.Labels, a.OS, a.Arch, a.IPAddress, a.Hostname, a.AgentVersion, a.UptimeSeconds,
		a.Plugins, a.LastHeartbeatAt, a.EnrolledAt, a.CreatedAt, a.UpdatedAt)
	return mapError(err, "agent")
}

// GetAgent returns the agent with id.
func (q *Queries) GetAgent(ctx context.Context, id uuid.UUID) (core.Agent, error) {
	a, err := scanAgent(q.db.QueryRow(ctx, `SELECT `+agentColumns+` FROM agents WHERE id = $1`, id))
	return a, mapError(err, "agent")
}

// ListAgents returns a page of agents and whether more follow.
func (q *Queries) ListAgents(ctx context.Context, f core.AgentFilter) ([]core.Agent, bool, error) {
	var w where
	if f.Status != "" {
		w.add("status = ?", f.Status)
	}
	if f.OS != "" {
		w.add("os = ?", f.OS)
	}
	if f.Arch != "" {
		w.add("arch = ?", f.Arch)
	}
	rows, err := q.db.Query(ctx, `SELECT `+agentColumns+` FROM agents`+pageClause(&w, f.Page, false), w.args...)
	if err != nil {
		return nil, false, mapError(err, "agents")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Agent, error) { return scanAgent(r) })
	if err != nil {
		return nil, false, mapError(err, "agents")
	}
	items, more := trimPage(items, f.Page)
	return items, more, nil
}

// RetireAgent marks an agent retired and revokes its credentials. It
// returns the agent as it is afterwards.
func (q *Queries) RetireAgent(ctx context.Context, id uuid.UUID, now time.Time) (core.Agent, error) {
	a, err := scanAgent(q.db.QueryRow(ctx, `UPDATE agents SET status = 'retired',
		retired_at = COALESCE(retired_at, $2), updated_at = $2 WHERE id = $1 RETURNING `+agentColumns, id, now))
	if err != nil {
		return a, mapError(err, "agent")
	}
	// Announced on agent_work (after the commit), so that every server
	// forgets the credentials it trusts of this agent (service.AgentHub).
	_, err = q.db.Exec(ctx, `WITH r AS (UPDATE agent_credentials SET revoked_at = $2 WHERE agent_id = $1 AND revoked_at IS NULL)
		SELECT certctl_notify('agent_work', $1::text)`, id, now)
	return a, mapError(err, "agent credentials")
}
