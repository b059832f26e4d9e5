package app_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certctl/certctl/server/acmetest"
	"github.com/certctl/certctl/server/pgtest"
)

// buildPendingIssuer builds the service tests' pending issuer (an
// ACME-like CA with HTTP-01 challenges, orders kept in files) as the
// issuer plugin "pending".
func buildPendingIssuer(t *testing.T, dir string) {
	t.Helper()
	out := filepath.Join(dir, "certctl-plugin-issuer-pending")
	if b, err := exec.Command("go", "build", "-o", out, "../service/testdata/pendingissuer").CombinedOutput(); err != nil {
		t.Fatalf("build the pending issuer: %v\n%s", err, b)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A server SIGKILLed while its CA's order is pending: the next server
// resumes the same order (GetOrderStatus, then the order's id), so the CA
// sees one order and the certificate gets one version. The HTTP-01
// challenges are served by the server's own listener (--http01-listen),
// which serves nothing else, and are gone once the job has ended.
func TestServerKilledDuringAnOrderResumesTheSameOrder(t *testing.T) {
	plugins := t.TempDir()
	buildPendingIssuer(t, plugins)
	url := pgtest.NewDatabase(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	port := fmt.Sprint(acmetest.FreePort(t))
	extra := []string{"CERTCTL_PLUGIN_DIR=" + plugins, "CERTCTL_HTTP01_LISTEN=127.0.0.1:" + port}
	p1 := startProcess(t, url, extra...)

	state := t.TempDir()
	iss := call(t, p1.addr, "POST", "/api/v1/issuers", presetKey, fmt.Sprintf(
		`{"name":"acme-like","type":"pending","config":{"state_dir":%q,"validate_addr":"127.0.0.1:%s","solver":"server",
		"processing_polls":3,"retry_after":"1s"}}`, state, port), 201)
	cert := call(t, p1.addr, "POST", "/api/v1/certificates", presetKey, fmt.Sprintf(
		`{"name":"resumed","common_name":"resumed.example.com","issuer_id":%q}`, iss["id"]), 201)
	certID := cert["id"].(string)

	// The order is open and its challenge is served by the listener of
	// its own, which answers nothing else.
	var order, token string
	waitFor(t, "the order to open and its challenge to be presented", time.Minute, func() bool {
		err := pool.QueryRow(context.Background(), `SELECT j.payload->>'order_id', c.token FROM jobs j
			JOIN http01_challenges c ON c.job_id = j.id WHERE j.certificate_id = $1`, certID).Scan(&order, &token)
		return err == nil && order != ""
	})
	p1.kill()
	t.Logf("server killed with order %s pending", order)

	p2 := startProcess(t, url, extra...)
	if code, body := get(t, "http://127.0.0.1:"+port+"/.well-known/acme-challenge/"+token); code == 200 {
		// Still pending: served by the new server, from the database.
		if body != token+".test-account-thumbprint" {
			t.Fatalf("the HTTP-01 listener answered %q", body)
		}
	}
	if code, _ := get(t, "http://127.0.0.1:"+port+"/healthz"); code != 404 {
		t.Fatalf("the HTTP-01 listener serves /healthz: %d, want 404", code)
	}
	waitFor(t, "the certificate to be issued after the restart", time.Minute, func() bool {
		return call(t, p2.addr, "GET", "/api/v1/certificates/"+certID, presetKey, "", 200)["status"] == "active"
	})

	f, err := os.Open(filepath.Join(state, "orders-created"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var orders []string
	for s := bufio.NewScanner(f); s.Scan(); {
		orders = append(orders, s.Text())
	}
	var jobOrder, jobState string
	var versions int
	if err := pool.QueryRow(context.Background(), `SELECT payload->>'order_id', state,
		(SELECT count(*) FROM certificate_versions WHERE certificate_id = $1) FROM jobs WHERE certificate_id = $1 AND kind = 'issue'`,
		certID).Scan(&jobOrder, &jobState, &versions); err != nil {
		t.Fatal(err)
	}
	if len(orders) != 1 || orders[0] != order || jobOrder != order || jobState != "succeeded" || versions != 1 {
		t.Fatalf("orders at the CA %v, job's order %s (%s), %d versions; want the one order %s, succeeded, one version",
			orders, jobOrder, jobState, versions, order)
	}
	if code, _ := get(t, "http://127.0.0.1:"+port+"/.well-known/acme-challenge/"+token); code != 404 {
		t.Fatalf("the token of a finished job is still served: %d", code)
	}
	var rows int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM http01_challenges`).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("%d challenge rows left (%v)", rows, err)
	}

}
