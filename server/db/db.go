// Package db opens certctl's PostgreSQL connection pool and brings the
// schema up to date with the embedded migrations.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/certctl/certctl/migrations"
)

// migrationLockID is the advisory lock key that serialises schema changes
// and first-start bootstrap between server replicas ("certctl" in ASCII).
const migrationLockID int64 = 0x63657274_63746c00

// Open connects a pool to url and checks that the database answers.
func Open(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("db: parse database URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	sizeToLoad(cfg, url)
	cfg.ConnConfig.RuntimeParams["application_name"] = "certctl-server"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("db: create pool: %w", err)
	}
	if err := pingWithRetry(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// Pool sizing: the pool grows to the load it sees, up to MaxConns, and
// shrinks back when the load ends. A PostgreSQL backend that has run
// certctl's statements holds several MiB (its catalogue caches and the
// plans of the statements pgx prepared on it), so twenty connections left
// open after a burst cost more memory than the rest of an idle server;
// they are closed after PoolIdleTime unused. Connections held for good
// (LISTEN, the leader's lock) are acquired, so they are never idle.
const (
	// PoolIdleTime closes a connection unused for this long. Long enough
	// that a steady load (a worker's poll, agents' requests) keeps its
	// connections, so that none pays a new login (SCRAM) per request.
	PoolIdleTime = time.Minute
	// poolCheckPeriod is how often idle connections are looked at: one
	// unused for PoolIdleTime is closed at most this much later.
	poolCheckPeriod = 15 * time.Second
	// poolLifetime renews every connection now and then (memory a
	// backend's caches gathered is given back), with a jitter so that
	// they are not all renewed at once.
	poolLifetime       = time.Hour
	poolLifetimeJitter = 10 * time.Minute
)

// sizeToLoad applies the pool sizing above, except where the database URL
// sets a pool parameter of its own (pool_min_conns,
// pool_max_conn_idle_time, ... as pgxpool reads them).
func sizeToLoad(cfg *pgxpool.Config, url string) {
	set := func(param string, apply func()) {
		if !strings.Contains(url, param) {
			apply()
		}
	}
	set("pool_min_conns", func() { cfg.MinConns = 0 })
	set("pool_max_conn_idle_time", func() { cfg.MaxConnIdleTime = PoolIdleTime })
	set("pool_health_check_period", func() { cfg.HealthCheckPeriod = poolCheckPeriod })
	set("pool_max_conn_lifetime", func() { cfg.MaxConnLifetime = poolLifetime })
	set("pool_max_conn_lifetime_jitter", func() { cfg.MaxConnLifetimeJitter = poolLifetimeJitter })
}

// pingWithRetry waits a short while for a database that is still starting.
func pingWithRetry(ctx context.Context, pool *pgxpool.Pool) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := pool.Ping(ctx)
		if err == nil {
			return nil
		}
		if permanent(err) || time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("db: database unreachable: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("db: database unreachable: %w", ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// permanent reports errors that waiting will not fix: bad credentials,
// a missing database or role.
func permanent(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "28P01", "28000", "3D000": // invalid_password, invalid_authorization_specification, invalid_catalog_name
		return true
	}
	return false
}

// WithStartupLock runs fn while holding a session-level advisory lock, so
// that of several servers starting at once against one database only one
// migrates and bootstraps at a time; the others wait, then find the work
// done. If the holder dies its session ends and PostgreSQL frees the lock.
func WithStartupLock(ctx context.Context, pool *pgxpool.Pool, fn func(context.Context) error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("db: acquire connection for startup lock: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLockID); err != nil {
		return fmt.Errorf("db: take startup lock: %w", err)
	}
	defer func() {
		// A fresh context: the lock must be released even when ctx is done.
		unlockCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(unlockCtx, "SELECT pg_advisory_unlock($1)", migrationLockID); err != nil {
			// Dropping the connection ends the session and frees the lock.
			_ = conn.Conn().Close(unlockCtx)
		}
	}()
	return fn(ctx)
}

// Migrate applies every pending migration. Call it inside WithStartupLock.
// It returns the schema version reached, and logs a warning when the
// database holds migrations newer than this binary's (an older server on a
// newer schema).
func Migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) (int64, error) {
	sqlDB := stdlib.OpenDBFromPool(pool)
	defer sqlDB.Close()
	provider, err := newProvider(sqlDB, logger)
	if err != nil {
		return 0, err
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("db: apply migrations: %w", err)
	}
	for _, r := range results {
		logger.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	version, known, err := provider.GetVersions(ctx)
	if err != nil {
		return 0, fmt.Errorf("db: read schema version: %w", err)
	}
	if version > known {
		// goose applies what is pending and ignores versions it does not
		// know, so an older binary starts on a newer schema: that is what
		// a rolling upgrade needs while the newer migrations keep the
		// older binary working, and a risk when they do not. Say so.
		logger.Warn("the database schema is newer than this server: it has migrations this binary does not know; "+
			"this is expected only while a rolling upgrade replaces older servers (see docs/operations.md, Upgrades), "+
			"otherwise upgrade this server",
			"schema_version", version, "binary_schema_version", known)
	}
	return version, nil
}

// Pending reports whether migrations remain to be applied.
func Pending(ctx context.Context, pool *pgxpool.Pool) (bool, error) {
	sqlDB := stdlib.OpenDBFromPool(pool)
	defer sqlDB.Close()
	provider, err := newProvider(sqlDB, slog.New(slog.DiscardHandler))
	if err != nil {
		return false, err
	}
	pending, err := provider.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("db: check pending migrations: %w", err)
	}
	return pending, nil
}

func newProvider(sqlDB *sql.DB, logger *slog.Logger) (*goose.Provider, error) {
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS,
		goose.WithDisableGlobalRegistry(true),
		goose.WithTableName("schema_migrations"),
		goose.WithSlog(logger),
	)
	if err != nil {
		return nil, fmt.Errorf("db: load migrations: %w", err)
	}
	return provider, nil
}
