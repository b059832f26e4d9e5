package store_test

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/db"
	"github.com/certctl/certctl/server/pgtest"
	"github.com/certctl/certctl/server/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestDeploymentHealthFiltersUseTheirIndexes keeps the list's
// deployment_health conditions and the partial indexes of migration 00005
// in step: over thousands of certificates, each filtered page must be read
// through its own index (a condition that drifts from the index's
// predicate would scan the table instead, which is what 100,000
// certificates cannot afford).
func TestDeploymentHealthFiltersUseTheirIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// One connection, so that the statistics read below are of the queries
	// the store ran.
	pool, err := db.Open(ctx, apitest.NewDatabase(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(ctx, `
		INSERT INTO issuers (id, name, type, created_at, updated_at)
			VALUES ('01900000-0000-7000-8000-0000000000aa', 'ca', 'local', now(), now());
		INSERT INTO managed_certificates (id, name, common_name, issuer_id, key_type, key_mode, status,
			deploy_total, deploy_pending, deploy_succeeded, deploy_failed, created_at, updated_at)
		SELECT ('01900000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'c' || i, 'c' || i || '.example.com',
			'01900000-0000-7000-8000-0000000000aa', 'ecdsa-p256', 'server', 'active',
			2, CASE WHEN i % 500 = 1 THEN 1 ELSE 0 END, CASE WHEN i % 500 = 0 THEN 2 ELSE 1 END,
			CASE WHEN i % 500 = 2 THEN 1 ELSE 0 END, now(), now()
		FROM generate_series(1, 5000) AS i;
		ANALYZE managed_certificates;`); err != nil {
		t.Fatal(err)
	}
	scans := func(index string) int64 {
		t.Helper()
		// Statistics reach the shared counters when a transaction ends;
		// this makes the next one flush at once.
		if _, err := pool.Exec(ctx, `SELECT pg_stat_force_next_flush()`); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := pool.QueryRow(ctx, `SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = $1`, index).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	q := store.New(pool).Q()
	for _, tc := range []struct {
		filter, index string
		want          int // certificates of 5000
	}{
		{core.HealthFailed, "managed_certificates_deploy_failed", 10},
		{core.HealthPending, "managed_certificates_deploy_pending", 10},
		{core.HealthSucceeded, "managed_certificates_deploy_succeeded", 10},
	} {
		before := scans(tc.index)
		var got []core.Certificate
		f := core.CertificateFilter{DeploymentHealth: tc.filter, Page: core.Page{Limit: 4}}
		for {
			page, more, err := q.ListCertificates(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, page...)
			if !more {
				break
			}
			f.After = &page[len(page)-1].ID
		}
		if len(got) != tc.want {
			t.Errorf("deployment_health=%s: %d certificates, want %d", tc.filter, len(got), tc.want)
		}
		if !slices.IsSortedFunc(got, func(a, b core.Certificate) int { return slices.Compare(a.ID[:], b.ID[:]) }) {
			t.Errorf("deployment_health=%s: pages out of id order", tc.filter)
		}
		if after := scans(tc.index); after <= before {
			t.Errorf("deployment_health=%s did not use index %s (%d scans before, %d after)", tc.filter, tc.index, before, after)
		}
	}
	if _, _, err := q.ListCertificates(ctx, core.CertificateFilter{DeploymentHealth: "broken"}); core.ErrorCode(err) != core.EINVALID {
		t.Errorf("unknown filter: %v; want invalid", err)
	}
}
