package pgtest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func scalar[T any](t *testing.T, conn *pgx.Conn, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

func mustExec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// databaseExists asks the server of the running harness.
func databaseExists(t *testing.T, name string) bool {
	t.Helper()
	h, err := current()
	if err != nil {
		t.Fatal(err)
	}
	var exists bool
	err = h.admin.QueryRow(context.Background(), "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil {
		t.Fatal(err)
	}
	return exists
}

func TestParallelTestsGetDistinctDatabases(t *testing.T) {
	var mu sync.Mutex
	names := map[string]bool{}
	t.Run("group", func(t *testing.T) {
		for i := range 2 {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				conn := connect(t, NewDatabase(t))
				if n := scalar[int](t, conn, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"); n != 0 {
					t.Errorf("new database has %d tables, want none", n)
				}
				mustExec(t, conn, "CREATE TABLE mine (v int)")
				mustExec(t, conn, "INSERT INTO mine VALUES ($1)", i)
				if got := scalar[int](t, conn, "SELECT v FROM mine"); got != i {
					t.Errorf("got %d, want %d", got, i)
				}
				mu.Lock()
				names[scalar[string](t, conn, "SELECT current_database()")] = true
				mu.Unlock()
			})
		}
	})
	if len(names) != 2 {
		t.Fatalf("parallel tests shared a database: %v", names)
	}
	for name := range names {
		if databaseExists(t, name) {
			t.Errorf("database %s not dropped after its test", name)
		}
	}
}

// runs makes template names unique per run of a test (go test -count).
var runs atomic.Int32

func TestTemplateIsCloned(t *testing.T) {
	template := fmt.Sprintf("seeded-%d", runs.Add(1))
	var setups atomic.Int32
	setup := func(ctx context.Context, url string) error {
		setups.Add(1)
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "CREATE TABLE seeded (v text); INSERT INTO seeded VALUES ('from the template')")
		return err
	}
	t.Run("group", func(t *testing.T) {
		for i := range 4 {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				conn := connect(t, NewDatabaseFrom(t, template, setup))
				if got := scalar[string](t, conn, "SELECT v FROM seeded"); got != "from the template" {
					t.Errorf("clone has %q", got)
				}
				// Copies are independent of each other.
				mustExec(t, conn, "INSERT INTO seeded VALUES ($1)", fmt.Sprint(i))
				if n := scalar[int](t, conn, "SELECT count(*) FROM seeded"); n != 2 {
					t.Errorf("clone has %d rows, want 2", n)
				}
			})
		}
	})
	if n := setups.Load(); n != 1 {
		t.Errorf("setup ran %d times, want once", n)
	}
}

func TestTemplateSetupMayLeaveConnectionsOpen(t *testing.T) {
	var leaked *pgx.Conn
	t.Cleanup(func() {
		if leaked != nil {
			leaked.Close(context.Background())
		}
	})
	url := NewDatabaseFrom(t, "leaky", func(ctx context.Context, url string) error {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		leaked = conn // not closed: a sloppy setup must not block the copies
		_, err = conn.Exec(ctx, "CREATE TABLE leaky (v int)")
		return err
	})
	connect(t, url)
	connect(t, NewDatabaseFrom(t, "leaky", nil))
}

func TestTemplateSetupErrorFailsClearly(t *testing.T) {
	h, err := current()
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.template("broken", func(context.Context, string) error { return fmt.Errorf("migration 3 failed") })
	if err == nil || !strings.Contains(err.Error(), `template "broken": setup: migration 3 failed`) {
		t.Errorf("err = %v", err)
	}
	_, again := h.template("broken", nil)
	if again == nil || again.Error() != err.Error() {
		t.Errorf("second request: err = %v, want the first error again", again)
	}
}

func TestWithoutMainTheErrorSaysWhatToAdd(t *testing.T) {
	saved := active.Swap(nil)
	defer active.Store(saved)
	_, err := current()
	if err == nil || !strings.Contains(err.Error(), "func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }") {
		t.Errorf("err = %v", err)
	}
}

// TestExternalServer drives the CERTCTL_TEST_DATABASE_URL mode against the
// cluster of this test binary.
func TestExternalServer(t *testing.T) {
	outer, err := current()
	if err != nil {
		t.Fatal(err)
	}
	// The server behind this test binary, as an "external" server: its own
	// cluster, or the external server it already uses.
	admin := outer.externalURL
	if outer.cluster != nil {
		admin = outer.cluster.ConnString("postgres")
	}
	h := newHarness(admin, slog.New(slog.DiscardHandler))
	var dbs []string
	t.Run("use", func(t *testing.T) {
		if err := h.start(); err != nil {
			t.Fatal(err)
		}
		url, err := h.newDatabase(t, nil)
		if err != nil {
			t.Fatal(err)
		}
		tmpl, err := h.template("ext", func(ctx context.Context, url string) error {
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				return err
			}
			defer conn.Close(ctx)
			_, err = conn.Exec(ctx, "CREATE TABLE ext (v int)")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		clone, err := h.newDatabase(t, tmpl)
		if err != nil {
			t.Fatal(err)
		}
		connect(t, url)
		mustExec(t, connect(t, clone), "INSERT INTO ext VALUES (1)")
		dbs = append(dbs, databaseNameOf(t, url), databaseNameOf(t, clone), tmpl.db)
	})
	if err := h.close(); err != nil {
		t.Fatal(err)
	}
	for _, db := range dbs {
		if databaseExists(t, db) {
			t.Errorf("database %s left on the external server", db)
		}
	}
	if outer.cluster.Err() != nil {
		t.Errorf("closing the external harness disturbed the server: %v", outer.cluster.Err())
	}
}

func databaseNameOf(t *testing.T, url string) string {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Database
}

func TestDatabaseName(t *testing.T) {
	a := databaseName("t", "TestSomething/sub_test#01 "+strings.Repeat("x", 100))
	b := databaseName("t", "TestSomething/sub_test#01 "+strings.Repeat("x", 100))
	if a == b {
		t.Errorf("two names are equal: %s", a)
	}
	if len(a) > 63 || !strings.HasPrefix(a, "t_testsomething_sub_test_01_xxx") {
		t.Errorf("name %q (%d bytes)", a, len(a))
	}
}

func TestAbandonedClustersAreRemoved(t *testing.T) {
	tmp := t.TempDir()
	mkdir := func(name string) string {
		dir := filepath.Join(tmp, dirPrefix+name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	abandoned := mkdir("abandoned")
	if f, err := claim(abandoned); err != nil {
		t.Fatal(err)
	} else {
		f.Close() // as if its test binary had died
	}
	inUse := mkdir("in-use")
	f, err := claim(inUse)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	unclaimed := mkdir("just-created")

	removeAbandoned(tmp)
	for dir, wantKept := range map[string]bool{abandoned: false, inUse: true, unclaimed: true} {
		_, err := os.Stat(dir)
		if kept := err == nil; kept != wantKept {
			t.Errorf("%s: kept = %v, want %v", filepath.Base(dir), kept, wantKept)
		}
	}
}
