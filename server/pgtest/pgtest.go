// Package pgtest gives every test its own PostgreSQL database, on one
// private cluster per test binary (that is, per package).
//
// A package opts in with
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// and a test asks for a fresh, empty database with
//
//	url := pgtest.NewDatabase(t)
//
// or for a copy of a template that is built once per test binary, which is
// much faster than migrating a new database for every test:
//
//	url := pgtest.NewDatabaseFrom(t, "migrated", func(ctx context.Context, url string) error {
//		return applyMigrations(ctx, url)
//	})
//
// The database is dropped when the test ends; tests may run in parallel.
//
// The cluster (see package pgembed, started with its test-only Fast
// settings) starts on the first request, so packages whose tests never ask
// pay nothing. When CERTCTL_TEST_DATABASE_URL is set to a postgres:// URL of
// an existing server, whose role may create databases, that server is used
// instead. CERTCTL_TEST_PG_LOG=1 shows the cluster's log on stderr.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certctl/certctl/server/pgembed"
)

const (
	envURL = "CERTCTL_TEST_DATABASE_URL"
	envLog = "CERTCTL_TEST_PG_LOG"
)

// active is the harness of this test binary while Main runs the tests. It is
// package state because NewDatabase has nothing but t to find it by; Main
// sets it before the tests and clears it after.
var active atomic.Pointer[harness]

// Main runs the tests, then stops the cluster (if one was started) and
// removes its files. Its result is the exit code for os.Exit.
func Main(m *testing.M) int {
	level := slog.LevelError
	if os.Getenv(envLog) != "" {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	h := newHarness(os.Getenv(envURL), logger)
	active.Store(h)
	code := m.Run()
	active.Store(nil)
	if err := h.close(); err != nil {
		logger.Error("pgtest: shut down the test database server", "err", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// NewDatabase creates an empty database for this test, drops it (forcibly)
// when the test ends, and returns a pgx connection URL for it.
func NewDatabase(t testing.TB) string {
	t.Helper()
	h, err := current()
	if err != nil {
		t.Fatal(err)
	}
	url, err := h.newDatabase(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// NewDatabaseFrom is NewDatabase for a copy of the template called name. The
// first call with a name builds the template by running setup on an empty
// database (setup should close its connections, though leftovers are ended);
// later calls with that name reuse it and ignore their setup. A setup error
// fails every test that asks for that template.
func NewDatabaseFrom(t testing.TB, name string, setup func(ctx context.Context, url string) error) string {
	t.Helper()
	h, err := current()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := h.template(name, setup)
	if err != nil {
		t.Fatal(err)
	}
	url, err := h.newDatabase(t, tmpl)
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// current returns the running harness, started.
func current() (*harness, error) {
	h := active.Load()
	if h == nil {
		return nil, errors.New("pgtest: Main was not called; add\n\tfunc TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }\nto this package's tests")
	}
	if err := h.start(); err != nil {
		return nil, err
	}
	return h, nil
}

// harness owns the database server of one test binary.
type harness struct {
	externalURL string // CERTCTL_TEST_DATABASE_URL, or ""
	logger      *slog.Logger

	startOnce sync.Once
	startErr  error
	dir       string           // holds the cluster, when we run one
	lock      *os.File         // claims dir (see removeAbandoned)
	cluster   *pgembed.Cluster // nil when using externalURL
	admin     *pgxpool.Pool    // connected to the maintenance database

	mu        sync.Mutex
	templates map[string]*template
}

// template is a database that tests get copies of.
type template struct {
	once  sync.Once
	db    string
	err   error
	clone sync.Mutex // one CREATE DATABASE ... TEMPLATE at a time
}

func newHarness(externalURL string, logger *slog.Logger) *harness {
	return &harness{externalURL: externalURL, logger: logger, templates: map[string]*template{}}
}

// start starts the server on first use; later calls return the first
// call's result.
func (h *harness) start() error {
	h.startOnce.Do(func() { h.startErr = h.doStart() })
	return h.startErr
}

func (h *harness) doStart() (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	adminURL := h.externalURL
	if adminURL != "" {
		if u, err := url.Parse(adminURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return fmt.Errorf("pgtest: %s must be a postgres:// URL", envURL)
		}
	} else {
		removeAbandoned(os.TempDir())
		if h.dir, err = os.MkdirTemp("", dirPrefix); err != nil {
			return fmt.Errorf("pgtest: %w", err)
		}
		h.lock, err = claim(h.dir)
		if err == nil {
			err = os.Chmod(h.dir, 0o711) // the cluster's user must get through to its DataDir
		}
		if err == nil {
			h.cluster, err = pgembed.Start(ctx, pgembed.Options{
				DataDir:  filepath.Join(h.dir, "cluster"),
				Logger:   h.logger,
				Fast:     true,
				Settings: map[string]string{"max_connections": "300"},
			})
		}
		if err != nil {
			h.removeDir()
			return fmt.Errorf("pgtest: start the test cluster: %w", err)
		}
		adminURL = h.cluster.ConnString("postgres")
	}
	cfg, err := pgxpool.ParseConfig(adminURL)
	if err == nil {
		cfg.MaxConns = 4
		h.admin, err = pgxpool.NewWithConfig(ctx, cfg)
	}
	if err == nil {
		err = h.admin.Ping(ctx)
	}
	if err != nil {
		return fmt.Errorf("pgtest: connect to the test database server: %w", err)
	}
	return nil
}

// close drops what the harness created on an external server and stops the
// cluster it started.
func (h *harness) close() error {
	h.startOnce.Do(func() {}) // no start from now on
	var errs []error
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if h.admin != nil {
		if h.cluster == nil { // an external server keeps what we leave
			h.mu.Lock()
			for _, tp := range h.templates {
				if tp.db != "" {
					errs = append(errs, h.dropDatabase(ctx, tp.db))
				}
			}
			h.mu.Unlock()
		}
		h.admin.Close()
	}
	if h.cluster != nil {
		errs = append(errs, h.cluster.Stop(ctx))
	}
	errs = append(errs, h.removeDir())
	return errors.Join(errs...)
}

// removeDir removes the cluster's directory, if any, and then lets go of it.
func (h *harness) removeDir() error {
	if h.dir == "" {
		return nil
	}
	err := os.RemoveAll(h.dir)
	if h.lock != nil {
		h.lock.Close()
	}
	h.dir, h.lock = "", nil
	return err
}

// urlFor returns the connection URL of database db.
func (h *harness) urlFor(db string) string {
	if h.cluster != nil {
		return h.cluster.ConnString(db)
	}
	u, _ := url.Parse(h.externalURL) // checked by doStart
	u.Path = "/" + db
	u.RawPath = ""
	return u.String()
}

// newDatabase creates a database for t, a copy of tmpl unless that is nil,
// and drops it when t ends.
func (h *harness) newDatabase(t testing.TB, tmpl *template) (string, error) {
	name := databaseName("t", t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := h.createDatabase(ctx, name, tmpl); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := h.dropDatabase(ctx, name); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return h.urlFor(name), nil
}

// createDatabase creates database name, as a copy of tmpl (template1 when
// nil). Copying needs the template to itself, so copies of a template are
// made one at a time, and retried while another session is still leaving it.
func (h *harness) createDatabase(ctx context.Context, name string, tmpl *template) error {
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if tmpl != nil {
		sql += " TEMPLATE " + pgx.Identifier{tmpl.db}.Sanitize()
		tmpl.clone.Lock()
		defer tmpl.clone.Unlock()
	}
	delay := 10 * time.Millisecond
	for {
		_, err := h.admin.Exec(ctx, sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "55006" { // object_in_use: "source database is being accessed by other users"
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last attempt: %v)", context.Cause(ctx), err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

func (h *harness) dropDatabase(ctx context.Context, name string) error {
	_, err := h.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	if err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// template returns the template called name, building it with setup on
// first use.
func (h *harness) template(name string, setup func(ctx context.Context, url string) error) (*template, error) {
	h.mu.Lock()
	tp, ok := h.templates[name]
	if !ok {
		tp = &template{}
		h.templates[name] = tp
	}
	h.mu.Unlock()
	tp.once.Do(func() { tp.err = h.buildTemplate(tp, name, setup) })
	return tp, tp.err
}

func (h *harness) buildTemplate(tp *template, name string, setup func(ctx context.Context, url string) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	db := databaseName("tmpl", name)
	if err := h.createDatabase(ctx, db, nil); err != nil {
		return fmt.Errorf("pgtest: template %q: %w", name, err)
	}
	h.mu.Lock()
	tp.db = db // from now on close drops it
	h.mu.Unlock()
	if err := setup(ctx, h.urlFor(db)); err != nil {
		return fmt.Errorf("pgtest: template %q: setup: %w", name, err)
	}
	// Nobody may stay connected to a template that is being copied.
	_, err := h.admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{db}.Sanitize()+" ALLOW_CONNECTIONS false")
	if err == nil {
		_, err = h.admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", db)
	}
	if err != nil {
		return fmt.Errorf("pgtest: template %q: %w", name, err)
	}
	return nil
}

// databaseName returns a new database name made of prefix, a readable part
// of hint and a random suffix, within PostgreSQL's 63-byte limit.
func databaseName(prefix, hint string) string {
	var b strings.Builder
	underscore := false
	for _, r := range strings.ToLower(hint) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			underscore = false
		} else if !underscore {
			b.WriteByte('_')
			underscore = true
		}
	}
	readable := strings.Trim(b.String(), "_")
	if len(readable) > 40 {
		readable = readable[:40]
	}
	suffix := make([]byte, 5)
	_, _ = rand.Read(suffix)
	return prefix + "_" + readable + "_" + hex.EncodeToString(suffix)
}
