// Benchmarks of the plugin boundary: one call and local-CA issuance, each
// in-process and through the real plugin process, so the cost of the hop
// (gRPC over a Unix socket with mTLS, JSON config, process switch) shows.
// Run with: go test -run '^$' -bench . ./plugins/issuer/local/

package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

// benchProcess builds and starts the plugin binary once per benchmark.
func benchProcess(b *testing.B) plugin.Issuer {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "certctl-plugin-issuer-local")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	proc, err := plugin.Open(context.Background(), plugin.OpenOptions{Path: bin, Kind: plugin.KindIssuer})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(proc.Kill)
	return proc.Issuer()
}

// percentiles reports p50 and p99 of the recorded durations in µs.
type percentiles struct {
	mu sync.Mutex
	d  []time.Duration
}

func (p *percentiles) add(d time.Duration) {
	p.mu.Lock()
	p.d = append(p.d, d)
	p.mu.Unlock()
}

func (p *percentiles) report(b *testing.B) {
	slices.Sort(p.d)
	at := func(q float64) float64 { return float64(p.d[int(q*float64(len(p.d)-1))].Nanoseconds()) / 1000 }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// BenchmarkCall measures one round trip that does almost no work, serially:
// ValidateConfig of an empty configuration (nothing to check without a CA).
func BenchmarkCall(b *testing.B) {
	for _, c := range []struct {
		name string
		iss  func(*testing.B) plugin.Issuer
	}{
		{"in-process", func(*testing.B) plugin.Issuer { return newIssuer() }},
		{"plugin", benchProcess},
	} {
		b.Run(c.name, func(b *testing.B) {
			iss := c.iss(b)
			ctx := context.Background()
			var p percentiles
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if err := iss.ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: plugin.Config{}}); err != nil {
					b.Fatal(err)
				}
				p.add(time.Since(start))
			}
			p.report(b)
		})
	}
}

// BenchmarkIssue measures issuance from a CSR by a P-384 local CA, with
// P-256 and RSA-2048 leaf keys, from 4 concurrent callers per CPU.
func BenchmarkIssue(b *testing.B) {
	helper := testIssuer(time.Now())
	provisioned, err := helper.Provision(context.Background(), plugin.ProvisionRequest{Config: plugin.Config{}})
	if err != nil {
		b.Fatal(err)
	}
	cfg := provisioned.Config
	for _, kt := range []string{"ecdsa-p256", "rsa-2048"} {
		csr := makeCSRForBench(b, kt)
		for _, c := range []struct {
			name string
			iss  func(*testing.B) plugin.Issuer
		}{
			{"in-process", func(*testing.B) plugin.Issuer { return newIssuer() }},
			{"plugin", benchProcess},
		} {
			b.Run(kt+"/"+c.name, func(b *testing.B) {
				iss := c.iss(b)
				req := plugin.IssueRequest{Config: cfg, CSR: csr, CommonName: "bench.example.com",
					SANs: []string{"bench.example.com"}}
				var p percentiles
				b.SetParallelism(4)
				b.ResetTimer()
				start := time.Now()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						t0 := time.Now()
						if _, err := iss.IssueCertificate(context.Background(), req); err != nil {
							b.Error(err)
							return
						}
						p.add(time.Since(t0))
					}
				})
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "certs/s")
				p.report(b)
			})
		}
	}
}

func makeCSRForBench(b *testing.B, kt string) []byte {
	key, err := generateKey(context.Background(), kt)
	if err != nil {
		b.Fatal(err)
	}
	return makeCSR(b, key, "bench.example.com")
}
