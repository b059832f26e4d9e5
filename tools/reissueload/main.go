// Command reissueload measures a CA-distrust day as an operator meets it:
// n certificates on one issuer, moved to another and re-issued by one
// bulk re-issue operation (POST /api/v1/certificates/reissue) on a running
// server, timed until the operation is done, while it samples the API's
// latency (GET of a certificate, a page of the list). Beside it, in the
// same run, it measures the baseline issueload reports: how fast this
// machine signs certificates in process (x509.CreateCertificate from a
// parsed CSR, a CA key of the issuers' type, on every core).
//
// The n certificates are not declared through the API (100,000 would take
// longer than the measurement): they are bulk-loaded into the server's
// database, each active with a real current version (a P-256 leaf signed
// in process by a CA that stands for the distrusted one), as the server
// would have stored it. -data-dir names the server's CERTCTL_DATA_DIR, to
// reach its embedded PostgreSQL; -database-url a database of one's own.
// `make load-reissue` starts a server with default settings and runs it.
//
// Flags (stable; tools/bench calls this tool):
//
//	-server URL         the server (required)
//	-admin-key KEY      an admin API key (default $CERTCTL_API_KEY)
//	-server-pid PID     the server's pid, for CPU by process (0: skip)
//	-data-dir DIR       the server's data directory (embedded database)
//	-database-url URL   the server's database, instead of -data-dir
//	-n N                certificates (default 10000; 100000 for the full figure)
//	-ca-key-type T      CA key of both issuers and of the baseline (default ecdsa-p384, the local CA's default)
//	-max-per-second R   the operation's max_per_second (0: none)
//	-timeout D          give up when the operation is not done by then (default 30m)
//	-baseline D         how long to measure the in-process signing rate (default 3s)
//	-quiet D            how long to sample the API before the operation, its latency's baseline (default 5s)
//
// Output (stable lines, for tools/bench to read):
//
//	loaded N certificates with versions in D (not timed)
//	re-issued N certificates in D: R certificates/s end to end
//	API before the run: get p50 X ms p99 Y ms, list p50 X ms p99 Y ms, all p50 X ms p99 Y ms (K requests, F failed)
//	API during the run: (the same)
//	machine: ..., CPU per certificate: ..., the product (server + PostgreSQL + plugins): X ms of CPU per certificate
//	baseline: x509.CreateCertificate in process, T CA, P-256 leaves, C cores: R certificates/s
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
	"github.com/certctl/certctl/tools/internal/baseline"
	"github.com/certctl/certctl/tools/internal/procstat"
)

func main() {
	server := flag.String("server", "", "URL of a running certctl server (required; `make load-reissue` starts one)")
	key := flag.String("admin-key", os.Getenv("CERTCTL_API_KEY"), "admin API key (default $CERTCTL_API_KEY)")
	serverPID := flag.Int("server-pid", 0, "pid of the server, to report its CPU time and its children's (PostgreSQL, plugins) (0: skip)")
	dataDir := flag.String("data-dir", "", "the server's data directory (CERTCTL_DATA_DIR), to bulk-load into its embedded database")
	dbURL := flag.String("database-url", "", "the server's database URL, instead of -data-dir")
	n := flag.Int("n", 10000, "certificates to move and re-issue")
	caKeyType := flag.String("ca-key-type", "ecdsa-p384", "CA key type of both local issuers, and of the baseline")
	maxPerSecond := flag.Float64("max-per-second", 0, "the operation's max_per_second (0: none)")
	timeout := flag.Duration("timeout", 30*time.Minute, "give up when the operation is not done by then")
	baselineFor := flag.Duration("baseline", 3*time.Second, "how long to measure the in-process signing rate")
	quiet := flag.Duration("quiet", 5*time.Second, "how long to sample the API's latency before the operation, as its baseline")
	flag.Parse()
	if *server == "" || *key == "" {
		fatalf("-server and -admin-key are required")
	}
	if *dataDir == "" && *dbURL == "" {
		fatalf("-data-dir or -database-url is required: the certificates are bulk-loaded into the server's database")
	}
	if *n <= 0 {
		fatalf("-n must be positive")
	}
	ctx := context.Background()
	cl, err := client.New(*server, client.WithAPIKey(*key))
	if err != nil {
		fatalf("%v", err)
	}
	stamp := time.Now().Unix()
	mk := func(name string) *api.Issuer {
		iss, err := cl.CreateIssuer(ctx, api.IssuerRequest{Name: name, Type: "local", Config: map[string]any{"ca_key_type": *caKeyType}})
		if err != nil {
			fatalf("create issuer %s: %v", name, err)
		}
		return iss
	}
	oldCA, newCA := mk(fmt.Sprintf("reissueload-old-%d", stamp)), mk(fmt.Sprintf("reissueload-new-%d", stamp))
	fmt.Printf("issuers %q -> %q (local, CA key %s); %d certificates\n", oldCA.Name, newCA.Name, *caKeyType, *n)

	url := *dbURL
	if url == "" {
		if url, err = embeddedURL(*dataDir); err != nil {
			fatalf("the server's embedded database: %v", err)
		}
	}
	t0 := time.Now()
	ids, err := load(ctx, url, oldCA.ID, fmt.Sprintf("reissueload-%d-", stamp), *n)
	if err != nil {
		fatalf("load: %v", err)
	}
	fmt.Printf("loaded %d certificates with versions in %s (not timed)\n", *n, time.Since(t0).Round(time.Millisecond))

	before := newSampler(*server, *key, ids)
	qctx, stopQuiet := context.WithTimeout(ctx, *quiet)
	before.run(qctx)
	stopQuiet()
	sampler := newSampler(*server, *key, ids)
	sctx, stopSampling := context.WithCancel(ctx)
	var sampling sync.WaitGroup
	sampling.Add(1)
	go func() { defer sampling.Done(); sampler.run(sctx) }()

	cpu0 := procstat.SampleCPU(*serverPID)
	start := time.Now()
	req := api.ReissueRequest{IssuerID: &oldCA.ID, ToIssuerID: &newCA.ID, Reason: "reissueload: a CA-distrust day"}
	if *maxPerSecond > 0 {
		req.MaxPerSecond = maxPerSecond
	}
	op, err := cl.ReissueCertificates(ctx, req)
	if err != nil {
		fatalf("reissue: %v", err)
	}
	fmt.Printf("operation %s started in %s: %d certificates matched the filter\n", op.ID, time.Since(start).Round(time.Millisecond),
		op.EstimatedTotal)
	wctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	done, err := waitOperation(wctx, cl, op.ID, start)
	elapsed := time.Since(start)
	cpu1 := procstat.SampleCPU(*serverPID)
	stopSampling()
	sampling.Wait()
	if err != nil {
		fatalf("wait for operation %s: %v", op.ID, err)
	}
	if done.Status != "done" || done.Issued != *n {
		fatalf("operation %s ended %s with %d issued, %d failed of %d (last error %q)", op.ID, done.Status, done.Issued, done.Failed,
			*n, done.LastError)
	}
	fmt.Printf("re-issued %d certificates in %s: %.0f certificates/s end to end\n", *n, elapsed.Round(time.Millisecond),
		float64(*n)/elapsed.Seconds())
	before.report("before the run")
	sampler.report("during the run")
	procstat.PrintCPU(os.Stdout, "reissueload", cpu0, cpu1, *n, elapsed)
	rate, err := baseline.SigningRate(*caKeyType, *baselineFor)
	if err != nil {
		fatalf("baseline: %v", err)
	}
	fmt.Printf("baseline: x509.CreateCertificate in process, %s CA, P-256 leaves, %d cores: %.0f certificates/s\n",
		*caKeyType, runtime.GOMAXPROCS(0), rate)
	fmt.Printf("the product delivers %.1f%% of the in-process signing rate\n", 100*float64(*n)/elapsed.Seconds()/rate)
}

// waitOperation waits until the operation is no longer running and
// returns it. It watches the list of running operations, which is cheap,
// every 250 ms, and reads the operation's progress (counted from its jobs,
// a heavier query) only every 10 s, so that watching costs the server
// little beside the work it measures.
func waitOperation(ctx context.Context, cl *client.Client, id string, start time.Time) (*api.Operation, error) {
	last := time.Now()
	for {
		running := false
		for o, err := range cl.AllOperations(ctx, client.OperationListOptions{Status: "running"}) {
			if err != nil {
				return nil, err
			}
			running = running || o.ID == id
		}
		if !running {
			return cl.GetOperation(ctx, id)
		}
		if time.Since(last) >= 10*time.Second {
			last = time.Now()
			o, err := cl.GetOperation(ctx, id)
			if err != nil {
				return nil, err
			}
			fmt.Printf("  %5.0fs: matched %d, issued %d, failed %d, outstanding %d, remaining %d\n",
				time.Since(start).Seconds(), o.Matched, o.Issued, o.Failed, o.Outstanding, o.Remaining)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// embeddedURL is the URL of certctl's database in the embedded cluster of
// the server's data directory: the socket directory and port from the
// postmaster's pid file, the superuser's password from its file.
func embeddedURL(dataDir string) (string, error) {
	dir := filepath.Join(dataDir, "postgres")
	pid, err := os.ReadFile(filepath.Join(dir, "pgdata", "postmaster.pid"))
	if err != nil {
		return "", fmt.Errorf("is the server running on its embedded database? %w", err)
	}
	lines := strings.Split(string(pid), "\n")
	if len(lines) < 5 {
		return "", fmt.Errorf("postmaster.pid: too short")
	}
	port, socketDir := strings.TrimSpace(lines[3]), strings.TrimSpace(lines[4])
	pw, err := os.ReadFile(filepath.Join(dir, "superuser-password"))
	if err != nil {
		return "", err
	}
	q := url.Values{"host": {socketDir}, "port": {port}}
	u := &url.URL{Scheme: "postgres", User: url.UserPassword("postgres", strings.TrimSpace(string(pw))), Path: "/certctl", RawQuery: q.Encode()}
	return u.String(), nil
}

// load stores n active certificates on issuer, each with a current
// version: a real P-256 leaf signed in process by a CA of this run, as the
// server stores what an issuer returns. Their renewal is far away, so the
// scheduler leaves them alone. It returns their ids.
func load(ctx context.Context, dbURL string, issuer string, prefix string, n int) ([]string, error) {
	issuerID, err := uuid.Parse(issuer)
	if err != nil {
		return nil, err
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "reissueload distrusted CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	chain := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}))
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now().UTC().Truncate(time.Microsecond)
	notAfter, renewAt := now.Add(90*24*time.Hour), now.Add(60*24*time.Hour)
	certRows, versionRows := make([][]any, n), make([][]any, n)
	ids := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, runtime.GOMAXPROCS(0))
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				// Ids are time-ordered like the server's, taken in order
				// below, so that the walk meets the certificates in load order.
				name := fmt.Sprintf("%s%07d", prefix, i)
				cn := name + ".example.com"
				serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
				tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
					NotBefore: now, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
					ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
				der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, leafKey.Public(), caKey)
				if err != nil {
					errs <- err
					return
				}
				fp := sha256.Sum256(der)
				certRows[i] = []any{name, cn, []string{cn}}
				versionRows[i] = []any{strings.ToLower(serial.Text(16)), hex.EncodeToString(fp[:]), "CN=" + cn, []string{cn},
					string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	for i := range n {
		certID, versionID := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
		ids[i] = certID.String()
		c, v := certRows[i], versionRows[i]
		certRows[i] = []any{certID, c[0], c[1], c[2], issuerID, "ecdsa-p256", "server", "active", map[string]string{}, versionID,
			notAfter, renewAt, int64(1), now, now}
		versionRows[i] = []any{versionID, certID, int64(1), v[0], v[1], v[2], v[3], now, notAfter, v[4], chain, issuerID, "active", now}
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		// The current version's foreign key is checked at commit.
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"managed_certificates"}, []string{"id", "name", "common_name", "sans",
			"issuer_id", "key_type", "key_mode", "status", "labels", "current_version_id", "not_after", "next_renewal_at",
			"spec_revision", "created_at", "updated_at"}, pgx.CopyFromRows(certRows)); err != nil {
			return fmt.Errorf("certificates: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"certificate_versions"}, []string{"id", "certificate_id", "spec_revision",
			"serial_number", "fingerprint_sha256", "subject", "sans", "not_before", "not_after", "certificate_pem", "chain_pem",
			"issuer_id", "status", "created_at"}, pgx.CopyFromRows(versionRows)); err != nil {
			return fmt.Errorf("versions: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Statistics now, so that the planner knows the tables' new size and
	// autovacuum does not wake up during the measurement.
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE managed_certificates, certificate_versions"); err != nil {
		return nil, err
	}
	return ids, nil
}

// sampler times API calls a user would make during the run, one at a
// time, alternately reading a random certificate and the first page of
// the list.
type sampler struct {
	base, key string
	ids       []string
	http      *http.Client
	get, list []time.Duration
	failed    int
}

func newSampler(base, key string, ids []string) *sampler {
	return &sampler{base: strings.TrimSuffix(base, "/"), key: key, ids: ids, http: &http.Client{Timeout: 30 * time.Second}}
}

// samplePause spaces the samples: a handful of users, not a load of its own.
const samplePause = 50 * time.Millisecond

func (s *sampler) run(ctx context.Context) {
	for i := 0; ctx.Err() == nil; i++ {
		path := "/api/v1/certificates?limit=50"
		if i%2 == 0 {
			path = "/api/v1/certificates/" + s.ids[mrand.IntN(len(s.ids))]
		}
		d, err := s.call(ctx, path)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.failed++
		case i%2 == 0:
			s.get = append(s.get, d)
		default:
			s.list = append(s.list, d)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(samplePause):
		}
	}
}

func (s *sampler) call(ctx context.Context, path string) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+s.key)
	t0 := time.Now()
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, bufio.NewReader(resp.Body))
	resp.Body.Close()
	d := time.Since(t0)
	if resp.StatusCode != http.StatusOK {
		return d, errors.New(resp.Status)
	}
	return d, nil
}

func (s *sampler) report(when string) {
	pct := func(d []time.Duration, p float64) float64 {
		if len(d) == 0 {
			return 0
		}
		d = slices.Clone(d)
		slices.Sort(d)
		return float64(d[int(p*float64(len(d)-1))].Microseconds()) / 1000
	}
	all := append(slices.Clone(s.get), s.list...)
	fmt.Printf("API %s: get p50 %.1f ms p99 %.1f ms, list p50 %.1f ms p99 %.1f ms, all p50 %.1f ms p99 %.1f ms (%d requests, %d failed)\n",
		when, pct(s.get, 0.5), pct(s.get, 0.99), pct(s.list, 0.5), pct(s.list, 0.99), pct(all, 0.5), pct(all, 0.99), len(all), s.failed)
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "reissueload: "+format+"\n", args...)
	os.Exit(1)
}
