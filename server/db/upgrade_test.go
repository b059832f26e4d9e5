package db_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/migrations"
	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/app"
	"github.com/certctl/certctl/server/pgtest"
)

// TestUpgradeFromPreviousRelease loads the previous release's database
// (testdata/release.sql, see releasefixture_test.go), starts the current
// server on it as an operator would, and checks that the migrations brought
// it to exactly the schema of a fresh database, that every row survived and
// the server works with them, and that a restart migrates nothing more.
func TestUpgradeFromPreviousRelease(t *testing.T) {
	t.Parallel()
	var fx releaseFixture
	readJSON(t, filepath.Join("testdata", "release.json"), &fx)

	url := pgtest.NewDatabase(t)
	loadFixture(t, url, filepath.Join("testdata", "release.sql"))
	conn := connect(t, url)
	before := tableCounts(t, conn)
	keysBefore := primaryKeys(t, conn)

	vars := map[string]string{"CERTCTL_DATABASE_URL": url, "CERTCTL_ENCRYPTION_KEY": fx.EncryptionKey,
		"CERTCTL_PLUGIN_DIR": pluginDir, "CERTCTL_DATA_DIR": t.TempDir(), "CERTCTL_LISTEN_ADDR": "127.0.0.1:0"}
	srv := startServer(t, vars)

	// (a) The schema is the one a fresh database gets from the migrations.
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	applied := migrationRows(t, conn)
	if len(applied) != len(files) {
		t.Errorf("after the upgrade schema_migrations has %d applied versions, the binary embeds %d migrations", len(applied), len(files))
	}
	fresh := connect(t, apitest.NewDatabase(t))
	want := schemaOf(t, fresh)
	compareSchemas(t, "upgraded from the release fixture", schemaOf(t, conn), want)

	// (b) Every row of the release is still there (tables the server
	// prunes by itself aside), and the server reads them.
	after := tableCounts(t, conn)
	for table, n := range before {
		if after[table] < n {
			t.Errorf("table %s: %d rows before the upgrade, %d after", table, n, after[table])
		}
	}
	keysAfter := primaryKeys(t, conn)
	for table, keys := range keysBefore {
		if pruned[table] {
			continue
		}
		for _, k := range keys {
			if !slices.Contains(keysAfter[table], k) {
				t.Errorf("table %s: row %s is gone after the upgrade", table, k)
			}
		}
	}
	var certs api.List[api.Certificate]
	srv.do(t, "GET", "/api/v1/certificates?limit=100", fx.AdminKey, nil, 200, &certs)
	if int64(len(certs.Items)) != before["managed_certificates"] {
		t.Errorf("the API lists %d certificates, the release had %d", len(certs.Items), before["managed_certificates"])
	}
	// A private key the release sealed opens with the release's key and
	// matches its certificate.
	checkServerKey(t, srv, fx)

	// The plugin binaries are this build's, not the release's: as after
	// any upgrade that replaces them, an admin registers them, and the jobs
	// the release left (one queued, one whose replica died running it) then
	// run to completion through the real local CA, which needs the issuer's
	// sealed configuration.
	// Until then the server is not ready, and says why.
	var health api.Health
	srv.do(t, "GET", "/readyz", "", nil, 503, &health)
	if !strings.HasPrefix(health.Checks["plugin/issuer/local"], "checksum_mismatch") || health.Checks["database"] != "ok" {
		t.Errorf("readyz before registering the new plugin binaries: %v", health.Checks)
	}
	for _, p := range []string{"issuer/local", "notifier/webhook"} {
		srv.do(t, "POST", "/api/v1/plugins/"+p+"/register", fx.AdminKey, nil, 200, nil)
	}
	srv.do(t, "GET", "/readyz", "", nil, 200, nil)
	for _, id := range []string{fx.QueuedCertificate, fx.RunningCertificate} {
		waitForStatus(t, srv, fx.AdminKey, id, "active")
	}
	srv.stop(t)

	// (c) A restart finds nothing to migrate and changes nothing.
	srv = startServer(t, vars)
	if again := migrationRows(t, conn); !slices.Equal(again, applied) {
		t.Errorf("schema_migrations after a restart:\n%v\nwant unchanged:\n%v", again, applied)
	}
	compareSchemas(t, "after a restart", schemaOf(t, conn), want)
	srv.stop(t)
}

// pruned are the tables whose rows the server deletes by itself when they
// expire or their job ends, so that a release's rows may be gone after an
// upgrade for reasons that have nothing to do with it.
var pruned = map[string]bool{"console_sessions": true, "http01_challenges": true}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// migrationRows lists the applied versions with when they were applied.
func migrationRows(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT format('%s %s', version_id, tstamp) FROM schema_migrations
		WHERE is_applied AND version_id > 0 ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// schemaOf describes the public schema, one line per object, in a form
// that does not depend on how the objects came to be (created by the
// migrations, or restored by pg_dump and then migrated): columns in their
// order with types, defaults and comments, relations' kinds, constraints,
// indexes, triggers, functions, views, sequences and types.
func schemaOf(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	queries := []string{
		`SELECT format('relation %s kind=%s persistence=%s rls=%s comment=%s', c.relname, c.relkind, c.relpersistence,
			c.relrowsecurity, obj_description(c.oid, 'pg_class'))
		FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')`,
		`SELECT format('column %s.%s #%s %s notnull=%s default=%s identity=%s generated=%s comment=%s', c.relname, a.attname,
			row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum), format_type(a.atttypid, a.atttypmod), a.attnotnull,
			pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, col_description(c.oid, a.attnum))
		FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
		LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped`,
		`SELECT format('constraint %s.%s %s deferrable=%s deferred=%s', conrelid::regclass, conname, pg_get_constraintdef(oid),
			condeferrable, condeferred)
		FROM pg_constraint WHERE connamespace = 'public'::regnamespace`,
		`SELECT format('index %s', indexdef) FROM pg_indexes WHERE schemaname = 'public'`,
		`SELECT format('trigger %s enabled=%s', pg_get_triggerdef(oid), tgenabled) FROM pg_trigger
		WHERE NOT tgisinternal AND tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace)`,
		`SELECT format('function %s', pg_get_functiondef(oid)) FROM pg_proc
		WHERE pronamespace = 'public'::regnamespace AND prokind IN ('f', 'p')`,
		`SELECT format('view %s %s', viewname, definition) FROM pg_views WHERE schemaname = 'public'`,
		`SELECT format('sequence %s %s start=%s inc=%s min=%s max=%s cycle=%s', sequencename, data_type, start_value,
			increment_by, min_value, max_value, cycle)
		FROM pg_sequences WHERE schemaname = 'public'`,
		`SELECT format('type %s kind=%s labels=%s', t.typname, t.typtype,
			(SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = t.oid))
		FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd')`,
		`SELECT format('policy %s.%s %s %s %s', tablename, policyname, cmd, qual, with_check) FROM pg_policies
		WHERE schemaname = 'public'`,
		`SELECT format('extension %s', extname) FROM pg_extension`,
	}
	var out []string
	for _, q := range queries {
		rows, err := conn.Query(context.Background(), q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, lines...)
	}
	slices.Sort(out)
	return out
}

func compareSchemas(t *testing.T, what string, got, want []string) {
	t.Helper()
	var missing, extra []string
	for _, w := range want {
		if _, found := slices.BinarySearch(got, w); !found {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if _, found := slices.BinarySearch(want, g); !found {
			extra = append(extra, g)
		}
	}
	if len(missing)+len(extra) > 0 {
		t.Errorf("schema %s differs from a fresh database migrated from empty:\nonly in the fresh one:\n  %s\nonly in the upgraded one:\n  %s",
			what, strings.Join(missing, "\n  "), strings.Join(extra, "\n  "))
	}
}

// primaryKeys lists every table's primary keys, as text.
func primaryKeys(t *testing.T, conn *pgx.Conn) map[string][]string {
	t.Helper()
	ctx := context.Background()
	rows, err := conn.Query(ctx, `SELECT c.relname, array_agg(quote_ident(a.attname) ORDER BY k.ord)
		FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
		CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
		WHERE i.indisprimary AND c.relnamespace = 'public'::regnamespace
		GROUP BY c.relname`)
	if err != nil {
		t.Fatal(err)
	}
	type pk struct {
		table string
		cols  []string
	}
	pks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pk, error) {
		var p pk
		err := r.Scan(&p.table, &p.cols)
		return p, err
	})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, p := range pks {
		rows, err := conn.Query(ctx, fmt.Sprintf("SELECT row(%s)::text FROM public.%s", strings.Join(p.cols, ", "), pgx.Identifier{p.table}.Sanitize()))
		if err != nil {
			t.Fatal(err)
		}
		keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		out[p.table] = keys
	}
	return out
}

// checkServerKey exports the private key of the server-key certificate's
// current version and checks that it is the key of its certificate.
func checkServerKey(t *testing.T, srv *testServer, fx releaseFixture) {
	t.Helper()
	var versions api.List[api.CertificateVersion]
	srv.do(t, "GET", "/api/v1/certificates/"+fx.ServerKeyCertificate+"/versions", fx.AdminKey, nil, 200, &versions)
	if len(versions.Items) == 0 {
		t.Fatal("the server-key certificate has no versions after the upgrade")
	}
	v := versions.Items[0]
	var keyPEM []byte
	srv.do(t, "GET", "/api/v1/certificates/"+fx.ServerKeyCertificate+"/versions/"+v.ID+"/private-key", fx.AdminKey, nil, 200, &keyPEM)
	kb, _ := pem.Decode(keyPEM)
	cb, _ := pem.Decode([]byte(v.CertificatePEM))
	if kb == nil || cb == nil {
		t.Fatalf("exported key (%d bytes) or certificate %q is not PEM", len(keyPEM), v.CertificatePEM)
	}
	priv, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatalf("exported key: %v", err)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := priv.(crypto.Signer)
	if !ok {
		t.Fatalf("exported key of type %T", priv)
	}
	if eq, ok := pub.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(cert.PublicKey) {
		t.Error("the exported private key is not the key of the version's certificate")
	}
}

// waitForStatus waits until the certificate has status; jobs retry with
// backoff, so the deadline is generous.
func waitForStatus(t *testing.T, srv *testServer, key, id, status string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	var c api.Certificate
	for {
		srv.do(t, "GET", "/api/v1/certificates/"+id, key, nil, 200, &c)
		if c.Status == status {
			return
		}
		if time.Now().After(deadline) {
			var jobs json.RawMessage
			srv.do(t, "GET", "/api/v1/jobs?certificate_id="+id, key, nil, 200, &jobs)
			t.Fatalf("certificate %s (%s) is %s after 3 minutes, want %s; jobs: %s\nserver output:\n%s", c.Name, id, c.Status, status, jobs, srv.out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// testServer is the real server (app.Run) serving on a loopback port.
type testServer struct {
	addr   string
	out    *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

func startServer(t *testing.T, vars map[string]string) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &testServer{out: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() { s.done <- app.Run(ctx, nil, func(k string) string { return vars[k] }, s.out, s.out, ready) }()
	select {
	case s.addr = <-ready:
	case err := <-s.done:
		cancel()
		t.Fatalf("server exited before serving: %v\n%s", err, s.out.String())
	case <-time.After(2 * time.Minute):
		cancel()
		t.Fatalf("server did not start within 2 minutes:\n%s", s.out.String())
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop stops the server (once) and checks that it stopped cleanly.
func (s *testServer) stop(t *testing.T) {
	t.Helper()
	if s.done == nil {
		return
	}
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("server exit: %v\n%s", err, s.out.String())
		}
	case <-time.After(time.Minute):
		t.Errorf("server did not stop within a minute")
	}
	s.done = nil
}

// do calls the server and decodes the answer into out (when not nil; a
// *[]byte gets the body as it is).
func (s *testServer) do(t *testing.T, method, path, key string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+s.addr+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = b
	} else if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
