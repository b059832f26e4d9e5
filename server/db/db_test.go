package db_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certctl/certctl/migrations"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/db"
	"github.com/certctl/certctl/server/pgtest"
)

// pluginDir holds the built plugins the release fixture tests run.
var pluginDir string

func TestMain(m *testing.M) {
	os.Exit(apitest.MainWithPlugins(m, &pluginDir, "issuer/local", "notifier/webhook"))
}

func open(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := db.Open(context.Background(), url, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

var quiet = slog.New(slog.DiscardHandler)

func TestMigrationsApplyOnEmptyDatabaseAndAreIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := open(t, pgtest.NewDatabase(t))
	if pending, err := db.Pending(ctx, pool); err != nil || !pending {
		t.Fatalf("empty database: pending = %v, %v; want true", pending, err)
	}
	v1, err := db.Migrate(ctx, pool, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if v1 < 1 {
		t.Fatalf("schema version %d after migrating", v1)
	}
	var tables int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'
		AND table_name IN ('issuers','targets','managed_certificates','certificate_versions','deployments','agents',
		'agent_credentials','enrollment_tokens','jobs','notifiers','notification_rules','notifications','audit_events',
		'api_keys','renewal_policies','plugins')`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 16 {
		t.Errorf("found %d of the 16 domain tables", tables)
	}
	// A second start finds nothing to do and changes nothing.
	v2, err := db.Migrate(ctx, pool, quiet)
	if err != nil || v2 != v1 {
		t.Fatalf("second migrate: version %d, %v; want %d", v2, err, v1)
	}
	if pending, err := db.Pending(ctx, pool); err != nil || pending {
		t.Fatalf("after migrating: pending = %v, %v", pending, err)
	}
	var policies int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM renewal_policies WHERE is_default`).Scan(&policies); err != nil || policies != 1 {
		t.Fatalf("default renewal policies: %d, %v", policies, err)
	}
}

func TestConcurrentStartsMigrateOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	const servers = 4
	var wg sync.WaitGroup
	errs := make([]error, servers)
	for i := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pool, err := db.Open(ctx, url, 4)
			if err != nil {
				errs[i] = err
				return
			}
			defer pool.Close()
			errs[i] = db.WithStartupLock(ctx, pool, func(ctx context.Context) error {
				_, err := db.Migrate(ctx, pool, quiet)
				return err
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("server %d: %v", i, err)
		}
	}
	pool := open(t, url)
	var applied int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version_id > 0`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if applied != len(files) {
		t.Errorf("migration rows = %d, want %d (each migration applied once)", applied, len(files))
	}
}

func TestAuditTrailIsAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := open(t, pgtest.NewDatabase(t))
	if _, err := db.Migrate(ctx, pool, quiet); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO audit_events (id, occurred_at, actor, actor_type, action, resource_type, outcome)
		VALUES (gen_random_uuid(), now(), 'x', 'system', 'test', 'test', 'success')`); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE audit_events SET actor = 'someone else'`,
		`DELETE FROM audit_events`,
		`TRUNCATE audit_events`,
	} {
		_, err := pool.Exec(ctx, stmt)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("%s: err = %v, want insufficient_privilege from the append-only trigger", stmt, err)
		}
	}
	var n int
	var actor string
	if err := pool.QueryRow(ctx, `SELECT count(*), max(actor) FROM audit_events`).Scan(&n, &actor); err != nil || n != 1 || actor != "x" {
		t.Errorf("audit rows after attempts: %d %q %v", n, actor, err)
	}
}

// TestOlderServerOnNewerSchemaWarns: a database that a newer server
// migrated further than this binary knows still starts (rolling upgrades
// need it), with a warning naming both versions; a current one does not
// warn.
func TestOlderServerOnNewerSchemaWarns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := open(t, pgtest.NewDatabase(t))
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	known, err := db.Migrate(ctx, pool, logger)
	if err != nil {
		t.Fatal(err)
	}
	if logs.Len() != 0 {
		t.Fatalf("a current schema logged: %s", logs.String())
	}
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	last := files[len(files)-1]
	if !strings.HasPrefix(last, fmt.Sprintf("%05d_", known)) {
		t.Fatalf("migrated to %d, the last embedded migration is %s", known, last)
	}
	// What a newer server's migration leaves behind.
	newer := known + 7
	if _, err := pool.Exec(ctx, `INSERT INTO schema_migrations (version_id, is_applied) VALUES ($1, true)`, newer); err != nil {
		t.Fatal(err)
	}
	v, err := db.Migrate(ctx, pool, logger)
	if err != nil || v != newer {
		t.Fatalf("migrate on a newer schema: version %d, %v; want %d and no error", v, err, newer)
	}
	out := logs.String()
	for _, want := range []string{"level=WARN", "schema is newer than this server",
		fmt.Sprintf("schema_version=%d", newer), fmt.Sprintf("binary_schema_version=%d", known)} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
}
