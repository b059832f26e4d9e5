package store

// Queries of the web console: sign-in sessions, the dashboard's summary,
// and certificate lists sorted other than by id (keyset pages over the
// indexes of migration 00008).

import (
	"context"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/server/core"
)

// ConsoleSession is a signed-in console session, as stored.
type ConsoleSession struct {
	APIKeyID  uuid.UUID
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateConsoleSession stores a session under the hash of its token.
func (q *Queries) CreateConsoleSession(ctx context.Context, tokenHash []byte, s ConsoleSession) error {
	_, err := q.db.Exec(ctx, `INSERT INTO console_sessions (token_hash, api_key_id, csrf_token, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, tokenHash, s.APIKeyID, s.CSRFToken, s.CreatedAt, s.ExpiresAt)
	return mapError(err, "console session")
}

// GetConsoleSession returns the session whose token hashes to tokenHash,
// unexpired at now, with its API key.
func (q *Queries) GetConsoleSession(ctx context.Context, tokenHash []byte, now time.Time) (ConsoleSession, core.APIKey, error) {
	var s ConsoleSession
	var k core.APIKey
	err := q.db.QueryRow(ctx, `SELECT s.api_key_id, s.csrf_token, s.created_at, s.expires_at,
		k.id, k.name, k.key_prefix, k.role, k.expires_at, k.revoked_at, k.last_used_at, k.created_by, k.created_at
		FROM console_sessions s JOIN api_keys k ON k.id = s.api_key_id
		WHERE s.token_hash = $1 AND s.expires_at > $2`, tokenHash, now).Scan(
		&s.APIKeyID, &s.CSRFToken, &s.CreatedAt, &s.ExpiresAt,
		&k.ID, &k.Name, &k.Prefix, &k.Role, &k.ExpiresAt, &k.RevokedAt, &k.LastUsedAt, &k.CreatedBy, &k.CreatedAt)
	return s, k, mapError(err, "console session")
}

// DeleteConsoleSession ends a session; ending one that is gone is no error.
func (q *Queries) DeleteConsoleSession(ctx context.Context, tokenHash []byte) error {
	_, err := q.db.Exec(ctx, `DELETE FROM console_sessions WHERE token_hash = $1`, tokenHash)
	return mapError(err, "console session")
}

// DeleteExpiredConsoleSessions removes sessions expired before now.
func (q *Queries) DeleteExpiredConsoleSessions(ctx context.Context, now time.Time) (int64, error) {
	tag, err := q.db.Exec(ctx, `DELETE FROM console_sessions WHERE expires_at <= $1`, now)
	return tag.RowsAffected(), mapError(err, "console sessions")
}

// Certificate list orders of the console.
const (
	SortID     = ""          // creation order (ids are time-ordered)
	SortName   = "name"      // by name
	SortExpiry = "not_after" // soonest expiry first, never-issued last
)

// CertificateCursor is where a sorted page starts: after the row with
// this id and sort key.
type CertificateCursor struct {
	ID       uuid.UUID
	Name     string
	NotAfter *time.Time
}

// SortedCertificateFilter selects a page of certificates in an order.
type SortedCertificateFilter struct {
	Status         string
	IssuerID       *uuid.UUID
	ExpiringBefore *time.Time
	// Search matches a prefix of the name or of the common name.
	Search string
	Sort   string
	After  *CertificateCursor
	Limit  int
}

// ListCertificatesSorted returns a page of certificates in f.Sort order
// and whether more follow. Pages are keyset pages (the row after the
// cursor in index order), so the last page of 100,000 rows costs what
// the first does.
func (q *Queries) ListCertificatesSorted(ctx context.Context, f SortedCertificateFilter) ([]core.Certificate, bool, error) {
	var w where
	if f.Status != "" {
		w.add("c.status = ?", f.Status)
	}
	if f.IssuerID != nil {
		w.add("c.issuer_id = ?", *f.IssuerID)
	}
	if f.ExpiringBefore != nil {
		w.add("c.not_after < ?", *f.ExpiringBefore)
	}
	if f.Search != "" {
		p := escapeLike(f.Search)
		w.args = append(w.args, p)
		n := "$" + strconv.Itoa(len(w.args))
		w.clauses = append(w.clauses, "(c.name LIKE "+n+" || '%' OR c.common_name LIKE "+n+" || '%')")
	}
	var order string
	switch f.Sort {
	case SortName:
		order = " ORDER BY c.name, c.id"
		if f.After != nil {
			w.args = append(w.args, f.After.Name, f.After.ID)
			n := len(w.args)
			w.clauses = append(w.clauses, "(c.name, c.id) > ($"+strconv.Itoa(n-1)+", $"+strconv.Itoa(n)+")")
		}
	case SortExpiry:
		order = " ORDER BY c.not_after NULLS LAST, c.id"
		if f.After != nil {
			if f.After.NotAfter == nil {
				w.add("c.not_after IS NULL AND c.id > ?", f.After.ID)
			} else {
				w.args = append(w.args, *f.After.NotAfter, f.After.ID)
				n := len(w.args)
				t, id := "$"+strconv.Itoa(n-1), "$"+strconv.Itoa(n)
				w.clauses = append(w.clauses, "(c.not_after > "+t+" OR (c.not_after = "+t+" AND c.id > "+id+") OR c.not_after IS NULL)")
			}
		}
	case SortID:
		order = " ORDER BY c.id"
		if f.After != nil {
			w.add("c.id > ?", f.After.ID)
		}
	default:
		return nil, false, core.Invalid("sort", "must be name, not_after or empty")
	}
	limit := f.Limit
	if limit <= 0 || limit > core.MaxPageLimit {
		limit = core.DefaultPageLimit
	}
	rows, err := q.db.Query(ctx, `SELECT `+certificateColumns+` FROM managed_certificates c`+w.sql()+order+
		" LIMIT "+strconv.Itoa(limit+1), w.args...)
	if err != nil {
		return nil, false, mapError(err, "certificates")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Certificate, error) { return scanCertificate(r) })
	if err != nil {
		return nil, false, mapError(err, "certificates")
	}
	if len(items) > limit {
		return items[:limit], true, nil
	}
	return items, false, nil
}

// Dashboard is the console's overview.
type Dashboard struct {
	CertificatesByStatus map[string]int
	// ExpiringByWeek[i] counts current versions expiring in week i from now.
	ExpiringByWeek []int
	Expired        int
	// Issuance outcomes of the last days: per day (oldest first), issuance
	// and renewal jobs that succeeded and failed.
	SucceededByDay []int
	FailedByDay    []int
	AgentsByStatus map[string]int
	FailedJobs     []core.Job
	FailedDeploys  []core.Deployment
}

// CountByStatus counts the rows of table ("managed_certificates" or
// "agents") by status.
func (q *Queries) CountByStatus(ctx context.Context, table string) (map[string]int, error) {
	if table != "managed_certificates" && table != "agents" {
		return nil, core.Errorf(core.EINTERNAL, "count by status of %q", table)
	}
	rows, err := q.db.Query(ctx, `SELECT status, count(*) FROM `+table+` GROUP BY status`)
	if err != nil {
		return nil, mapError(err, table)
	}
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			rows.Close()
			return nil, mapError(err, table)
		}
		out[k] = n
	}
	return out, mapError(rows.Err(), table)
}

// ExpiriesByWeek counts the certificates (revoked ones aside) whose
// current version expires in each of the weeks after now, and those
// expired already. It reads only the index on (not_after) INCLUDE (status).
func (q *Queries) ExpiriesByWeek(ctx context.Context, now time.Time, weeks int) ([]int, int, error) {
	out := make([]int, weeks)
	expired := 0
	rows, err := q.db.Query(ctx, `SELECT CASE WHEN not_after <= $1 THEN -1
		ELSE floor(extract(epoch FROM not_after - $1) / 604800)::int END AS week, count(*)
		FROM managed_certificates WHERE not_after < $2 AND status <> 'revoked' GROUP BY 1`,
		now, now.Add(time.Duration(weeks)*7*24*time.Hour))
	if err != nil {
		return nil, 0, mapError(err, "expiries")
	}
	defer rows.Close()
	for rows.Next() {
		var week, n int
		if err := rows.Scan(&week, &n); err != nil {
			return nil, 0, mapError(err, "expiries")
		}
		switch {
		case week < 0:
			expired += n
		case week < weeks:
			out[week] += n
		}
	}
	return out, expired, mapError(rows.Err(), "expiries")
}

// IssuanceOutcomesByDay counts the issuance and renewal jobs that
// succeeded and failed on each of the days days before now (oldest
// first), reading only the partial index jobs_finished_issuance.
func (q *Queries) IssuanceOutcomesByDay(ctx context.Context, now time.Time, days int) (succeeded, failed []int, err error) {
	succeeded, failed = make([]int, days), make([]int, days)
	since := now.Add(-time.Duration(days) * 24 * time.Hour)
	rows, err := q.db.Query(ctx, `SELECT floor(extract(epoch FROM finished_at - $1) / 86400)::int, state, count(*)
		FROM jobs WHERE kind IN ('issue', 'renew') AND state IN ('succeeded', 'failed') AND finished_at > $1
		GROUP BY 1, 2`, since)
	if err != nil {
		return nil, nil, mapError(err, "issuance outcomes")
	}
	defer rows.Close()
	for rows.Next() {
		var day, n int
		var state string
		if err := rows.Scan(&day, &state, &n); err != nil {
			return nil, nil, mapError(err, "issuance outcomes")
		}
		if day < 0 || day >= days {
			continue
		}
		if state == core.JobSucceeded {
			succeeded[day] += n
		} else {
			failed[day] += n
		}
	}
	return succeeded, failed, mapError(rows.Err(), "issuance outcomes")
}

// RecentFailedDeployments returns the latest failed deployments, newest first.
func (q *Queries) RecentFailedDeployments(ctx context.Context, limit int) ([]core.Deployment, error) {
	rows, err := q.db.Query(ctx, `SELECT `+deploymentColumns+` FROM deployments WHERE status = 'failed'
		ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, mapError(err, "deployments")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Deployment, error) { return scanDeployment(r) })
	return items, mapError(err, "deployments")
}

// ListAgentJobs returns the latest jobs of an agent, newest first.
func (q *Queries) ListAgentJobs(ctx context.Context, agentID uuid.UUID, limit int) ([]core.Job, error) {
	rows, err := q.db.Query(ctx, `SELECT `+jobColumns+` FROM jobs WHERE agent_id = $1 ORDER BY id DESC LIMIT $2`,
		agentID, limit)
	if err != nil {
		return nil, mapError(err, "agent jobs")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.Job, error) { return scanJob(r) })
	return items, mapError(err, "agent jobs")
}
