// Package store keeps certctl's domain in PostgreSQL through pgx. It is a
// thin edge: SQL in, core types out, no lifecycle rules. Each aggregate
// has its own file (issuers.go, certificates.go, ...); several rows that
// change together change in one transaction through InTx.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certctl/certctl/server/core"
)

// DBTX is what queries run on: the pool or a transaction.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Store is the database.
type Store struct {
	pool *pgxpool.Pool
}

// New returns a Store over pool.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool}
}

// Q returns queries that run outside a transaction.
func (s *Store) Q() *Queries {
	return &Queries{db: s.pool}
}

// Pool returns the underlying pool (for health checks and metrics).
func (s *Store) Pool() *pgxpool.Pool {
	return s.pool
}

// InTx runs fn in a transaction, committed when fn returns nil and rolled
// back otherwise (also when fn panics). The notifications its triggers
// raise are sent just after the commit (see notify.go); they are read and
// the transaction committed in one round trip.
func (s *Store) InTx(ctx context.Context, fn func(q *Queries) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	// A connection that comes back inside a transaction (a rollback that
	// failed) is closed by the pool, not reused.
	defer conn.Release()
	if _, err := conn.Exec(ctx, beginDeferringNotify); err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
			defer cancel()
			_, _ = conn.Exec(rctx, "ROLLBACK")
		}
	}()
	if err := fn(&Queries{db: conn, tx: true}); err != nil {
		return err
	}
	var deferred string
	b := &pgx.Batch{}
	b.Queue(deferredNotifySQL).QueryRow(func(r pgx.Row) error { return r.Scan(&deferred) })
	b.Queue("COMMIT").Exec(func(ct pgconn.CommandTag) error {
		if ct.String() == "ROLLBACK" { // the transaction had failed
			return pgx.ErrTxCommitRollback
		}
		return nil
	})
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	committed = true
	if deferred != "" {
		sendDeferred(ctx, conn, deferred)
	}
	return nil
}

// rollbackTimeout bounds rolling back a transaction whose context may
// have ended.
const rollbackTimeout = 5 * time.Second

// Queries are the operations on the domain's tables.
type Queries struct {
	db DBTX
	tx bool // db is a connection inside InTx's transaction
}

// mapError turns database errors into core errors a client can act on.
// what names the resource ("issuer", "certificate", ...).
func mapError(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return core.Errorf(core.ENOTFOUND, "%s not found", what)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			return &core.Error{Code: core.ECONFLICT, Message: fmt.Sprintf("%s already exists (%s)", what, uniqueWhat(pgErr))}
		case "23503": // foreign_key_violation
			return &core.Error{Code: core.ECONFLICT, Message: fmt.Sprintf("%s is referenced by or refers to another resource (%s)", what, pgErr.ConstraintName)}
		case "23514": // check_violation
			return &core.Error{Code: core.EINVALID, Message: fmt.Sprintf("%s has an invalid value (%s)", what, pgErr.ConstraintName)}
		}
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

// Unavailable reports whether err means that the database could not be
// reached or lost the session (refused or broken connection, the server
// shutting down, restarting or out of connections, no answer in time),
// rather than that it refused the statement: the same write may succeed
// once the database is back.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			strings.HasPrefix(pgErr.Code, "53"),  // insufficient resources: too many connections, disk full
			strings.HasPrefix(pgErr.Code, "57P"): // admin or crash shutdown, cannot connect now (recovery)
			return true
		}
		return false
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) || pgconn.SafeToRetry(err)
}

func uniqueWhat(e *pgconn.PgError) string {
	// Constraint names are <table>_<column>_key for UNIQUE columns.
	name := e.ConstraintName
	if i := strings.Index(name, "_name_key"); i > 0 {
		return "name is taken"
	}
	return name
}

// where builds a WHERE clause from optional conditions. Each condition
// uses ? for its one argument; placeholders are numbered in order.
type where struct {
	clauses []string
	args    []any
}

func (w *where) add(cond string, arg any) {
	w.args = append(w.args, arg)
	w.clauses = append(w.clauses, strings.Replace(cond, "?", "$"+strconv.Itoa(len(w.args)), 1))
}

func (w *where) sql() string {
	if len(w.clauses) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.clauses, " AND ")
}

// pageClause adds the cursor condition and returns ORDER BY and LIMIT for a
// page of a list ordered by id. One more row than the limit is fetched so
// that the caller knows whether another page follows.
func pageClause(w *where, p core.Page, desc bool) string {
	limit := p.Limit
	if limit <= 0 || limit > core.MaxPageLimit {
		limit = core.DefaultPageLimit
	}
	if p.After != nil {
		if desc {
			w.add("id < ?", *p.After)
		} else {
			w.add("id > ?", *p.After)
		}
	}
	order := " ORDER BY id"
	if desc {
		order += " DESC"
	}
	return w.sql() + order + " LIMIT " + strconv.Itoa(limit+1)
}

// trimPage cuts a fetched list to the page's limit and reports whether
// more rows follow.
func trimPage[T any](items []T, p core.Page) ([]T, bool) {
	limit := p.Limit
	if limit <= 0 || limit > core.MaxPageLimit {
		limit = core.DefaultPageLimit
	}
	if len(items) > limit {
		return items[:limit], true
	}
	return items, false
}

// fields returns the names of sealed fields, never nil (the column is NOT NULL).
func fields(s core.Sealed) []string {
	if s.Fields == nil {
		return []string{}
	}
	return s.Fields
}
