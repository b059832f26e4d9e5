package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certctl/certctl/server/pgtest"
)

// A bug in an issuer plugin that panics fails the job at its first
// attempt, with the panic in its error: the same request would only panic
// again.
func TestPluginPanicFailsTheJobAtOnceWithThePanic(t *testing.T) {
	plugins := t.TempDir()
	buildHangIssuer(t, plugins)
	url := pgtest.NewDatabase(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s := runServer(t, map[string]string{"CERTCTL_DATABASE_URL": url, "CERTCTL_DATA_DIR": t.TempDir(),
		"CERTCTL_PLUGIN_DIR": plugins, "CERTCTL_BOOTSTRAP_ADMIN_KEY": presetKey,
		"CERTCTL_ENCRYPTION_KEY": sharedEncryptionKey})

	const cause = "assignment to entry in nil map"
	iss := call(t, s.addr, "POST", "/api/v1/issuers", presetKey,
		fmt.Sprintf(`{"name":"buggy-ca","type":"hang","config":{"panic":%q}}`, cause), 201)
	cert := call(t, s.addr, "POST", "/api/v1/certificates", presetKey,
		fmt.Sprintf(`{"name":"buggy","common_name":"buggy.example.com","issuer_id":%q}`, iss["id"]), 201)

	var state, lastError string
	var attempt int
	waitFor(t, "the issue job's first attempt to end", time.Minute, func() bool {
		if err := pool.QueryRow(context.Background(), `SELECT state, attempt, coalesce(last_error, '') FROM jobs
			WHERE certificate_id = $1 AND kind = 'issue'`, cert["id"]).Scan(&state, &attempt, &lastError); err != nil {
			t.Fatal(err)
		}
		return state == "failed" || state == "retrying"
	})
	if state != "failed" || attempt != 1 {
		t.Fatalf("job after the plugin panicked: %s at attempt %d (%s), want failed at attempt 1", state, attempt, lastError)
	}
	if want := "plugin panicked: " + cause; !strings.Contains(lastError, want) {
		t.Errorf("job's last error %q does not say %q", lastError, want)
	}
}
