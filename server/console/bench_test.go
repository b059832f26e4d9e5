package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/certctl/certctl/server/console"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

// BenchmarkPages measures the server time of each console page (the
// handler, its queries on PostgreSQL and the template, without the
// network) with 100,000 certificates, 100,000 finished renewal jobs and
// 10,000 agents in the store. Figures are in docs/performance.md.
func BenchmarkPages(b *testing.B) {
	s := startSite(b)
	ctx := context.Background()
	seedBench(b, s)
	var middle, agent string
	if err := s.Pool.QueryRow(ctx, `SELECT id FROM managed_certificates ORDER BY name OFFSET 50000 LIMIT 1`).Scan(&middle); err != nil {
		b.Fatal(err)
	}
	if err := s.Pool.QueryRow(ctx, `SELECT id FROM agents ORDER BY name OFFSET 5000 LIMIT 1`).Scan(&agent); err != nil {
		b.Fatal(err)
	}
	token, _, err := s.Service.SignIn(ctx, s.AdminKey)
	if err != nil {
		b.Fatal(err)
	}
	ui, err := console.New(console.Options{Service: s.Service})
	if err != nil {
		b.Fatal(err)
	}
	// The dashboard's counts, read afresh (a new service has no cached
	// counts): what a dashboard costs once every DashboardMaxAge.
	b.Run("dashboard_counts_uncached", func(b *testing.B) {
		actx := core.WithActor(ctx, core.SystemActor)
		for b.Loop() {
			if _, _, err := service.New(service.Options{Store: s.Store}).Dashboard(actx); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, p := range []struct{ name, path string }{
		{"dashboard", "/"},
		{"certificates", "/certificates"},
		{"certificates_by_name_page_1001", "/certificates?sort=name&after=" + middle},
		{"certificates_by_expiry_failed", "/certificates?sort=not_after&status=failed&expiring=30"},
		{"certificates_search", "/certificates?q=host777"},
		{"certificate", "/certificates/" + middle},
		{"agents", "/agents"},
		{"agents_windows_offline", "/agents?os=windows&status=offline"},
		{"agent", "/agents/" + agent},
		{"jobs_failed", "/jobs?state=failed"},
		{"audit", "/audit"},
	} {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, p.path, nil)
				req.AddCookie(&http.Cookie{Name: "certctl_session", Value: token})
				rec := httptest.NewRecorder()
				ui.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d\n%s", p.path, rec.Code, rec.Body)
				}
			}
		})
	}
}

// seedBench adds 100,000 certificates (in every status, expiring over
// four months), 100,000 finished renewal jobs (one in 50 failed) over the
// last 30 days and 10,000 agents, as bulk SQL.
func seedBench(b *testing.B, s *site) {
	b.Helper()
	for _, q := range []string{
		`INSERT INTO managed_certificates (id, name, common_name, sans, issuer_id, key_type, key_mode, status,
			not_after, next_renewal_at, created_at, updated_at)
		SELECT gen_random_uuid(), 'bench-' || lpad(i::text, 6, '0'), 'host' || i || '.example.com',
			ARRAY['alt' || i || '.example.com'], '` + s.Issuer.ID.String() + `', 'ecdsa-p256', 'server',
			(ARRAY['active', 'active', 'active', 'active', 'failed', 'pending', 'renewing', 'expired'])[1 + i % 8],
			now() + ((i % 120) - 10) * interval '1 day', now() + ((i % 120) - 40) * interval '1 day', now(), now()
		FROM generate_series(1, 100000) AS i`,
		`INSERT INTO agents (id, name, status, os, arch, ip_address, hostname, agent_version, uptime_seconds,
			last_heartbeat_at, enrolled_at, created_at, updated_at)
		SELECT gen_random_uuid(), 'agent-' || lpad(i::text, 5, '0'), (ARRAY['online', 'online', 'online', 'offline'])[1 + i % 4],
			(ARRAY['linux', 'windows'])[1 + i % 2], 'amd64', ('10.0.' || (i / 256) || '.' || (i % 256))::inet,
			'host-' || i, '1.0.0', i * 60, now(), now(), now(), now()
		FROM generate_series(1, 10000) AS i`,
		`INSERT INTO jobs (id, kind, state, certificate_id, run_at, created_at, updated_at, finished_at, last_error)
		SELECT gen_random_uuid(), 'renew', CASE WHEN c.i % 50 = 0 THEN 'failed' ELSE 'succeeded' END, c.id, now(), now(), now(),
			now() - (c.i % 30) * interval '1 day' - interval '1 hour', CASE WHEN c.i % 50 = 0 THEN 'CA unreachable' ELSE '' END
		FROM (SELECT id, row_number() OVER () AS i FROM managed_certificates) AS c`,
		`VACUUM ANALYZE`,
	} {
		if _, err := s.Pool.Exec(context.Background(), q); err != nil {
			b.Fatalf("seed: %v", err)
		}
	}
}
