package app_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certctl/certctl/server/acmetest"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/pgtest"
)

// The real ACME plugin, built once for these tests.
// Its directory is removed by TestMain (removeACMEPlugin).
var acmePlugin struct {
	once sync.Once
	dir  string
	err  error
}

func acmePluginDir(t *testing.T) string {
	t.Helper()
	acmePlugin.once.Do(func() {
		acmePlugin.dir, acmePlugin.err = os.MkdirTemp("", "certctl-acme-plugin-")
		if acmePlugin.err == nil {
			acmePlugin.err = apitest.BuildPlugins(acmePlugin.dir, "issuer/acme", "issuer/local")
		}
	})
	if acmePlugin.err != nil {
		t.Fatal(acmePlugin.err)
	}
	return acmePlugin.dir
}

// pebbleServerEnv is the environment of a server whose default ACME
// issuer is Pebble, and whose HTTP-01 listener is where Pebble validates.
func pebbleServerEnv(t *testing.T, pebble *acmetest.Pebble) []string {
	t.Helper()
	bundle := filepath.Join(t.TempDir(), "pebble-ca.pem")
	if err := os.WriteFile(bundle, []byte(pebble.CABundlePEM), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"CERTCTL_PLUGIN_DIR=" + acmePluginDir(t), "CERTCTL_HTTP01_LISTEN=127.0.0.1:" + strconv.Itoa(pebble.HTTPPort),
		"CERTCTL_ACME_EMAIL=admin@example.com", "CERTCTL_ACME_DIRECTORY_URL=" + pebble.DirectoryURL,
		"CERTCTL_ACME_CA_BUNDLE=" + bundle}
}

// acmeIssuer returns the id and config of the default ACME issuer.
func acmeIssuer(t *testing.T, addr string) (string, map[string]any) {
	t.Helper()
	for _, i := range call(t, addr, "GET", "/api/v1/issuers", presetKey, "", 200)["items"].([]any) {
		if m := i.(map[string]any); m["name"] == "acme" {
			return m["id"].(string), m["config"].(map[string]any)
		}
	}
	t.Fatal("no default ACME issuer")
	return "", nil
}

// verifyAgainstPebble checks a certificate version's chain against
// Pebble's root.
func verifyAgainstPebble(t *testing.T, pebble *acmetest.Pebble, version map[string]any, name string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(version["certificate_pem"].(string)))
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	inter := x509.NewCertPool()
	inter.AppendCertsFromPEM([]byte(version["chain_pem"].(string)))
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pebble.Roots(t, 0), Intermediates: inter, DNSName: name}); err != nil {
		t.Fatalf("the certificate does not verify against Pebble's root: %v", err)
	}
	return leaf
}

func currentVersion(t *testing.T, addr, certID string) map[string]any {
	t.Helper()
	c := call(t, addr, "GET", "/api/v1/certificates/"+certID, presetKey, "", 200)
	return call(t, addr, "GET", "/api/v1/certificates/"+certID+"/versions/"+c["current_version_id"].(string), presetKey, "", 200)
}

// With CERTCTL_ACME_EMAIL the first start creates the default ACME issuer
// (terms agreed), and a server-key certificate is issued by Pebble through
// real HTTP-01 validation of the server's own responder (Pebble fetches
// the token from --http01-listen); the chain verifies against Pebble's
// root. A server SIGKILLed during the order is resumed by the next one:
// the same order, one certificate.
func TestACMEWithPebbleThroughTheServersResponder(t *testing.T) {
	pebble := acmetest.StartPebble(t, acmetest.PebbleOptions{AuthzReusePercent: -1, RetryAfterOrder: 1, RetryAfterAuthz: 1})
	url := pgtest.NewDatabase(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	extra := pebbleServerEnv(t, pebble)
	p1 := startProcess(t, url, extra...)

	issuerID, cfg := acmeIssuer(t, p1.addr)
	if cfg["agree_tos"] != true || cfg["email"] != "admin@example.com" || cfg["directory_url"] != pebble.DirectoryURL {
		t.Fatalf("default ACME issuer config: %v", cfg)
	}

	// One certificate issued start to end, with the CA's 6-day profile.
	name := fmt.Sprintf("srv-%d.example.com", time.Now().UnixNano()%1e9)
	cert := call(t, p1.addr, "POST", "/api/v1/certificates", presetKey, fmt.Sprintf(
		`{"name":"srv","common_name":%q,"issuer_id":%q,"profile":"shortlived"}`, name, issuerID), 201)
	if cert["key_mode"] != "server" || cert["profile"] != "shortlived" {
		t.Fatalf("key mode %v, profile %v; want server, shortlived", cert["key_mode"], cert["profile"])
	}
	certID := cert["id"].(string)
	waitFor(t, "Pebble to issue through the server's responder", 2*time.Minute, func() bool {
		c := call(t, p1.addr, "GET", "/api/v1/certificates/"+certID, presetKey, "", 200)
		if c["status"] == "failed" {
			t.Fatalf("issuance failed: %v", c["last_error"])
		}
		return c["status"] == "active"
	})
	leaf := verifyAgainstPebble(t, pebble, currentVersion(t, p1.addr, certID), name)
	if life := leaf.NotAfter.Sub(leaf.NotBefore); life > 7*24*time.Hour {
		t.Errorf("the certificate lives %s: the shortlived profile (6 days) was not asked for", life)
	}
	if st, ok := pebble.CertStatus(t, leaf.SerialNumber.Text(16)); !ok || st.Status != "Valid" {
		t.Errorf("Pebble's status of the certificate: %+v %v", st, ok)
	}
	var rows int
	waitFor(t, "the challenges to go", 30*time.Second, func() bool {
		return pool.QueryRow(context.Background(), `SELECT count(*) FROM http01_challenges`).Scan(&rows) == nil && rows == 0
	})

	// A second certificate; the server dies as soon as its order is open.
	name2 := fmt.Sprintf("resume-%d.example.com", time.Now().UnixNano()%1e9)
	cert2 := call(t, p1.addr, "POST", "/api/v1/certificates", presetKey, fmt.Sprintf(
		`{"name":"resume","common_name":%q,"issuer_id":%q}`, name2, issuerID), 201)
	cert2ID := cert2["id"].(string)
	var order string
	waitFor(t, "the order to open", time.Minute, func() bool {
		err := pool.QueryRow(context.Background(), `SELECT COALESCE(payload->>'order_id', '') FROM jobs
			WHERE certificate_id = $1 AND kind = 'issue'`, cert2ID).Scan(&order)
		return err == nil && order != ""
	})
	p1.kill()
	t.Logf("server killed with order %s open", order)

	p2 := startProcess(t, url, extra...)
	if id, _ := acmeIssuer(t, p2.addr); id != issuerID {
		t.Fatalf("the restart made another default ACME issuer (%s, was %s)", id, issuerID)
	}
	waitFor(t, "the resumed order to be issued", 2*time.Minute, func() bool {
		c := call(t, p2.addr, "GET", "/api/v1/certificates/"+cert2ID, presetKey, "", 200)
		if c["status"] == "failed" {
			t.Fatalf("the resumed issuance failed: %v", c["last_error"])
		}
		return c["status"] == "active"
	})
	verifyAgainstPebble(t, pebble, currentVersion(t, p2.addr, cert2ID), name2)
	var after, state string
	var versions, opened int
	if err := pool.QueryRow(context.Background(), `SELECT payload->>'order_id', state,
		(SELECT count(*) FROM certificate_versions WHERE certificate_id = $1),
		(SELECT count(*) FROM audit_events WHERE action = 'job.pending' AND resource_id = jobs.id::text
			AND details->>'order_id' <> $2)
		FROM jobs WHERE certificate_id = $1 AND kind = 'issue'`, cert2ID, order).Scan(&after, &state, &versions, &opened); err != nil {
		t.Fatal(err)
	}
	if after != order || state != "succeeded" || versions != 1 || opened != 0 {
		t.Fatalf("after the restart: order %s (was %s), job %s, %d versions, %d other orders opened; want the same order, one version",
			after, order, state, versions, opened)
	}
	waitFor(t, "the challenges to go", 30*time.Second, func() bool {
		return pool.QueryRow(context.Background(), `SELECT count(*) FROM http01_challenges`).Scan(&rows) == nil && rows == 0
	})
}

func removeACMEPlugin() {
	if acmePlugin.dir != "" {
		os.RemoveAll(acmePlugin.dir)
	}
}

// The default ACME issuer is created once in the database's life: a CA
// that cannot be reached at the first start does not stop the server and
// leaves the creation to the next start; once created and then deleted,
// it is not created again.
func TestDefaultACMEIssuerIsCreatedOnce(t *testing.T) {
	url := pgtest.NewDatabase(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	vars := func(extra map[string]string) map[string]string {
		v := map[string]string{"CERTCTL_DATABASE_URL": url, "CERTCTL_DATA_DIR": t.TempDir(), "CERTCTL_PLUGIN_DIR": acmePluginDir(t),
			"CERTCTL_BOOTSTRAP_ADMIN_KEY": presetKey, "CERTCTL_ENCRYPTION_KEY": sharedEncryptionKey,
			"CERTCTL_ACME_EMAIL": "admin@example.com"}
		for k, x := range extra {
			v[k] = x
		}
		return v
	}
	hasACME := func(addr string) bool {
		for _, i := range call(t, addr, "GET", "/api/v1/issuers", presetKey, "", 200)["items"].([]any) {
			if i.(map[string]any)["name"] == "acme" {
				return true
			}
		}
		return false
	}

	// The CA is down: the server starts all the same, without the issuer.
	down := fmt.Sprintf("https://127.0.0.1:%d/dir", acmetest.FreePort(t))
	s1 := runServer(t, vars(map[string]string{"CERTCTL_ACME_DIRECTORY_URL": down}))
	if hasACME(s1.addr) {
		t.Fatal("a default ACME issuer was created although its CA is unreachable")
	}
	if _, err := s1.shutdown(t, time.Minute); err != nil {
		t.Fatal(err)
	}

	pebble := acmetest.StartPebble(t, acmetest.PebbleOptions{})
	bundle := filepath.Join(t.TempDir(), "pebble-ca.pem")
	if err := os.WriteFile(bundle, []byte(pebble.CABundlePEM), 0o600); err != nil {
		t.Fatal(err)
	}
	up := vars(map[string]string{"CERTCTL_ACME_DIRECTORY_URL": pebble.DirectoryURL, "CERTCTL_ACME_CA_BUNDLE": bundle})
	s2 := runServer(t, up)
	id, cfg := acmeIssuer(t, s2.addr)
	if cfg["agree_tos"] != true || cfg["directory_url"] != pebble.DirectoryURL {
		t.Fatalf("default ACME issuer: %v", cfg)
	}
	call(t, s2.addr, "DELETE", "/api/v1/issuers/"+id, presetKey, "", 204)
	if _, err := s2.shutdown(t, time.Minute); err != nil {
		t.Fatal(err)
	}
	s3 := runServer(t, up)
	if hasACME(s3.addr) {
		t.Fatal("the deleted default ACME issuer was created again")
	}
}
