//go:build linux

package pgembed

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestChildEnvKeepsOnlyWhatPostgresNeeds(t *testing.T) {
	t.Parallel()
	got := childEnv([]string{
		"PATH=/usr/bin:/bin", "TZ=Europe/Paris", "HOME=/root", "LANG=de_DE.UTF-8", "LC_MESSAGES=de_DE.UTF-8",
		"CERTCTL_ENCRYPTION_KEY=k", "CERTCTL_BOOTSTRAP_ADMIN_KEY=a", "CERTCTL_DATABASE_URL=u",
		"PGHOST=/elsewhere", "PGPASSWORD=p", "LD_PRELOAD=x.so", "AWS_SECRET_ACCESS_KEY=s",
	})
	want := []string{"LC_ALL=C", "PATH=/usr/bin:/bin", "TZ=Europe/Paris"}
	if !slices.Equal(got, want) {
		t.Errorf("childEnv = %q, want %q", got, want)
	}
}

// TestClusterGetsNoSecrets starts a cluster from an environment holding
// certctl's secrets and looks for them where a database process or session
// could: the environment of the postmaster and of every process it started,
// read through /proc and through SQL, and the files a session of the
// application's role can read.
func TestClusterGetsNoSecrets(t *testing.T) {
	const encKey, adminKey = "marker-encryption-key-6f1c2a", "marker-bootstrap-admin-key-93be07"
	t.Setenv("CERTCTL_ENCRYPTION_KEY", encKey)
	t.Setenv("CERTCTL_BOOTSTRAP_ADMIN_KEY", adminKey)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	dir := testDataDir(t)
	c := startCluster(t, Options{DataDir: dir, Fast: true})
	appURL, err := c.CreateDatabase(ctx, "certctl")
	if err != nil {
		t.Fatalf("CreateDatabase: %v", err)
	}
	super := connect(t, c, "certctl") // a backend among the processes below
	app, err := pgx.Connect(ctx, appURL)
	if err != nil {
		t.Fatalf("connect as the application's role: %v", err)
	}
	defer app.Close(context.Background())

	procs, err := clusterProcesses(filepath.Join(dir, "pgdata"))
	if err != nil {
		t.Fatal(err)
	}
	if len(procs) < 3 { // postmaster, its helpers and the two backends
		t.Fatalf("found only %d cluster processes: %v", len(procs), procs)
	}
	sawPostmaster := false
	for _, p := range procs {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid) + "/environ")
		if (errors.Is(err, syscall.ESRCH) || errors.Is(err, fs.ErrNotExist)) && p.pid != c.proc.Pid {
			continue // a backend that has ended since
		}
		sawPostmaster = sawPostmaster || p.pid == c.proc.Pid
		if err != nil {
			t.Fatalf("read the environment of postgres process %d: %v", p.pid, err)
		}
		checkNoMarker(t, "/proc/"+strconv.Itoa(p.pid)+"/environ", string(b), encKey, adminKey)
		// Processes other than the postmaster show zeros here: postgres
		// writes their titles over the area.
		for kv := range strings.SplitSeq(string(b), "\x00") {
			name, _, _ := strings.Cut(kv, "=")
			if kv != "" && !slices.Contains([]string{"PATH", "TZ", "LC_ALL"}, name) {
				t.Errorf("postgres process %d has %q in its environment", p.pid, name)
			}
		}
	}

	if !sawPostmaster {
		t.Fatalf("the postmaster (%d) is not among the cluster's processes %v", c.proc.Pid, procs)
	}

	// What a superuser session can read of the postmaster's environment.
	var environ []byte
	err = super.QueryRow(ctx, "SELECT pg_read_binary_file('/proc/' || $1::int || '/environ')", c.proc.Pid).Scan(&environ)
	if err != nil {
		t.Fatalf("read the postmaster's environment as the superuser: %v", err)
	}
	checkNoMarker(t, "pg_read_binary_file as the superuser", string(environ), encKey, adminKey)

	// The application's role can read and run nothing of the machine's.
	var isSuper string
	if err := app.QueryRow(ctx, "SHOW is_superuser").Scan(&isSuper); err != nil || isSuper != "off" {
		t.Errorf("is_superuser = %q (err %v), want off", isSuper, err)
	}
	for _, sql := range []string{
		"SELECT pg_read_binary_file('/proc/self/environ')",
		"SELECT pg_read_binary_file('/proc/" + strconv.Itoa(os.Getpid()) + "/environ')",
		"SELECT pg_read_file('" + filepath.Join(dir, "superuser-password") + "')",
		"SELECT pg_ls_dir('.')",
		"COPY (SELECT 1) TO PROGRAM 'true'",
		"CREATE TEMP TABLE t (v text); COPY t FROM PROGRAM 'cat /proc/self/environ'",
		"SELECT lo_import('/proc/self/environ')",
		"CREATE EXTENSION IF NOT EXISTS adminpack",
		"SET ROLE postgres",
	} {
		_, err := app.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" { // insufficient_privilege
			t.Errorf("as the application's role, %s: err = %v, want permission denied (42501)", sql, err)
		}
	}
}

func checkNoMarker(t *testing.T, where, s string, markers ...string) {
	t.Helper()
	for _, m := range markers {
		if strings.Contains(s, m) {
			t.Errorf("%s holds the secret %q", where, m)
		}
	}
}

// TestCreateDatabaseHandsOverAnOldDatabase: a database created by an
// earlier version belongs, with everything in it, to the superuser.
// CreateDatabase gives it to the application's role, which can then run
// any migration on it, and a later call gives the role a new password.
func TestCreateDatabaseHandsOverAnOldDatabase(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := startCluster(t, Options{DataDir: testDataDir(t), Fast: true})
	admin := connect(t, c, "postgres")
	mustExec(t, admin, "CREATE DATABASE certctl")
	old := connect(t, c, "certctl")
	for _, sql := range []string{
		"CREATE TYPE state AS ENUM ('a', 'b')",
		"CREATE DOMAIN positive AS int CHECK (VALUE > 0)",
		"CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint)",
		"CREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, s state, n positive, touched timestamptz)",
		"CREATE SEQUENCE free_standing",
		"CREATE VIEW item_states AS SELECT s FROM items",
		"CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.touched := now(); RETURN NEW; END $$",
		"CREATE TRIGGER items_touch BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION touch()",
		"CREATE SCHEMA extra",
		"CREATE TABLE extra.t (v text)",
		"INSERT INTO items (s, n) VALUES ('a', 1)",
	} {
		mustExec(t, old, sql)
	}
	old.Close(ctx)

	first, err := c.CreateDatabase(ctx, "certctl")
	if err != nil {
		t.Fatalf("CreateDatabase: %v", err)
	}
	url, err := c.CreateDatabase(ctx, "certctl")
	if err != nil {
		t.Fatalf("second CreateDatabase: %v", err)
	}
	if conn, err := pgx.Connect(ctx, first); err == nil {
		conn.Close(ctx)
		t.Error("the role's password of the first call still works after the second")
	}
	app, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect as the application's role: %v", err)
	}
	defer app.Close(context.Background())
	if got := queryString(t, app, `SELECT count(*)::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname IN ('public', 'extra') AND pg_get_userbyid(c.relowner) <> 'certctl'`); got != "0" {
		t.Errorf("%s relations still belong to another role", got)
	}
	for _, sql := range []string{
		"INSERT INTO items (s, n) VALUES ('b', 2)",
		"INSERT INTO goose_db_version (version_id) VALUES (1)",
		"SELECT nextval('free_standing')",
		"ALTER TYPE state ADD VALUE 'c'",
		"ALTER DOMAIN positive DROP CONSTRAINT positive_check",
		"CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
		"DROP TRIGGER items_touch ON items",
		"DROP VIEW item_states",
		"ALTER TABLE items ADD COLUMN note text",
		"CREATE INDEX items_note ON items (note)",
		"CREATE TABLE fresh (id uuid PRIMARY KEY DEFAULT gen_random_uuid())",
		"DROP TABLE extra.t",
		"DROP SCHEMA extra",
	} {
		mustExec(t, app, sql)
	}
	if got := queryString(t, app, "SELECT count(*)::text FROM items WHERE touched IS NOT NULL"); got != "2" {
		t.Errorf("%s rows touched by the trigger, want 2", got)
	}
}
