package store_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

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

// TestCertificates: a certificate reads back with its target bindings,
// lists filter by status, issuer, target, expiry, name prefix (LIKE
// wildcards taken literally) and deployment health, updates rebind its
// targets, versions list newest first and the newest made current
// supersedes the others, and deletion takes its versions along.
func TestCertificates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	iss, iss2 := createIssuer(t, q, "ca"), createIssuer(t, q, "ca2")
	agent := createAgent(t, q, "web", "linux")
	tg1 := core.Target{ID: newID(t), Name: "t1", Type: "nginx", AgentID: &agent.ID, Config: map[string]any{}, CreatedAt: at(0), UpdatedAt: at(0)}
	tg2 := core.Target{ID: newID(t), Name: "t2", Type: "nginx", AgentID: &agent.ID, Config: map[string]any{}, CreatedAt: at(0), UpdatedAt: at(0)}
	for _, tg := range []core.Target{tg1, tg2} {
		if err := q.CreateTarget(ctx, tg); err != nil {
			t.Fatal(err)
		}
	}
	www := core.Certificate{ID: newID(t), Name: "www_1", CommonName: "www.example.com", SANs: []string{"www.example.com"},
		IssuerID: iss.ID, TargetIDs: []uuid.UUID{tg1.ID}, KeyType: "ecdsa-p256", KeyMode: core.KeyModeAgent,
		Status: core.CertPending, Labels: map[string]string{"team": "web"}, Profile: "tlsserver", CreatedAt: at(0), UpdatedAt: at(0)}
	if err := q.CreateCertificate(ctx, www); err != nil {
		t.Fatal(err)
	}
	wwx := createCertificate(t, q, "wwwx1", iss2.ID) // "www_" must not match it as a LIKE pattern
	api := createCertificate(t, q, "api", iss.ID)

	got, err := q.GetCertificate(ctx, www.ID)
	if err != nil || !slices.Equal(got.TargetIDs, []uuid.UUID{tg1.ID}) || got.Labels["team"] != "web" || got.Profile != "tlsserver" ||
		got.KeyMode != core.KeyModeAgent || got.CurrentVersionID != nil {
		t.Errorf("GetCertificate = %+v, %v", got, err)
	}
	wantCode(t, "a taken name", q.CreateCertificate(ctx, core.Certificate{ID: newID(t), Name: "api", CommonName: "x",
		SANs: []string{}, IssuerID: iss.ID, KeyType: "ecdsa-p256", KeyMode: core.KeyModeServer, Status: core.CertPending,
		Labels: map[string]string{}, CreatedAt: at(0), UpdatedAt: at(0)}), core.ECONFLICT)
	if ok, err := q.CertificateExists(ctx, api.ID); err != nil || !ok {
		t.Errorf("CertificateExists = %v, %v", ok, err)
	}
	if ok, err := q.CertificateExists(ctx, uuid.New()); err != nil || ok {
		t.Errorf("CertificateExists of nothing = %v, %v", ok, err)
	}
	def, _ := q.GetDefaultPolicy(ctx)
	if ok, err := q.RenewalPolicyExists(ctx, def.ID); err != nil || !ok {
		t.Errorf("RenewalPolicyExists = %v, %v", ok, err)
	}

	// Versions: the second made current supersedes the first.
	v1 := createVersion(t, q, api, "01", at(0).Add(48*time.Hour))
	v2 := core.CertificateVersion{ID: newID(t), CertificateID: api.ID, SerialNumber: "02", FingerprintSHA256: "fp-02",
		SANs: api.SANs, NotBefore: at(0), NotAfter: at(0).Add(72 * time.Hour), IssuerID: &iss.ID, Status: core.VersionActive, CreatedAt: at(1)}
	if err := q.CreateVersion(ctx, v2, "CSR", []byte("sealed key")); err != nil {
		t.Fatal(err)
	}
	for _, v := range []core.CertificateVersion{v1, v2} {
		if err := q.MakeVersionCurrent(ctx, api.ID, v.ID, v.NotAfter, at(30), at(2)); err != nil {
			t.Fatal(err)
		}
	}
	c, _ := q.GetCertificate(ctx, api.ID)
	if c.Status != core.CertActive || c.CurrentVersionID == nil || *c.CurrentVersionID != v2.ID || !c.NotAfter.Equal(v2.NotAfter) ||
		!c.NextRenewalAt.Equal(at(30)) {
		t.Errorf("after MakeVersionCurrent: %+v", c)
	}
	versions, _, err := q.ListVersions(ctx, api.ID, core.Page{Limit: 10})
	if err != nil || len(versions) != 2 || versions[0].ID != v2.ID || !versions[0].HasPrivateKey ||
		versions[1].Status != core.VersionSuperseded || versions[1].HasPrivateKey {
		t.Errorf("ListVersions = %+v, %v", versions, err)
	}
	if key, err := q.VersionPrivateKey(ctx, v2.ID); err != nil || string(key) != "sealed key" {
		t.Errorf("VersionPrivateKey = %q, %v", key, err)
	}
	_, err = q.GetVersion(ctx, www.ID, v2.ID)
	wantCode(t, "a version of another certificate", err, core.ENOTFOUND)

	// Deployments: one per version and target; a second is ignored.
	for i, tg := range []core.Target{tg1, tg2, tg1} {
		d := core.Deployment{ID: newID(t), CertificateID: api.ID, VersionID: v2.ID, TargetID: tg.ID, AgentID: &agent.ID,
			Status: "pending", CreatedAt: at(10 + i)}
		if err := q.CreateDeployment(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	deps, more, err := q.ListDeployments(ctx, api.ID, core.Page{Limit: 1})
	if err != nil || !more || len(deps) != 1 || deps[0].TargetID != tg2.ID || deps[0].Status != "pending" {
		t.Errorf("the newest deployment = %+v, %v, %v", deps, more, err)
	}
	if deps, _, _ = q.ListDeployments(ctx, api.ID, core.Page{Limit: 10}); len(deps) != 2 {
		t.Errorf("%d deployments, want one per target", len(deps))
	}

	next := at(40)
	if err := q.SetCertificateStatus(ctx, www.ID, core.CertFailed, "the CA said no", &next, at(3)); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		what string
		f    core.CertificateFilter
		want []uuid.UUID
	}{
		{"all", core.CertificateFilter{}, []uuid.UUID{www.ID, wwx.ID, api.ID}},
		{"failed", core.CertificateFilter{Status: core.CertFailed}, []uuid.UUID{www.ID}},
		{"of ca2", core.CertificateFilter{IssuerID: &iss2.ID}, []uuid.UUID{wwx.ID}},
		{"on t1", core.CertificateFilter{TargetID: &tg1.ID}, []uuid.UUID{www.ID}},
		{"expiring", core.CertificateFilter{ExpiringBefore: ptr(at(0).Add(100 * time.Hour))}, []uuid.UUID{api.ID}},
		{"prefix www_", core.CertificateFilter{NamePrefix: "www_"}, []uuid.UUID{www.ID}},
		{"prefix ww", core.CertificateFilter{NamePrefix: "ww"}, []uuid.UUID{www.ID, wwx.ID}},
	} {
		tt.f.Limit = 10
		items, _, err := q.ListCertificates(ctx, tt.f)
		var ids []uuid.UUID
		for _, i := range items {
			ids = append(ids, i.ID)
		}
		if err != nil || !slices.Equal(ids, tt.want) {
			t.Errorf("ListCertificates %s = %v, %v; want %v", tt.what, ids, err, tt.want)
		}
	}
	_, _, err = q.ListCertificates(ctx, core.CertificateFilter{DeploymentHealth: "great", Page: core.Page{Limit: 1}})
	wantCode(t, "an unknown deployment health", err, core.EINVALID)

	// Rebinding: t1 out, t2 in.
	www.TargetIDs, www.SpecRevision, www.UpdatedAt = []uuid.UUID{tg2.ID}, 2, at(4)
	if err := q.UpdateCertificate(ctx, www); err != nil {
		t.Fatal(err)
	}
	if got, _ := q.GetCertificate(ctx, www.ID); !slices.Equal(got.TargetIDs, []uuid.UUID{tg2.ID}) || got.SpecRevision != 2 {
		t.Errorf("after rebinding: targets %v, revision %d", got.TargetIDs, got.SpecRevision)
	}
	wantCode(t, "updating an unknown certificate", q.UpdateCertificate(ctx, core.Certificate{ID: uuid.New(), SANs: []string{},
		Labels: map[string]string{}}), core.ENOTFOUND)

	if err := q.DeleteCertificate(ctx, api.ID); err != nil {
		t.Fatal(err)
	}
	_, err = q.GetVersion(ctx, api.ID, v1.ID)
	wantCode(t, "a version of a deleted certificate", err, core.ENOTFOUND)
	wantCode(t, "deleting twice", q.DeleteCertificate(ctx, api.ID), core.ENOTFOUND)
}

func ptr[T any](v T) *T { return &v }
