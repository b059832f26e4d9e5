//go:build linux

package pgembed

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The helper process plays certctl-server: it starts a cluster on the data
// directory named by helperDirEnv, writes a row, prints "ready <postmaster
// pid>" and waits to be killed.
const (
	helperDirEnv         = "PGEMBED_TEST_HELPER_DATADIR"
	helperNoPdeathsigEnv = "PGEMBED_TEST_HELPER_NO_PDEATHSIG"
)

func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperDirEnv)
	if dir == "" {
		return // only meaningful as a child of the crash tests
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{
		DataDir:     dir,
		Fast:        true,
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, nil)),
		noPdeathsig: os.Getenv(helperNoPdeathsigEnv) == "1",
	})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	conn, err := pgx.Connect(ctx, c.ConnString("postgres"))
	if err == nil {
		_, err = conn.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('written before SIGKILL')")
	}
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	// The connection stays open: the supervisor dies with a session in use.
	fmt.Printf("ready %d\n", c.proc.Pid)
	time.Sleep(time.Hour)
	os.Exit(1)
}

// startHelper runs TestHelperProcess in a child process and returns it with
// the pid of its postmaster once the cluster is ready.
func startHelper(t *testing.T, dir string, noPdeathsig bool) (*exec.Cmd, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), helperDirEnv+"="+dir)
	if noPdeathsig {
		cmd.Env = append(cmd.Env, helperNoPdeathsigEnv+"=1")
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("helper stderr:\n%s", stderr.String())
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case line := <-lines:
		pid, err := strconv.Atoi(strings.TrimPrefix(line, "ready "))
		if !strings.HasPrefix(line, "ready ") || err != nil {
			t.Fatalf("helper said %q", line)
		}
		return cmd, pid
	case <-time.After(2 * time.Minute):
		t.Fatal("helper not ready after 2 minutes")
	}
	return nil, 0
}

func TestSupervisorKilledStopsPostgres(t *testing.T) {
	t.Parallel()
	dir := testDataDir(t)
	helper, pid := startHelper(t, dir, false)

	// While the helper runs, the data directory is taken.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if c, err := Start(ctx, Options{DataDir: dir, Fast: true, Logger: testLogger(t)}); err == nil {
		c.Stop(ctx)
		t.Fatal("Start succeeded while another process runs the cluster")
	} else if want := fmt.Sprintf("in use by another process (pid %d)", helper.Process.Pid); !strings.Contains(err.Error(), want) {
		t.Errorf("Start error = %q, want it to contain %q", err, want)
	}

	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	helper.Wait()
	if !waitGone(pid, 10*time.Second) {
		t.Fatalf("postmaster %d still running 10s after its supervisor was killed", pid)
	}
	procs, err := clusterProcesses(filepath.Join(dir, "pgdata"))
	if err != nil || len(procs) != 0 {
		t.Errorf("cluster processes after the postmaster exited: %v (err %v)", procs, err)
	}

	c := startCluster(t, Options{DataDir: dir, Fast: true})
	if got := queryString(t, connect(t, c, "postgres"), "SELECT v FROM kept"); got != "written before SIGKILL" {
		t.Errorf("after restart got %q", got)
	}
}

func TestStartStopsLeftoverPostgres(t *testing.T) {
	t.Parallel()
	dir := testDataDir(t)
	helper, pid := startHelper(t, dir, true)
	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	helper.Wait()
	// Without the parent-death signal the postmaster outlives its supervisor
	// (as it would on systems without one).
	time.Sleep(300 * time.Millisecond)
	if !processAlive(pid) {
		t.Fatal("postmaster exited with its supervisor although the parent-death signal was off")
	}

	c := startCluster(t, Options{DataDir: dir, Fast: true})
	if processAlive(pid) {
		t.Errorf("leftover postmaster %d still running after Start", pid)
	}
	if got := queryString(t, connect(t, c, "postgres"), "SELECT v FROM kept"); got != "written before SIGKILL" {
		t.Errorf("after restart got %q", got)
	}
}
