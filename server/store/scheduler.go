package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certctl/certctl/server/core"
)

// DueCertificate is a certificate whose renewal is due.
type DueCertificate struct {
	ID           uuid.UUID
	SpecRevision int64
	KeyMode      string
	AgentID      *uuid.UUID
}

// ClaimDueCertificates marks up to limit due certificates renewing and
// returns them. The scan uses the partial index on next_renewal_at; rows
// another server is claiming are skipped.
func (q *Queries) ClaimDueCertificates(ctx context.Context, now time.Time, limit int) ([]DueCertificate, error) {
	rows, err := q.db.Query(ctx, `WITH due AS (
			SELECT id FROM managed_certificates
			WHERE status IN ('active', 'failed', 'expired') AND next_renewal_at <= $1
			ORDER BY next_renewal_at LIMIT $2 FOR UPDATE SKIP LOCKED)
		UPDATE managed_certificates c SET status = 'renewing', next_renewal_at = NULL, updated_at = $1
		FROM due WHERE c.id = due.id
		RETURNING c.id, c.spec_revision, c.key_mode,
			(SELECT t.agent_id FROM certificate_targets ct JOIN targets t ON t.id = ct.target_id
			 WHERE ct.certificate_id = c.id AND t.agent_id IS NOT NULL LIMIT 1)`, now, limit)
	if err != nil {
		return nil, mapError(err, "due certificates")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DueCertificate, error) {
		var d DueCertificate
		err := r.Scan(&d.ID, &d.SpecRevision, &d.KeyMode, &d.AgentID)
		return d, err
	})
	return out, mapError(err, "due certificates")
}

// InsertRenewals inserts renewal jobs in bulk, skipping certificates that
// already have a live issuance (the unique index), and audits each.
func (q *Queries) InsertRenewals(ctx context.Context, jobs []core.Job, now time.Time) error {
	if len(jobs) == 0 {
		return nil
	}
	rows := make([][]any, len(jobs))
	for i, j := range jobs {
		// Audit ids are time-ordered like every other id (the trail lists
		// by id); PostgreSQL 15 cannot make UUIDv7, so they come from here.
		rows[i] = []any{j.ID, j.Kind, j.State, j.CertificateID, j.AgentID, j.Payload, j.MaxAttempts, j.RunAt, now,
			uuid.Must(uuid.NewV7())}
	}
	// COPY cannot skip conflicts, so go through a temporary table.
	if _, err := q.db.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS new_jobs (id uuid, kind text, state text,
		certificate_id uuid, agent_id uuid, payload jsonb, max_attempts int, run_at timestamptz, created_at timestamptz,
		audit_id uuid) ON COMMIT DELETE ROWS`); err != nil {
		return mapError(err, "renewal jobs")
	}
	if _, err := q.db.(interface {
		CopyFrom(context.Context, pgx.Identifier, []string, pgx.CopyFromSource) (int64, error)
	}).CopyFrom(ctx, pgx.Identifier{"new_jobs"}, []string{"id", "kind", "state", "certificate_id", "agent_id", "payload",
		"max_attempts", "run_at", "created_at", "audit_id"}, pgx.CopyFromRows(rows)); err != nil {
		return mapError(err, "renewal jobs")
	}
	if _, err := q.db.Exec(ctx, `WITH ins AS (
			INSERT INTO jobs (id, kind, state, certificate_id, agent_id, payload, attempt, max_attempts, run_at, last_error,
				created_at, updated_at)
			SELECT id, kind, state, certificate_id, agent_id, payload, 0, max_attempts, run_at, '', created_at, created_at
			FROM new_jobs ON CONFLICT DO NOTHING RETURNING id, certificate_id)
		INSERT INTO audit_events (id, occurred_at, actor, actor_type, actor_name, action, resource_type, resource_id,
			outcome, details)
		SELECT n.audit_id, $1, 'system', 'system', 'certctl-server', 'job.created', 'job', ins.id::text, 'success',
			jsonb_build_object('kind', 'renew', 'trigger', 'due', 'certificate_id', ins.certificate_id)
		FROM ins JOIN new_jobs n ON n.id = ins.id`, now); err != nil {
		return mapError(err, "renewal jobs")
	}
	return nil
}

// Leadership tunes WhileLeader.
type Leadership struct {
	// Check bounds how long a leader takes to notice that it lost its
	// lock. The lock's session is read all the time, so a session the
	// database ends (terminated, restarted, crashed) is noticed at once;
	// on a connection that goes silent instead, a ping after Check of
	// quiet, itself bounded by Check, notices. Default 2s.
	Check time.Duration
}

func (l Leadership) check() time.Duration {
	if l.Check <= 0 {
		return 2 * time.Second
	}
	return l.Check
}

// grace is how long a new leader waits after taking the lock before it
// leads: longer than an old leader whose session ended takes to notice
// (two checks at most) and to stop, so that two never lead at once.
func (l Leadership) grace() time.Duration {
	return 3 * l.check()
}

// WhileLeader runs fn while this process holds the advisory lock id on a
// dedicated connection; it returns at once (nil) when another holds it.
// fn's context ends when the lock is lost (its session ended), and fn must
// then return promptly: another leader starts a grace period after it
// took the lock (see Leadership). A lost lock is returned as an error.
func (s *Store) WhileLeader(ctx context.Context, id int64, l Leadership, fn func(ctx context.Context)) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	defer conn.Release()
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, id).Scan(&got); err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	if !got {
		return nil
	}
	leadCtx, cancel := context.WithCancel(ctx)
	var lost error
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		lost = watchSession(leadCtx, conn, l.check())
		cancel()
	}()
	// The previous leader may have lost its session a moment ago without
	// knowing yet: give it the time to notice and stop.
	grace := time.NewTimer(l.grace())
	select {
	case <-leadCtx.Done():
	case <-grace.C:
		fn(leadCtx)
	}
	grace.Stop()
	cancel()
	<-watching // the connection is ours alone again
	if lost != nil {
		_ = conn.Conn().Close(context.WithoutCancel(ctx)) // never back to the pool
		return fmt.Errorf("leader election: lost the lock: %w", lost)
	}
	unlockCtx, ucancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer ucancel()
	if _, err := conn.Exec(unlockCtx, `SELECT pg_advisory_unlock($1)`, id); err != nil {
		_ = conn.Conn().Close(unlockCtx) // ending the session frees the lock
	}
	return nil
}

// watchSession reads the lock's session until ctx ends (nil) or the
// session is gone (its error): a read returns at once when the database
// ends the session, and a ping after each quiet period of check catches a
// connection that went silent.
func watchSession(ctx context.Context, conn *pgxpool.Conn, check time.Duration) error {
	for {
		wctx, wcancel := context.WithTimeout(ctx, check)
		_, err := conn.Conn().WaitForNotification(wctx)
		wcancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil: // a notification nobody asked for: harmless
			continue
		case !pgconn.Timeout(err) && !errors.Is(err, context.DeadlineExceeded):
			return err
		}
		pctx, pcancel := context.WithTimeout(ctx, check)
		err = conn.Ping(pctx)
		pcancel()
		if err != nil && ctx.Err() == nil {
			return err
		}
	}
}

// MarkExpired marks certificates whose current version has expired and
// returns their ids.
func (q *Queries) MarkExpired(ctx context.Context, now time.Time) ([]uuid.UUID, error) {
	rows, err := q.db.Query(ctx, `UPDATE managed_certificates SET status = 'expired', updated_at = $1
		WHERE not_after <= $1 AND status IN ('active', 'failed') RETURNING id`, now)
	if err != nil {
		return nil, mapError(err, "certificates")
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	return ids, mapError(err, "certificates")
}
