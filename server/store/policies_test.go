package store_test

import (
	"context"
	"testing"

	"github.com/certctl/certctl/server/core"
)

// TestRenewalPolicies: the migration's default policy is there; a policy
// keeps only its mode's setting; one default at a time (another becomes
// it after ClearDefaultPolicy); names unique; a policy in use cannot go.
func TestRenewalPolicies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	def, err := q.GetDefaultPolicy(ctx)
	if err != nil || def.Name != "default" || def.Mode != core.PolicyFraction || !def.IsDefault {
		t.Fatalf("the migration's default policy = %+v, %v", def, err)
	}

	days := core.RenewalPolicy{ID: newID(t), Name: "thirty-days", Mode: core.PolicyDaysBefore, DaysBeforeExpiry: 30,
		RenewFraction: 0.5, JitterFraction: 0.1, ReuseKey: true, CreatedAt: at(0), UpdatedAt: at(0)}
	if err := q.CreatePolicy(ctx, days); err != nil {
		t.Fatal(err)
	}
	got, err := q.GetPolicy(ctx, days.ID)
	if err != nil || got.Mode != core.PolicyDaysBefore || got.DaysBeforeExpiry != 30 || got.RenewFraction != 0 ||
		got.JitterFraction != 0.1 || !got.ReuseKey || got.UseIssuerWindow || got.IsDefault {
		t.Errorf("GetPolicy = %+v, %v; want the days setting only", got, err)
	}
	err = q.CreatePolicy(ctx, core.RenewalPolicy{ID: newID(t), Name: "thirty-days", Mode: core.PolicyFraction,
		RenewFraction: 0.5, CreatedAt: at(0)})
	wantCode(t, "a taken name", err, core.ECONFLICT)
	err = q.CreatePolicy(ctx, core.RenewalPolicy{ID: newID(t), Name: "bad", Mode: core.PolicyFraction, RenewFraction: 1.5,
		CreatedAt: at(0)})
	wantCode(t, "a fraction of 1.5", err, core.EINVALID)

	// A second default is refused until the first is cleared.
	days.IsDefault, days.UpdatedAt = true, at(5)
	wantCode(t, "two defaults", q.UpdatePolicy(ctx, days), core.ECONFLICT)
	if err := q.ClearDefaultPolicy(ctx); err != nil {
		t.Fatal(err)
	}
	// Switching the mode drops the other setting.
	days.Mode, days.RenewFraction = core.PolicyFraction, 0.25
	if err := q.UpdatePolicy(ctx, days); err != nil {
		t.Fatal(err)
	}
	if got, err := q.GetDefaultPolicy(ctx); err != nil || got.ID != days.ID || got.RenewFraction != 0.25 ||
		got.DaysBeforeExpiry != 0 || !got.UpdatedAt.Equal(at(5)) {
		t.Errorf("the new default = %+v, %v", got, err)
	}
	if got, _ := q.GetPolicy(ctx, def.ID); got.IsDefault {
		t.Error("the old default is still the default")
	}

	items, more, err := q.ListPolicies(ctx, core.Page{Limit: 1})
	if err != nil || !more || len(items) != 1 || items[0].ID != def.ID {
		t.Errorf("first page = %+v, %v, %v", items, more, err)
	}

	// In use by a certificate: not deleted.
	iss := createIssuer(t, q, "ca")
	c := core.Certificate{ID: newID(t), Name: "www", CommonName: "www.example.com", SANs: []string{}, IssuerID: iss.ID,
		KeyType: "ecdsa-p256", KeyMode: core.KeyModeServer, RenewalPolicyID: &days.ID, Status: core.CertPending,
		Labels: map[string]string{}, CreatedAt: at(0), UpdatedAt: at(0)}
	if err := q.CreateCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "deleting a policy in use", q.DeletePolicy(ctx, days.ID), core.ECONFLICT)
	if err := q.DeletePolicy(ctx, def.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "deleting twice", q.DeletePolicy(ctx, def.ID), core.ENOTFOUND)
}
