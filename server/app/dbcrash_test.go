package app_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readyz returns the status of GET /readyz, or 0 if the request failed.
func readyz(addr string) int {
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// The embedded PostgreSQL dies (SIGKILL of the postmaster) while a job is
// in flight: the server stays up and not ready until the database has been
// restarted in place, then serves again with its data, and the job ends.
func TestEmbeddedDatabaseCrashIsRestartedInPlace(t *testing.T) {
	plugins := t.TempDir()
	buildHangIssuer(t, plugins)
	dir := dataDir(t)
	s := runServer(t, map[string]string{"CERTCTL_DATA_DIR": dir, "CERTCTL_PLUGIN_DIR": plugins,
		"CERTCTL_BOOTSTRAP_ADMIN_KEY": presetKey, "CERTCTL_JOB_LEASE": "5s"})

	hangFile := filepath.Join(t.TempDir(), "hang")
	if err := os.WriteFile(hangFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	iss := call(t, s.addr, "POST", "/api/v1/issuers", presetKey,
		fmt.Sprintf(`{"name":"slow-ca","type":"hang","config":{"hang_file":%q}}`, hangFile), 201)
	cert := call(t, s.addr, "POST", "/api/v1/certificates", presetKey,
		fmt.Sprintf(`{"name":"inflight","common_name":"inflight.example.com","issuer_id":%q}`, iss["id"]), 201)
	waitFor(t, "the issue job to be in its plugin call", time.Minute, func() bool {
		_, err := os.Stat(hangFile + ".entered")
		return err == nil
	})
	if got := readyz(s.addr); got != 200 {
		t.Fatalf("readyz before the crash: %d", got)
	}

	pidFile := filepath.Join(dir, "postgres", "pgdata", "postmaster.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		t.Fatalf("postmaster.pid: %q: %v", b, err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the postmaster %d: %v", pid, err)
	}
	// The CA answers at once, before the database is back (it is
	// restarted after half a second at the earliest).
	if err := os.Remove(hangFile); err != nil {
		t.Fatal(err)
	}

	alive := func() {
		t.Helper()
		select {
		case err := <-s.done:
			s.done <- err
			t.Fatalf("the server exited when its database died: %v", err)
		default:
		}
	}
	waitFor(t, "readyz to say 503 after the crash", time.Minute, func() bool {
		alive()
		return readyz(s.addr) == 503
	})
	waitFor(t, "readyz to say 200 again", 2*time.Minute, func() bool {
		alive()
		return readyz(s.addr) == 200
	})
	alive()

	// The API works, and what was there before is still there.
	if n := itemCount(t, s.addr, "/api/v1/issuers", presetKey); n != 1 {
		t.Errorf("issuers after the crash: %d, want 1", n)
	}
	call(t, s.addr, "GET", "/api/v1/certificates/"+cert["id"].(string), presetKey, "", 200)
	call(t, s.addr, "POST", "/api/v1/certificates", presetKey,
		fmt.Sprintf(`{"name":"after","common_name":"after.example.com","issuer_id":%q}`, iss["id"]), 201)

	// The job that was in flight during the crash ends: its result was
	// most likely written while the database was down, and the job ran
	// again once its lease expired.
	waitFor(t, "the in-flight certificate to be issued", 2*time.Minute, func() bool {
		alive()
		return call(t, s.addr, "GET", "/api/v1/certificates/"+cert["id"].(string), presetKey, "", 200)["status"] == "active"
	})
	if _, err := s.shutdown(t, 2*time.Minute); err != nil {
		t.Fatalf("shutdown after the database was restarted: %v", err)
	}
}
