//go:build unix

package pgembed

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestRestartKeepsData(t *testing.T) {
	t.Parallel()
	dir := testDataDir(t)
	opts := Options{DataDir: dir} // durable defaults, as in production
	c := startCluster(t, opts)

	conn := connect(t, c, "postgres")
	if got := queryString(t, conn, "SHOW fsync"); got != "on" {
		t.Errorf("fsync = %q, want on (durability is the default)", got)
	}
	if got := queryString(t, conn, "SHOW listen_addresses"); got != "" {
		t.Errorf("listen_addresses = %q, want empty (no TCP)", got)
	}
	if got := queryString(t, conn, "SHOW server_encoding"); got != "UTF8" {
		t.Errorf("server_encoding = %q, want UTF8", got)
	}
	if got := queryString(t, conn, "SELECT datcollate FROM pg_database WHERE datname = 'postgres'"); got != "C" {
		t.Errorf("datcollate = %q, want C", got)
	}
	conn.Close(context.Background())

	ctx := context.Background()
	for _, name := range []string{"certctl", "certctl", `we"ird db`} { // the repeat must be a no-op
		if _, err := c.CreateDatabase(ctx, name); err != nil {
			t.Fatalf("CreateDatabase(%q): %v", name, err)
		}
	}
	db := connect(t, c, "certctl")
	mustExec(t, db, "CREATE TABLE kept (v text)")
	mustExec(t, db, "INSERT INTO kept VALUES ('survives a restart')")
	db.Close(ctx)
	connect(t, c, `we"ird db`).Close(ctx)

	if err := c.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	if err := c.Err(); err != nil {
		t.Errorf("Err after Stop = %v, want nil", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pgdata", "postmaster.pid")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("postmaster.pid still there after Stop (err %v): not a clean shutdown", err)
	}

	c2 := startCluster(t, opts)
	if got := queryString(t, connect(t, c2, "certctl"), "SELECT v FROM kept"); got != "survives a restart" {
		t.Errorf("after restart got %q", got)
	}
}

func TestRootRunsClusterAsPostgresUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	t.Parallel()
	want, err := user.Lookup("postgres")
	if err != nil {
		t.Skip("no postgres user on this machine")
	}
	dir := testDataDir(t)
	c := startCluster(t, Options{DataDir: dir, Fast: true})
	wantUID, _ := strconv.Atoi(want.Uid)
	if got := processUID(t, c.proc.Pid); got != wantUID {
		t.Errorf("postmaster uid = %d, want %d (postgres)", got, wantUID)
	}
	for path, mode := range map[string]fs.FileMode{
		dir:                                      0o700,
		filepath.Join(dir, "pgdata"):             0o700,
		filepath.Join(dir, "run"):                0o700,
		filepath.Join(dir, "superuser-password"): 0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s has mode %04o, want %04o", path, fi.Mode().Perm(), mode)
		}
	}
	fi, _ := os.Stat(filepath.Join(dir, "pgdata"))
	if uid := fi.Sys().(*syscall.Stat_t).Uid; int(uid) != wantUID {
		t.Errorf("pgdata owned by uid %d, want %d", uid, wantUID)
	}
	fi, _ = os.Stat(filepath.Join(dir, "superuser-password"))
	if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != 0 {
		t.Errorf("superuser-password owned by uid %d, want 0 (not readable by the cluster's user)", uid)
	}

	// Ownership and mode that postgres would refuse are repaired on start.
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	pgdata := filepath.Join(dir, "pgdata")
	err = filepath.WalkDir(pgdata, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, 0, 0)
	})
	if err == nil {
		err = os.Chmod(pgdata, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	c2 := startCluster(t, Options{DataDir: dir, Fast: true})
	connect(t, c2, "postgres")
	fi, _ = os.Stat(filepath.Join(pgdata, "base"))
	if uid := fi.Sys().(*syscall.Stat_t).Uid; int(uid) != wantUID {
		t.Errorf("pgdata/base owned by uid %d after restart, want %d", uid, wantUID)
	}
}

func TestStartIsBoundedByContext(t *testing.T) {
	t.Parallel()
	dir := testDataDir(t)
	// Far too short for initdb (about half a second) to finish.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	began := time.Now()
	c, err := Start(ctx, Options{DataDir: dir, Fast: true, Logger: testLogger(t)})
	if err == nil {
		c.Stop(context.Background())
		t.Fatal("Start finished a new cluster within 20ms: its context was not honoured")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline error", err)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("Start returned %v after its deadline", d)
	}
	t.Logf("Start error: %v", err)
	// The interrupted attempt leaves the data directory usable.
	startCluster(t, Options{DataDir: dir, Fast: true})
}

func TestRootFallsBackToNobody(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	t.Parallel()
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no nobody user on this machine")
	}
	c := startCluster(t, Options{DataDir: testDataDir(t), Fast: true, runAs: "nobody"})
	wantUID, _ := strconv.Atoi(nobody.Uid)
	if got := processUID(t, c.proc.Pid); got != wantUID {
		t.Errorf("postmaster uid = %d, want %d (nobody)", got, wantUID)
	}
	connect(t, c, "postgres")
}

func TestFastSettingsAndOptions(t *testing.T) {
	t.Parallel()
	c := startCluster(t, Options{DataDir: testDataDir(t), Fast: true, Settings: map[string]string{"max_connections": "42", "shared_buffers": "16MB"}})
	conn := connect(t, c, "postgres")
	for setting, want := range map[string]string{
		"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "42",
		// SmallMachineSettings, one of them overridden by Settings.
		"shared_buffers": "16MB", "maintenance_work_mem": "16MB", "max_wal_senders": "0", "jit": "off",
		"max_logical_replication_workers": "0", "autovacuum_max_workers": "2", "wal_buffers": "1MB",
	} {
		if got := queryString(t, conn, "SHOW "+setting); got != want {
			t.Errorf("%s = %q, want %q", setting, got, want)
		}
	}
}

func TestSecondStartOnSameDataDirFails(t *testing.T) {
	t.Parallel()
	dir := testDataDir(t)
	c := startCluster(t, Options{DataDir: dir, Fast: true})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c2, err := Start(ctx, Options{DataDir: dir, Fast: true, Logger: testLogger(t)})
	if err == nil {
		c2.Stop(ctx)
		t.Fatal("second Start on a data directory in use succeeded")
	}
	if want := "is in use by another process (pid " + strconv.Itoa(os.Getpid()); !strings.Contains(err.Error(), want) {
		t.Errorf("second Start error = %q, want it to contain %q", err, want)
	}
	// The first cluster is untouched.
	connect(t, c, "postgres")
	select {
	case <-c.Done():
		t.Fatalf("first cluster exited: %v", c.Err())
	default:
	}
}

// A postmaster that dies (SIGKILL here, with a session open) is restarted
// in place: crash recovery keeps what was committed, and the URL that
// CreateDatabase returned still logs in.
func TestUnexpectedExitRestartsInPlace(t *testing.T) {
	t.Parallel()
	dir := testDataDir(t)
	c := startCluster(t, Options{DataDir: dir}) // durable: a committed row must survive the crash
	ctx := context.Background()
	url, err := c.CreateDatabase(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	db, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	mustExec(t, db, "CREATE TABLE kept (v text)")
	mustExec(t, db, "INSERT INTO kept VALUES ('before the crash')")

	for round := range 2 {
		old := c.current()
		if err := old.Kill(); err != nil {
			t.Fatal(err)
		}
		<-old.exited
		waitFor(t, "a new postmaster", 2*time.Minute, func() bool { return c.restartCount() == round+1 })
		select {
		case <-c.Done():
			t.Fatalf("round %d: Done closed after one crash: %v", round, c.Err())
		default:
		}
		again, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatalf("round %d: connect with the URL from CreateDatabase after the restart: %v", round, err)
		}
		var got string
		err = again.QueryRow(ctx, "SELECT v FROM kept").Scan(&got)
		again.Close(ctx)
		if err != nil || got != "before the crash" {
			t.Fatalf("round %d: after crash recovery got %q, %v", round, got, err)
		}
	}
	if err := c.Err(); err != nil {
		t.Errorf("Err while running = %v", err)
	}
	if err := c.Stop(ctx); err != nil {
		t.Errorf("Stop after restarts: %v", err)
	}
	if err := c.Err(); err != nil {
		t.Errorf("Err after Stop = %v, want nil", err)
	}
}

// A postmaster that keeps dying is given up on: Done closes and Err says
// so, and Stop still releases the data directory.
func TestRepeatedExitsGiveUp(t *testing.T) {
	t.Parallel()
	dir := testDataDir(t)
	c := startCluster(t, Options{DataDir: dir, Fast: true,
		restart: &restartPolicy{delay: 10 * time.Millisecond, maxDelay: 20 * time.Millisecond, limit: 1, window: time.Hour}})
	if err := c.current().Kill(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a restart", 2*time.Minute, func() bool { return c.restartCount() == 1 })
	if err := c.current().Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(time.Minute):
		t.Fatal("Done not closed after the second crash (limit 1)")
	}
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "gave up restarting postgres after 2 failures") ||
		!strings.Contains(err.Error(), "exited unexpectedly") {
		t.Errorf("Err = %v, want the give-up with its cause", err)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Errorf("Stop after giving up: %v", err)
	}
	startCluster(t, Options{DataDir: dir, Fast: true}) // the directory was released
}

func (c *Cluster) restartCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.restarts
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestLongDataDirUsesShortSocketDir(t *testing.T) {
	t.Parallel()
	dir := testDataDir(t)
	dir = filepath.Join(dir, strings.Repeat("d", 120-len(dir)))
	c := startCluster(t, Options{DataDir: dir, Fast: true})
	if !strings.HasPrefix(c.socketDir, filepath.Join(os.TempDir(), "certctl-pg-")) {
		t.Errorf("socket dir = %s, want a temporary directory", c.socketDir)
	}
	connect(t, c, "postgres").Close(context.Background())
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.socketDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temporary socket dir left behind (stat err %v)", err)
	}
}

func TestUntraversableParentIsExplained(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: only then does the cluster run as another user")
	}
	t.Parallel()
	closed := filepath.Dir(t.TempDir()) // 0700, owned by root
	dir := filepath.Join(closed, "sub", "pg")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{DataDir: dir, Fast: true, Logger: testLogger(t)})
	if err == nil {
		c.Stop(ctx)
		t.Fatal("Start succeeded below a 0700 root directory")
	}
	if !strings.Contains(err.Error(), "cannot reach") || !strings.Contains(err.Error(), closed+" has mode 0700") {
		t.Errorf("error = %q, want it to name %s and its mode", err, closed)
	}
	// The directory Start created on the way is traversable.
	if fi, err := os.Stat(filepath.Join(closed, "sub")); err != nil || fi.Mode().Perm() != 0o711 {
		t.Errorf("created parent: %v, %v; want mode 0711", fi.Mode(), err)
	}
}

func TestStalePidFileIsIgnored(t *testing.T) {
	t.Parallel()
	dir := testDataDir(t)
	opts := Options{DataDir: dir, Fast: true}
	c := startCluster(t, opts)
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}

	// A postmaster.pid whose process id now belongs to an unrelated, live
	// process of the cluster's user (as after a container restart) must not
	// block the start. Postgres itself ignores processes of other users.
	acct, err := runAccount("")
	if err != nil {
		t.Fatal(err)
	}
	sleeper := acct.command(context.Background(), "/", "sleep", "300")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleeper.Process.Kill(); sleeper.Wait() })
	pidFile := filepath.Join(dir, "pgdata", "postmaster.pid")
	stale := strconv.Itoa(sleeper.Process.Pid) + "\n" + filepath.Join(dir, "pgdata") + "\n1700000000\n5432\n/nonexistent\n\n  5432001    32768\nready   \n"
	if err := os.WriteFile(pidFile, []byte(stale), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := acct.own(pidFile); err != nil { // as postgres would have written it
		t.Fatal(err)
	}
	c2 := startCluster(t, opts)
	connect(t, c2, "postgres")
	if !processAlive(sleeper.Process.Pid) {
		t.Error("the unrelated process was killed")
	}
}

func TestStartupFailureQuotesPostgres(t *testing.T) {
	t.Parallel()
	dir := testDataDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{DataDir: dir, Fast: true, Logger: testLogger(t), Settings: map[string]string{"max_connections": "lots"}})
	if err == nil {
		c.Stop(ctx)
		t.Fatal("Start succeeded with an invalid setting")
	}
	for _, want := range []string{"postgres exited during startup", `invalid value for parameter "max_connections": "lots"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	startCluster(t, Options{DataDir: dir, Fast: true}) // the failed attempt released the directory
}

// A postmaster that does not answer (stopped here with SIGSTOP, so that
// neither the fast nor the immediate shutdown can work) is killed, and
// Stop returns by its context's deadline rather than after killGrace.
func TestStopKeepsToItsDeadline(t *testing.T) {
	t.Parallel()
	c := startCluster(t, Options{DataDir: testDataDir(t)})
	if err := c.proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	const budget = 3 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	deadline, _ := ctx.Deadline()
	err := c.Stop(ctx)
	if err == nil || !strings.Contains(err.Error(), "shut down immediately") {
		t.Errorf("Stop of a postmaster that does not answer: %v; want the immediate shutdown reported", err)
	}
	// The kill and the wait for the exit follow the deadline closely; a
	// second of slack for a loaded machine, far below killGrace.
	if late := time.Since(deadline); late > time.Second {
		t.Errorf("Stop returned %s after its deadline (killGrace is %s)", late, killGrace)
	}
	select {
	case <-c.Done():
	default:
		t.Error("the postmaster is still running after Stop")
	}
}
