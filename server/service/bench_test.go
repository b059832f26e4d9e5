package service_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

// BenchmarkDueScan measures the scheduler with 1,000,000 managed
// certificates in the store, 10,000 of them due: the indexed scan alone,
// and finding plus enqueuing (with audit) every due one. Run with -benchtime 1x.
func BenchmarkDueScan(b *testing.B) {
	const total, due = 1_000_000, 10_000
	ctx := context.Background()
	env := apitest.Start(b, apitest.Options{PoolSize: 8})
	sys := core.WithActor(ctx, core.SystemActor)
	iss, err := env.Service.CreateIssuer(sys, service.IssuerInput{Name: "ca", Type: "local"})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	start := time.Now()
	const chunk = 100_000
	for off := 0; off < total; off += chunk {
		rows := make([][]any, chunk)
		for i := range rows {
			n := off + i
			next := now.Add(time.Duration(1+n%(90*24)) * time.Hour) // spread over 90 days
			if n%(total/due) == 0 {
				next = now.Add(-time.Minute) // due
			}
			notAfter := next.Add(30 * 24 * time.Hour)
			rows[i] = []any{uuid.Must(uuid.NewV7()), fmt.Sprintf("c%07d", n), fmt.Sprintf("h%d.example.com", n), []string{},
				iss.ID, "ecdsa-p256", "server", "active", map[string]string{}, &notAfter, &next, now, now}
		}
		if _, err := env.Pool.CopyFrom(ctx, pgx.Identifier{"managed_certificates"}, []string{"id", "name", "common_name", "sans",
			"issuer_id", "key_type", "key_mode", "status", "labels", "not_after", "next_renewal_at", "created_at", "updated_at"},
			pgx.CopyFromRows(rows)); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := env.Pool.Exec(ctx, "VACUUM ANALYZE managed_certificates"); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d certificates in %s", total, time.Since(start).Round(time.Millisecond))

	b.Run("scan", func(b *testing.B) {
		for range b.N {
			t0 := time.Now()
			var n int
			if err := env.Pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT id FROM managed_certificates
				WHERE status IN ('active', 'failed') AND next_renewal_at <= $1 ORDER BY next_renewal_at LIMIT 20000) d`,
				time.Now()).Scan(&n); err != nil {
				b.Fatal(err)
			}
			if n != due {
				b.Fatalf("found %d due, want %d", n, due)
			}
			b.ReportMetric(float64(time.Since(t0).Microseconds())/1000, "scan-ms")
		}
	})
	b.Run("enqueue", func(b *testing.B) {
		for range b.N {
			// Make them due again for each round.
			if _, err := env.Pool.Exec(ctx, `DELETE FROM jobs`); err != nil {
				b.Fatal(err)
			}
			if _, err := env.Pool.Exec(ctx, `UPDATE managed_certificates SET status = 'active', next_renewal_at = $1
				WHERE status = 'renewing'`, time.Now().Add(-time.Minute)); err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			n, err := env.Service.EnqueueDueRenewals(ctx)
			if err != nil {
				b.Fatal(err)
			}
			elapsed := time.Since(t0)
			if n != due {
				b.Fatalf("enqueued %d, want %d", n, due)
			}
			b.ReportMetric(float64(elapsed.Milliseconds()), "find+enqueue-ms")
			b.ReportMetric(float64(n)/elapsed.Seconds(), "enqueued/s")
		}
	})
}

// BenchmarkIssuance measures sustained issuance through the real local-CA
// plugin with jobs and audit: certificates in agent key mode whose CSRs
// the agent has already supplied, run by one server's worker. Run with
// -benchtime 1x; the figure is certificates/s.
func BenchmarkIssuance(b *testing.B) {
	for _, workers := range []int{16, 64} {
		b.Run(fmt.Sprintf("workers-%d", workers), func(b *testing.B) {
			for range b.N {
				benchIssuance(b, 3000, workers)
			}
		})
	}
}

func benchIssuance(b *testing.B, n, workers int) {
	ctx := context.Background()
	env := apitest.Start(b, apitest.Options{PluginDir: pluginDir, PoolSize: int32(workers + 8)})
	sys := core.WithActor(ctx, core.SystemActor)
	iss, err := env.Service.CreateIssuer(sys, service.IssuerInput{Name: "ca", Type: "local",
		Config: map[string]any{"ca_key_type": "ecdsa-p256"}})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	ip := netip.MustParseAddr("127.0.0.1")
	agent := core.Agent{ID: uuid.Must(uuid.NewV7()), Name: "bench-agent", Status: core.AgentOnline, Labels: map[string]string{},
		IPAddress: &ip, EnrolledAt: now, CreatedAt: now, UpdatedAt: now}
	if err := env.Store.Q().CreateAgent(ctx, agent); err != nil {
		b.Fatal(err)
	}
	tgt, err := env.Service.CreateTarget(sys, service.TargetInput{Name: "web", Type: "nginx", AgentID: &agent.ID})
	if err != nil {
		b.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	// Declare the certificates and hand each waiting job its CSR, as agents would.
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			cn := fmt.Sprintf("b%d.example.com", i)
			c, err := env.Service.CreateCertificate(sys, service.CertificateInput{Name: fmt.Sprintf("b%05d", i), CommonName: cn,
				IssuerID: iss.ID, TargetIDs: []uuid.UUID{tgt.ID}})
			if err != nil {
				errs <- err
				return
			}
			jobs, _, err := env.Service.ListJobs(sys, core.JobFilter{CertificateID: &c.ID})
			if err != nil || len(jobs) != 1 {
				errs <- fmt.Errorf("jobs of %s: %v %v", c.Name, len(jobs), err)
				return
			}
			der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn},
				DNSNames: []string{cn}}, key)
			csr := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
			if _, err := env.Service.SubmitCSR(sys, jobs[0].ID, csr); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	w := env.Service.NewWorker(service.WorkerOptions{Concurrency: workers, Poll: 20 * time.Millisecond})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	t0 := time.Now()
	go func() { w.Run(runCtx); close(done) }()
	for {
		var issued int
		if err := env.Pool.QueryRow(ctx, `SELECT count(*) FROM certificate_versions`).Scan(&issued); err != nil {
			b.Fatal(err)
		}
		if issued == n {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(t0)
	cancel()
	<-done
	b.ReportMetric(float64(n)/elapsed.Seconds(), "certs/s")

	b.ReportMetric(0, "ns/op")
}
