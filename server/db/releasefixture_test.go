package db_test

// The release fixture: a database as a released server left it, with data
// in every table, dumped to SQL, that TestUpgradeFromPreviousRelease loads
// and upgrades with the current server.
//
// Refresh it when tagging a release, on the release's commit:
//
//	go test ./server/db -run TestReleaseFixture -update-release-fixture
//
// which writes testdata/release.sql and testdata/release.json (what the
// upgrade test needs to know: the throwaway keys and which rows play which
// part). Commit both with the release. Without the flag the test builds the
// fixture into a temporary directory and checks it, so that the generator
// keeps working as the product changes.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/pgembed"
	"github.com/certctl/certctl/server/pgtest"
)

var updateReleaseFixture = flag.Bool("update-release-fixture", false,
	"write testdata/release.sql and release.json from this commit (do it when tagging a release)")

// releaseFixture is release.json: what the upgrade test needs to know of the
// dump beside it. Every secret here is a throwaway that opens nothing but the
// fixture.
type releaseFixture struct {
	// SchemaVersion is the last migration the release applied.
	SchemaVersion int64 `json:"schema_version"`
	// EncryptionKey (base64) sealed the secrets in the dump.
	EncryptionKey string `json:"encryption_key"`
	// AdminKey is an admin API key of the fixture's database.
	AdminKey string `json:"admin_key"`
	// QueuedCertificate's issuance job was queued and never ran;
	// RunningCertificate's was claimed by a replica that then died (its
	// lease has long expired).
	QueuedCertificate  string `json:"queued_certificate"`
	RunningCertificate string `json:"running_certificate"`
	// ServerKeyCertificate has a current version whose private key the
	// server keeps, sealed.
	ServerKeyCertificate string `json:"server_key_certificate"`
}

// fixturePluginDir stands in for the plugin directory in the dump's
// catalogue, so that no path of the machine that made it is committed.
const fixturePluginDir = "/usr/lib/certctl/plugins"

func TestReleaseFixture(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if *updateReleaseFixture {
		dir = "testdata"
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fx := writeReleaseFixture(t, dir)

	// The dump loads into an empty database and holds rows in every table.
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	loadFixture(t, url, filepath.Join(dir, "release.sql"))
	conn := connect(t, url)
	counts := tableCounts(t, conn)
	// Every table the committed fixture has must get rows; a table added
	// since the release may stay empty until the next release's refresh
	// (which then fails here until the generator fills it).
	released := releasedTables(t)
	for table, n := range counts {
		switch {
		case n > 0:
		case released[table] || *updateReleaseFixture:
			t.Errorf("table %s has no rows in the fixture: extend writeReleaseFixture so that the upgrade test covers it", table)
		default:
			t.Logf("table %s, new since the release fixture, has no rows: fill it in writeReleaseFixture before the next release", table)
		}
	}
	var version int64
	if err := conn.QueryRow(ctx, `SELECT max(version_id) FROM schema_migrations`).Scan(&version); err != nil || version != fx.SchemaVersion {
		t.Errorf("fixture schema version %d (%v), release.json says %d", version, err, fx.SchemaVersion)
	}
	if *updateReleaseFixture {
		t.Logf("wrote %s/release.sql and release.json at schema version %d: %v", dir, fx.SchemaVersion, counts)
	}
}

// releasedTables names the tables of the committed fixture.
func releasedTables(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "release.sql"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for line := range strings.Lines(string(b)) {
		if name, ok := strings.CutPrefix(line, "CREATE TABLE public."); ok {
			out[strings.TrimSuffix(strings.TrimSpace(name), " (")] = true
		}
	}
	if len(out) == 0 {
		t.Fatal("testdata/release.sql creates no table")
	}
	return out
}

// writeReleaseFixture runs the API of this commit on a fresh database, uses
// it as people and agents do, and dumps the database to dir/release.sql.
func writeReleaseFixture(t *testing.T, dir string) releaseFixture {
	t.Helper()
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir})
	ctx := core.WithActor(context.Background(), core.SystemActor)
	admin := env.AdminKey
	// What a server's first start does besides the admin key.
	if err := env.Service.CheckEncryptionKey(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Service.EnsureDefaultIssuer(ctx); err != nil {
		t.Fatal(err)
	}

	// Issuers: the default local CA (P-384) is there; one with a P-256 CA,
	// and one that refuses names outside its domain.
	var p256, narrow api.Issuer
	env.MustDo(t, "POST", "/api/v1/issuers", admin, api.IssuerRequest{Name: "p256-ca", Type: "local",
		Config: map[string]any{"ca_key_type": "ecdsa-p256", "validity": "30d"}}, 201).Decode(t, &p256)
	env.MustDo(t, "POST", "/api/v1/issuers", admin, api.IssuerRequest{Name: "narrow-ca", Type: "local",
		Config: map[string]any{"ca_key_type": "ecdsa-p256", "allowed_domains": []string{"example.com"}}}, 201).Decode(t, &narrow)
	var issuers api.List[api.Issuer]
	env.MustDo(t, "GET", "/api/v1/issuers", admin, nil, 200).Decode(t, &issuers)
	var local api.Issuer
	for _, iss := range issuers.Items {
		if iss.Name == "local" {
			local = iss
		}
	}
	if local.ID == "" {
		t.Fatalf("no default local issuer among %+v", issuers.Items)
	}

	// A webhook notifier (its URL and secret sealed) with a rule, and a
	// renewal policy.
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	var notifier api.Notifier
	env.MustDo(t, "POST", "/api/v1/notifiers", admin, api.NotifierRequest{Name: "ops-hook", Type: "webhook",
		Config: map[string]any{"url": hook.URL, "secret": "throwaway-webhook-secret"}}, 201).Decode(t, &notifier)
	env.MustDo(t, "POST", "/api/v1/notification-rules", admin, api.NotificationRuleRequest{Name: "all-to-ops",
		NotifierID: notifier.ID, Events: []string{"certificate.issued", "certificate.renewed", "deployment.failed"}}, 201)
	var policy api.RenewalPolicy
	env.MustDo(t, "POST", "/api/v1/renewal-policies", admin, api.RenewalPolicyRequest{Name: "two-weeks", Mode: "days_before",
		DaysBeforeExpiry: 14}, 201).Decode(t, &policy)

	// API keys: one of each role, one revoked.
	fx := releaseFixture{EncryptionKey: base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5e}, 32)), AdminKey: admin}
	env.NewKey(t, "viewer")
	env.NewKey(t, "operator")
	var revokedKey api.APIKey
	env.MustDo(t, "POST", "/api/v1/api-keys", admin, api.APIKeyRequest{Name: "leaked", Role: "viewer"}, 201).Decode(t, &revokedKey)
	env.MustDo(t, "DELETE", "/api/v1/api-keys/"+revokedKey.ID, admin, nil, 200)
	// A console session.
	if _, _, err := env.Service.SignIn(context.Background(), admin); err != nil {
		t.Fatalf("console sign-in: %v", err)
	}

	// Enrollment tokens: one used by an agent, one waiting, one revoked.
	var tok, spare, revokedTok api.EnrollmentToken
	env.MustDo(t, "POST", "/api/v1/enrollment-tokens", admin, api.EnrollmentTokenRequest{AgentName: "web-01",
		Labels: map[string]string{"zone": "eu"}}, 201).Decode(t, &tok)
	env.MustDo(t, "POST", "/api/v1/enrollment-tokens", admin, api.EnrollmentTokenRequest{TTL: "720h"}, 201).Decode(t, &spare)
	env.MustDo(t, "POST", "/api/v1/enrollment-tokens", admin, api.EnrollmentTokenRequest{}, 201).Decode(t, &revokedTok)
	env.MustDo(t, "DELETE", "/api/v1/enrollment-tokens/"+revokedTok.ID, admin, nil, 200)
	var enrolled api.AgentEnrollResponse
	env.MustDo(t, "POST", "/api/v1/agent/enroll", "", api.AgentEnrollRequest{Token: tok.Token, Facts: api.AgentFacts{OS: "linux",
		Arch: "amd64", Hostname: "web-01.example.com", IPAddress: "192.0.2.10", AgentVersion: "0.9.0"}}, 201).Decode(t, &enrolled)
	agentCred := enrolled.Credential
	env.MustDo(t, "POST", "/api/v1/agent/heartbeat", agentCred, api.AgentFacts{OS: "linux", Arch: "amd64",
		Hostname: "web-01.example.com", IPAddress: "192.0.2.10", AgentVersion: "0.9.0", UptimeSeconds: 600,
		Plugins: []api.AgentPlugin{{Name: "nginx", Kind: "target", Version: "1.0.0"}}}, 200)

	// Targets: two on the agent, one without an agent yet.
	var web, api2 api.Target
	env.MustDo(t, "POST", "/api/v1/targets", admin, api.TargetRequest{Name: "web-nginx", Type: "nginx", AgentID: &enrolled.Agent.ID,
		Config: map[string]any{"certificate_path": "/etc/ssl/web.pem", "key_path": "/etc/ssl/web.key"}}, 201).Decode(t, &web)
	env.MustDo(t, "POST", "/api/v1/targets", admin, api.TargetRequest{Name: "api-nginx", Type: "nginx", AgentID: &enrolled.Agent.ID,
		Config: map[string]any{"certificate_path": "/etc/ssl/api.pem", "key_path": "/etc/ssl/api.key"}}, 201).Decode(t, &api2)
	env.MustDo(t, "POST", "/api/v1/targets", admin, api.TargetRequest{Name: "spare-nginx", Type: "nginx",
		Config: map[string]any{"certificate_path": "/etc/ssl/spare.pem"}}, 201)

	declare := func(req api.CertificateRequest) api.Certificate {
		t.Helper()
		var c api.Certificate
		env.MustDo(t, "POST", "/api/v1/certificates", admin, req, 201).Decode(t, &c)
		return c
	}
	// Active, server key, issued once.
	server := declare(api.CertificateRequest{Name: "billing", CommonName: "billing.example.com", IssuerID: local.ID,
		Labels: map[string]string{"team": "payments"}})
	fx.ServerKeyCertificate = server.ID
	// Issued, then renewed: two versions.
	renewed := declare(api.CertificateRequest{Name: "intranet", CommonName: "intranet.example.com", IssuerID: p256.ID,
		SANs: []string{"intranet.example.com", "wiki.example.com"}, RenewalPolicyID: &policy.ID, KeyType: "rsa-2048"})
	// Issued, then revoked (and so a CRL).
	revoked := declare(api.CertificateRequest{Name: "old-vpn", CommonName: "vpn.example.com", IssuerID: local.ID})
	// Refused by its CA: a failed job.
	declare(api.CertificateRequest{Name: "outsider", CommonName: "outsider.example.org", IssuerID: narrow.ID})
	// Deployed by the agent (its key made on the agent), and one whose
	// deployment failed.
	deployed := declare(api.CertificateRequest{Name: "web", CommonName: "www.example.com", IssuerID: local.ID, TargetIDs: []string{web.ID}})
	failing := declare(api.CertificateRequest{Name: "api", CommonName: "api.example.com", IssuerID: local.ID, TargetIDs: []string{api2.ID}})
	agentCSRs(t, env, agentCred)
	env.RunJobs(t)
	env.MustDo(t, "POST", "/api/v1/certificates/"+renewed.ID+"/renew", admin, nil, 202)
	env.MustDo(t, "POST", "/api/v1/certificates/"+revoked.ID+"/revoke", admin, api.RevokeRequest{Reason: "superseded"}, 202)
	env.RunJobs(t)
	env.MustDo(t, "GET", "/crl/local.crl", "", nil, 200)
	agentDeploys(t, env, agentCred, map[string]bool{deployed.ID: true, failing.ID: false})
	env.RunJobs(t)

	// A job a replica claimed and then died with, and one never run.
	running := declare(api.CertificateRequest{Name: "mail", CommonName: "mail.example.com", IssuerID: local.ID})
	claimed, err := env.Store.Q().ClaimJobs(ctx, "replica-that-died", []string{"issue"}, time.Now(), time.Minute, 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim the running job: %d jobs, %v", len(claimed), err)
	}
	fx.RunningCertificate = running.ID
	fx.QueuedCertificate = declare(api.CertificateRequest{Name: "shop", CommonName: "shop.example.com", IssuerID: p256.ID}).ID
	// An HTTP-01 challenge needs an ACME CA; the row is written as the ACME
	// path writes it (store.PutChallenges would need a live order).
	if _, err := env.Pool.Exec(ctx, `INSERT INTO http01_challenges (job_id, token, identifier, key_authorization, agent_id, state, created_at, updated_at)
		VALUES ($1, 'fixture-token', 'shop.example.com', 'fixture-token.thumbprint', $2, 'pending', now(), now())`,
		claimed[0].ID, enrolled.Agent.ID); err != nil {
		t.Fatalf("challenge row: %v", err)
	}

	if err := env.Pool.QueryRow(ctx, `SELECT max(version_id) FROM schema_migrations`).Scan(&fx.SchemaVersion); err != nil {
		t.Fatal(err)
	}
	// The catalogue names plugin files by path: replace the temporary
	// directory of this run.
	if _, err := env.Pool.Exec(ctx, `UPDATE plugins SET path = $1 || '/' || split_part(path, '/', -1)`, fixturePluginDir); err != nil {
		t.Fatalf("scrub plugin paths: %v", err)
	}
	dumpDatabase(t, env, filepath.Join(dir, "release.sql"))
	b, err := json.MarshalIndent(fx, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "release.json"), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	return fx
}

// agentCSRs answers the agent's CSR work with fresh keys.
func agentCSRs(t *testing.T, env *apitest.Env, cred string) {
	t.Helper()
	var work api.AgentWork
	env.MustDo(t, "GET", "/api/v1/agent/work", cred, nil, 200).Decode(t, &work)
	for _, it := range work.Items {
		if it.Kind != api.AgentWorkCSR {
			continue
		}
		names := append([]string{it.Certificate.CommonName}, it.Certificate.SANs...)
		env.MustDo(t, "POST", "/api/v1/agent/jobs/"+it.JobID+"/csr", cred, api.CSRRequest{CSRPEM: csrPEM(t, names)}, 200)
	}
}

// agentDeploys reports the agent's deployments: succeeded or failed by
// certificate.
func agentDeploys(t *testing.T, env *apitest.Env, cred string, succeed map[string]bool) {
	t.Helper()
	var work api.AgentWork
	env.MustDo(t, "GET", "/api/v1/agent/work", cred, nil, 200).Decode(t, &work)
	seen := 0
	for _, it := range work.Items {
		ok, want := succeed[it.Certificate.ID]
		if it.Kind != api.AgentWorkDeploy || !want {
			continue
		}
		seen++
		res := api.AgentDeployResult{Succeeded: ok, Message: "nginx reloaded", Verified: ok}
		if ok {
			res.ServedSerial = it.Version.SerialNumber
		} else {
			res.Message = "nginx -t: certificate file not readable"
		}
		env.MustDo(t, "POST", "/api/v1/agent/jobs/"+it.JobID+"/result", cred, res, 204)
	}
	if seen != len(succeed) {
		t.Fatalf("the agent was given %d of %d deployments: %+v", seen, len(succeed), work.Items)
	}
}

func csrPEM(t *testing.T, names []string) string {
	t.Helper()
	names = slices.Compact(names)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: names[0]},
		DNSNames: names}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// dumpDatabase writes env's database as plain SQL that pgx can run: row
// INSERTs instead of COPY (which needs psql), no owners or grants (the
// loading role owns everything), and no psql meta-commands.
func dumpDatabase(t *testing.T, env *apitest.Env, path string) {
	t.Helper()
	pgDump, err := pgDumpPath()
	if err != nil {
		t.Fatal(err)
	}
	cfg := env.Pool.Config().ConnConfig
	cmd := exec.Command(pgDump, "--inserts", "--no-owner", "--no-privileges", "--no-tablespaces",
		"--host", cfg.Host, "--port", fmt.Sprint(cfg.Port), "--username", cfg.User, "--dbname", cfg.Database)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+cfg.Password)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, stderr.String())
	}
	var b strings.Builder
	b.WriteString("-- certctl release fixture: written by TestReleaseFixture (server/db/releasefixture_test.go); do not edit.\n")
	for line := range strings.Lines(string(out)) {
		// pg_dump 15.14 and later fence the dump with \restrict; the
		// version line names the tool's build.
		if strings.HasPrefix(line, `\`) || strings.HasPrefix(line, "-- Dumped by pg_dump version") {
			continue
		}
		b.WriteString(line)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// pgDumpPath finds pg_dump beside the server binaries the test cluster
// uses, else on PATH.
func pgDumpPath() (string, error) {
	if dir, err := pgembed.FindBinaries(""); err == nil {
		if p := filepath.Join(dir, "pg_dump"); fileExists(p) {
			return p, nil
		}
	}
	p, err := exec.LookPath("pg_dump")
	if err != nil {
		return "", errors.New("pg_dump not found beside the PostgreSQL server binaries nor on PATH")
	}
	return p, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// loadFixture runs the dump at path in the database at url, over the
// simple protocol (the file is many statements).
func loadFixture(t *testing.T, url, path string) {
	t.Helper()
	sql, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	conn := connect(t, url)
	if _, err := conn.PgConn().Exec(context.Background(), string(sql)).ReadAll(); err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
}

// connect opens a connection of its own, closed when the test ends.
func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// tableCounts counts the rows of every table of the public schema.
func tableCounts(t *testing.T, conn *pgx.Conn) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	rows, err := conn.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, tb := range tables {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM public."+pgx.Identifier{tb}.Sanitize()).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", tb, err)
		}
		out[tb] = n
	}
	return out
}
