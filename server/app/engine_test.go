package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certctl/certctl/server/pgtest"
)

const presetKey = "cck_engine-tests-preset-admin-key-0123456789"

var sharedEncryptionKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))

// process is a certctl-server running as a child process (the test binary
// in helper mode), so that it can be SIGKILLed.
type process struct {
	cmd  *exec.Cmd
	addr string
}

// startProcess starts a server process on the database url and waits until it serves.
func startProcess(t *testing.T, url string, extra ...string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CERTCTL_TEST_HELPER_SERVER=1", "CERTCTL_DATABASE_URL="+url,
		"CERTCTL_DATA_DIR="+t.TempDir(), "CERTCTL_LISTEN_ADDR=127.0.0.1:0", "CERTCTL_PLUGIN_DIR="+pluginDir,
		"CERTCTL_BOOTSTRAP_ADMIN_KEY="+presetKey, "CERTCTL_ENCRYPTION_KEY="+sharedEncryptionKey,
		"CERTCTL_JOB_LEASE=3s", "CERTCTL_SCHEDULER_INTERVAL=500ms", "CERTCTL_WORKERS=8")
	cmd.Env = append(cmd.Env, extra...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(out)
	timer := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	for lines.Scan() {
		if _, rest, ok := strings.Cut(lines.Text(), "listening on http://"); ok {
			p.addr = strings.TrimSpace(rest)
			break
		}
	}
	timer.Stop()
	if p.addr == "" {
		t.Fatal("server process did not start")
	}
	go func() {
		for lines.Scan() {
		}
	}()
	return p
}

func (p *process) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	_ = p.cmd.Wait()
}

// createCertificates declares n certificates on the default local issuer.
func createCertificates(t *testing.T, addr string, prefix string, n int) {
	t.Helper()
	issuers := call(t, addr, "GET", "/api/v1/issuers", presetKey, "", 200)["items"].([]any)
	var issuer string
	for _, i := range issuers {
		if i.(map[string]any)["name"] == "local" {
			issuer = i.(map[string]any)["id"].(string)
		}
	}
	if issuer == "" {
		t.Fatal("no default local issuer")
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			call(t, addr, "POST", "/api/v1/certificates", presetKey, fmt.Sprintf(
				`{"name":"%s-%04d","common_name":"%s-%d.example.com","issuer_id":%q}`, prefix, i, prefix, i, issuer), 201)
		}()
	}
	wg.Wait()
}

// counts reads what the database holds.
type counts struct {
	certs, versions, liveJobs, succeededIssuance, active int
	certsWithWrongVersions                               int // versions ≠ succeeded issuance jobs
	duplicateSerials                                     int
}

func readCounts(t *testing.T, pool *pgxpool.Pool) counts {
	t.Helper()
	var c counts
	err := pool.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM managed_certificates),
		(SELECT count(*) FROM certificate_versions),
		(SELECT count(*) FROM jobs WHERE state IN ('queued','running','waiting','retrying') AND kind IN ('issue','renew','revoke')),
		(SELECT count(*) FROM jobs WHERE state = 'succeeded' AND kind IN ('issue','renew')),
		(SELECT count(*) FROM managed_certificates WHERE status = 'active'),
		(SELECT count(*) FROM managed_certificates c WHERE
			(SELECT count(*) FROM certificate_versions v WHERE v.certificate_id = c.id) <>
			(SELECT count(*) FROM jobs j WHERE j.certificate_id = c.id AND j.state = 'succeeded' AND j.kind IN ('issue','renew'))),
		(SELECT count(*) FROM (SELECT serial_number FROM certificate_versions GROUP BY serial_number HAVING count(*) > 1) d)`).
		Scan(&c.certs, &c.versions, &c.liveJobs, &c.succeededIssuance, &c.active, &c.certsWithWrongVersions, &c.duplicateSerials)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitFor polls until cond holds or the time is up.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestCrashDuringIssuanceAndRenewalLosesAndDuplicatesNothing(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a := startProcess(t, url)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	// A first batch, issued; then renewals of it and a second batch, and
	// the server is killed while both are under way.
	const batch = 200
	createCertificates(t, a.addr, "first", batch)
	waitFor(t, "the first batch to be issued", 90*time.Second, func() bool { return readCounts(t, pool).active == batch })
	call(t, a.addr, "POST", "/api/v1/certificates/renew", presetKey, `{"name_prefix":"first-"}`, 200)
	createCertificates(t, a.addr, "second", batch)
	waitFor(t, "work to be half done", 60*time.Second, func() bool {
		c := readCounts(t, pool)
		return c.succeededIssuance >= batch+batch/2
	})
	before := readCounts(t, pool)
	a.kill()
	t.Logf("killed the server with %d live jobs, %d versions", before.liveJobs, before.versions)

	startProcess(t, url)
	waitFor(t, "every job to finish on the second server", 120*time.Second, func() bool {
		c := readCounts(t, pool)
		return c.liveJobs == 0 && c.active == 2*batch
	})
	after := readCounts(t, pool)
	if after.certs != 2*batch || after.versions != 3*batch || after.certsWithWrongVersions != 0 || after.duplicateSerials != 0 {
		t.Fatalf("after the crash: %+v; want %d certificates with %d versions (one per succeeded job), none stuck", after, 2*batch, 3*batch)
	}
	var stuck int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM jobs WHERE state = 'running'`).Scan(&stuck); err != nil || stuck != 0 {
		t.Fatalf("%d jobs still running, %v", stuck, err)
	}
}

func TestThreeServersRenewEachCertificateExactlyOnce(t *testing.T) {
	url := pgtest.NewDatabase(t)
	servers := []*process{startProcess(t, url), startProcess(t, url), startProcess(t, url)}
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	const batch = 300
	createCertificates(t, servers[1].addr, "r", batch)
	waitFor(t, "the batch to be issued", 90*time.Second, func() bool { return readCounts(t, pool).active == batch })

	// Make every certificate due: the leader's scheduler enqueues renewals,
	// the workers of all three servers run them.
	if _, err := pool.Exec(context.Background(), `UPDATE managed_certificates SET next_renewal_at = now() - interval '1 minute'`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every certificate to be renewed", 120*time.Second, func() bool {
		c := readCounts(t, pool)
		return c.versions == 2*batch && c.liveJobs == 0 && c.active == batch
	})
	time.Sleep(2 * time.Second) // a few more scheduler passes: nothing more may happen
	c := readCounts(t, pool)
	if c.versions != 2*batch || c.certsWithWrongVersions != 0 || c.duplicateSerials != 0 {
		t.Fatalf("after renewal by three servers: %+v", c)
	}
	var renewJobs int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM jobs WHERE kind = 'renew'`).Scan(&renewJobs); err != nil {
		t.Fatal(err)
	}
	if renewJobs != batch {
		t.Fatalf("%d renew jobs for %d certificates", renewJobs, batch)
	}
}
