package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/server/core"
)

const challengeColumns = `job_id, token, identifier, key_authorization, agent_id, state, created_at, updated_at`

func collectChallenges(rows pgx.Rows, err error) ([]core.Challenge, error) {
	if err != nil {
		return nil, mapError(err, "challenges")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Challenge, error) {
		var c core.Challenge
		err := r.Scan(&c.JobID, &c.Token, &c.Identifier, &c.KeyAuthorization, &c.AgentID, &c.State, &c.CreatedAt, &c.UpdatedAt)
		return c, err
	})
	return out, mapError(err, "challenges")
}

// AddChallenges records challenges of one job; a token the job has
// already keeps its row (and state). It returns the tokens it added.
func (q *Queries) AddChallenges(ctx context.Context, jobID uuid.UUID, cs []core.Challenge, now time.Time) ([]string, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	tokens, ids, kas, agents, states := make([]string, len(cs)), make([]string, len(cs)), make([]string, len(cs)),
		make([]*uuid.UUID, len(cs)), make([]string, len(cs))
	for i, c := range cs {
		tokens[i], ids[i], kas[i], agents[i], states[i] = c.Token, c.Identifier, c.KeyAuthorization, c.AgentID, c.State
	}
	rows, err := q.db.Query(ctx, `INSERT INTO http01_challenges (`+challengeColumns+`)
		SELECT $1, t, i, k, a, s, $7, $7 FROM unnest($2::text[], $3::text[], $4::text[], $5::uuid[], $6::text[]) AS u(t, i, k, a, s)
		ON CONFLICT (job_id, token) DO NOTHING RETURNING token`, jobID, tokens, ids, kas, agents, states, now)
	if err != nil {
		return nil, mapError(err, "challenges")
	}
	added, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return added, mapError(err, "challenges")
}

// JobChallenges returns a job's challenges.
func (q *Queries) JobChallenges(ctx context.Context, jobID uuid.UUID) ([]core.Challenge, error) {
	return collectChallenges(q.db.Query(ctx, `SELECT `+challengeColumns+` FROM http01_challenges WHERE job_id = $1
		ORDER BY identifier, token`, jobID))
}

// AgentChallenges returns an agent's challenges in a state, oldest job first.
func (q *Queries) AgentChallenges(ctx context.Context, agentID uuid.UUID, state string, limit int) ([]core.Challenge, error) {
	return collectChallenges(q.db.Query(ctx, `SELECT `+challengeColumns+` FROM http01_challenges
		WHERE agent_id = $1 AND state = $2 ORDER BY job_id, identifier, token LIMIT $3`, agentID, state, limit))
}

// SetAgentChallengeState moves an agent's challenges of a job from one
// state to another and returns how many moved.
func (q *Queries) SetAgentChallengeState(ctx context.Context, jobID, agentID uuid.UUID, tokens []string, from, to string,
	now time.Time) (int64, error) {
	tag, err := q.db.Exec(ctx, `UPDATE http01_challenges SET state = $5, updated_at = $6
		WHERE job_id = $1 AND agent_id = $2 AND token = ANY($3) AND state = $4`, jobID, agentID, tokens, from, to, now)
	return tag.RowsAffected(), mapError(err, "challenges")
}

// DeleteAgentChallenges deletes an agent's challenges of a job in a state.
func (q *Queries) DeleteAgentChallenges(ctx context.Context, jobID, agentID uuid.UUID, tokens []string, state string) (int64, error) {
	tag, err := q.db.Exec(ctx, `DELETE FROM http01_challenges
		WHERE job_id = $1 AND agent_id = $2 AND token = ANY($3) AND state = $4`, jobID, agentID, tokens, state)
	return tag.RowsAffected(), mapError(err, "challenges")
}

// endChallengesSQL ends the challenges of a job ($1) that is over: the
// server's are deleted (its responder stops answering), the agents' go to
// cleanup, for the agent to stop serving them and report.
const endChallengesSQL = `WITH gone AS (DELETE FROM http01_challenges WHERE job_id = $1 AND agent_id IS NULL)
	UPDATE http01_challenges SET state = 'cleanup', updated_at = $2
	WHERE job_id = $1 AND agent_id IS NOT NULL AND state <> 'cleanup'`

// EndChallenges ends the challenges of a job that is over (or starts a
// new order).
func (q *Queries) EndChallenges(ctx context.Context, jobID uuid.UUID, now time.Time) error {
	_, err := q.db.Exec(ctx, endChallengesSQL, jobID, now)
	return mapError(err, "challenges")
}

// EndChallengesOfEndedJobs ends the challenges of every job that is no
// longer live: the safety net for ends that did not (a lease that expired
// on the last attempt, a crash). It returns how many rows it changed.
func (q *Queries) EndChallengesOfEndedJobs(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := q.db.QueryRow(ctx, `WITH ended AS (SELECT DISTINCT c.job_id FROM http01_challenges c JOIN jobs j ON j.id = c.job_id
			WHERE j.state NOT IN ('queued', 'running', 'waiting', 'retrying')
			AND (c.agent_id IS NULL OR c.state <> 'cleanup')),
		gone AS (DELETE FROM http01_challenges WHERE job_id IN (SELECT job_id FROM ended) AND agent_id IS NULL RETURNING 1),
		moved AS (UPDATE http01_challenges SET state = 'cleanup', updated_at = $1
			WHERE job_id IN (SELECT job_id FROM ended) AND agent_id IS NOT NULL AND state <> 'cleanup' RETURNING 1)
		SELECT (SELECT count(*) FROM gone) + (SELECT count(*) FROM moved)`, now).Scan(&n)
	return n, mapError(err, "challenges")
}

// ServerChallengeResponse returns the key authorization the server's
// responder serves for token, if a live job presents it through the server.
func (q *Queries) ServerChallengeResponse(ctx context.Context, token string) (string, bool, error) {
	var ka string
	err := q.db.QueryRow(ctx, `SELECT key_authorization FROM http01_challenges
		WHERE token = $1 AND agent_id IS NULL AND state = 'presented' LIMIT 1`, token).Scan(&ka)
	if err == pgx.ErrNoRows {
		return "", false, nil
	}
	return ka, err == nil, mapError(err, "challenge")
}

// PendJob puts back a running job that owner holds whose CA answered
// "pending": it is not a failed attempt, so the attempt is not counted. It
// becomes state (queued, retrying when due later, or waiting for an
// agent) due at runAt with payload, and agentID when not nil. It returns
// ErrLeaseLost when owner no longer holds the job.
func (q *Queries) PendJob(ctx context.Context, id uuid.UUID, owner, state string, payload core.JobPayload, agentID *uuid.UUID,
	runAt, now time.Time) error {
	tag, err := q.db.Exec(ctx, `UPDATE jobs SET state = $3, payload = $4, agent_id = COALESCE($5, agent_id),
		attempt = GREATEST(attempt - 1, 0), run_at = $6, updated_at = $7, last_error = '',
		lease_owner = NULL, lease_expires_at = NULL
		WHERE id = $1 AND lease_owner = $2 AND state = 'running'`, id, owner, state, payload, agentID, runAt, now)
	if err != nil {
		return mapError(err, "job")
	}
	if tag.RowsAffected() == 0 {
		return ErrLeaseLost
	}
	return nil
}

// StalePresentations returns issuance jobs waiting for their agent to
// present HTTP-01 challenges of an order pending since before cutoff.
func (q *Queries) StalePresentations(ctx context.Context, cutoff time.Time, limit int) ([]core.Job, error) {
	return collectJobs(q.db.Query(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE state = 'waiting' AND kind IN ('issue', 'renew') AND jsonb_array_length(COALESCE(payload->'awaiting_challenges', '[]')) > 0
		AND (payload->>'pending_since')::timestamptz < $1 ORDER BY id LIMIT $2`, cutoff, limit))
}
