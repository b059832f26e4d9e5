package httpapi_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/apitest"
)

// benchCertificates is how many certificates the store holds while the
// API is measured.
const benchCertificates = 100_000

// seedCertificates bulk-loads n certificates spread over issuers, statuses
// and expiry dates, with time-ordered ids like the server makes.
func seedCertificates(b *testing.B, env *apitest.Env, n int) []string {
	b.Helper()
	ctx := context.Background()
	var issuers []string
	for i := range 4 {
		var iss api.Issuer
		env.MustDo(b, "POST", "/api/v1/issuers", env.AdminKey, api.IssuerRequest{Name: fmt.Sprintf("ca-%d", i), Type: "local"}, 201).Decode(b, &iss)
		issuers = append(issuers, iss.ID)
	}
	statuses := []string{"active", "active", "active", "active", "pending", "renewing", "failed", "expired"}
	now := time.Now().UTC()
	rows := make([][]any, n)
	for i := range rows {
		id := uuid.Must(uuid.NewV7())
		notAfter := now.Add(time.Duration(rand.IntN(200*24)) * time.Hour)
		rows[i] = []any{id, fmt.Sprintf("cert-%07d", i), fmt.Sprintf("host%d.example.com", i),
			[]string{fmt.Sprintf("host%d.example.com", i)}, uuid.MustParse(issuers[i%len(issuers)]), "ecdsa-p256", "server",
			statuses[i%len(statuses)], map[string]string{}, &notAfter, now, now}
	}
	_, err := env.Pool.CopyFrom(ctx, pgx.Identifier{"managed_certificates"},
		[]string{"id", "name", "common_name", "sans", "issuer_id", "key_type", "key_mode", "status", "labels", "not_after",
			"created_at", "updated_at"}, pgx.CopyFromRows(rows))
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
	// Vacuum now so that autovacuum does not wake up during the measurement.
	if _, err := env.Pool.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		b.Fatal(err)
	}
	return issuers
}

// latencies collects request durations and reports percentiles.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B, elapsed time.Duration) {
	slices.Sort(l.d)
	pct := func(p float64) float64 {
		if len(l.d) == 0 {
			return 0
		}
		return float64(l.d[int(p*float64(len(l.d)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(len(l.d))/elapsed.Seconds(), "req/s")
	b.ReportMetric(0, "ns/op") // wall time per op is meaningless with parallel clients
}

// timed sends one request and records its latency; it fails on a bad status.
func timed(b *testing.B, env *apitest.Env, l *latencies, method, path string, body any, want int) {
	start := time.Now()
	r := env.Do(b, method, path, env.AdminKey, body)
	l.add(time.Since(start))
	if r.Status != want {
		b.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
	}
}

// BenchmarkAPI measures the API with 100,000 certificates in the store:
// creating certificates, and listing pages with and without filters, from
// 4 concurrent clients. Run with make bench.
func BenchmarkAPI(b *testing.B) {
	env := apitest.Start(b, apitest.Options{PoolSize: 20})
	env.Client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	issuers := seedCertificates(b, env, benchCertificates)

	// Cursors spread over the whole table, for deep pages.
	var cursors []string
	cursor := ""
	for i := 0; i < benchCertificates/500; i += 20 {
		var page api.List[api.Certificate]
		env.MustDo(b, "GET", "/api/v1/certificates?limit=500&cursor="+cursor, env.AdminKey, nil, 200).Decode(b, &page)
		for j := 0; j < 20 && page.NextCursor != nil; j++ {
			cursors = append(cursors, *page.NextCursor)
			env.MustDo(b, "GET", "/api/v1/certificates?limit=500&cursor="+*page.NextCursor, env.AdminKey, nil, 200).Decode(b, &page)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	soon := time.Now().Add(14 * 24 * time.Hour).UTC().Format(time.RFC3339)

	run := func(name string, req func(i int) (method, path string, body any, want int)) {
		b.Run(name, func(b *testing.B) {
			var l latencies
			var next atomic.Int64
			for i := range 200 { // warm up connections and caches
				method, path, body, want := req(1_000_000 + i)
				timed(b, env, &latencies{}, method, path, body, want)
			}
			b.SetParallelism(1) // GOMAXPROCS clients: 2 on the reference machine, x SetParallelism
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					method, path, body, want := req(int(next.Add(1)))
					timed(b, env, &l, method, path, body, want)
				}
			})
			l.report(b, time.Since(start))
		})
	}

	run("create", func(i int) (string, string, any, int) {
		return "POST", "/api/v1/certificates", api.CertificateRequest{Name: fmt.Sprintf("new-%d-%d", time.Now().UnixNano(), i),
			CommonName: fmt.Sprintf("new%d.example.com", i), SANs: []string{fmt.Sprintf("alt%d.example.com", i)},
			IssuerID: issuers[i%len(issuers)]}, 201
	})
	run("get", func(i int) (string, string, any, int) {
		return "GET", "/api/v1/issuers/" + issuers[i%len(issuers)], nil, 200
	})
	run("list/first-page", func(i int) (string, string, any, int) {
		return "GET", "/api/v1/certificates?limit=50", nil, 200
	})
	run("list/deep-page", func(i int) (string, string, any, int) {
		return "GET", "/api/v1/certificates?limit=50&cursor=" + cursors[i%len(cursors)], nil, 200
	})
	run("list/by-status", func(i int) (string, string, any, int) {
		return "GET", "/api/v1/certificates?limit=50&status=" + []string{"active", "failed", "renewing"}[i%3], nil, 200
	})
	run("list/by-issuer-deep", func(i int) (string, string, any, int) {
		return "GET", "/api/v1/certificates?limit=50&issuer_id=" + issuers[i%len(issuers)] + "&cursor=" + cursors[i%len(cursors)], nil, 200
	})
	run("list/expiring-soon", func(i int) (string, string, any, int) {
		return "GET", "/api/v1/certificates?limit=50&expiring_before=" + soon, nil, 200
	})
	run("list/name-prefix", func(i int) (string, string, any, int) {
		return "GET", "/api/v1/certificates?limit=50&name_prefix=" + strings.TrimPrefix(fmt.Sprintf("cert-%07d", (i*7919)%benchCertificates), "")[:9], nil, 200
	})
}
