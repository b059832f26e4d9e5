package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/store"
)

// TestCRLs: an issuer's CRL is stored once, replaced only from the number
// it was read at (another server's newer CRL wins), marked dirty by a
// revocation; RevokedVersions lists the issuer's revoked, unexpired
// versions in revocation order, and RevokeVersion keeps the first
// revocation.
func TestCRLs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	iss, other := createIssuer(t, q, "ca"), createIssuer(t, q, "other")

	if _, found, err := q.GetCRL(ctx, iss.ID); err != nil || found {
		t.Fatalf("GetCRL before any = %v, %v", found, err)
	}
	first := store.CRL{IssuerID: iss.ID, Number: 1, ThisUpdate: at(0), NextUpdate: at(0).Add(24 * time.Hour), DER: []byte{1}, Entries: 0}
	if err := q.SaveCRL(ctx, first, 0, false); err != nil {
		t.Fatal(err)
	}
	// A second "first" CRL (another server signed one at the same time) is dropped.
	if err := q.SaveCRL(ctx, store.CRL{IssuerID: iss.ID, Number: 1, DER: []byte{9}, ThisUpdate: at(1), NextUpdate: at(2)}, 0, false); err != nil {
		t.Fatal(err)
	}
	c, found, err := q.GetCRL(ctx, iss.ID)
	if err != nil || !found || c.Number != 1 || string(c.DER) != "\x01" || c.Dirty || !c.NextUpdate.Equal(first.NextUpdate) {
		t.Fatalf("GetCRL = %+v, %v, %v", c, found, err)
	}

	if err := q.MarkCRLDirty(ctx, iss.ID); err != nil {
		t.Fatal(err)
	}
	if c, _, _ = q.GetCRL(ctx, iss.ID); !c.Dirty {
		t.Error("MarkCRLDirty left the CRL clean")
	}
	// Replacing from number 1 works and cleans it; a stale replace (from 1 again) does not.
	second := store.CRL{IssuerID: iss.ID, Number: 2, ThisUpdate: at(5), NextUpdate: at(6), DER: []byte{2}, Entries: 1}
	if err := q.SaveCRL(ctx, second, 1, true); err != nil {
		t.Fatal(err)
	}
	if err := q.SaveCRL(ctx, store.CRL{IssuerID: iss.ID, Number: 2, DER: []byte{7}, ThisUpdate: at(5), NextUpdate: at(6)}, 1, true); err != nil {
		t.Fatal(err)
	}
	if c, _, _ = q.GetCRL(ctx, iss.ID); c.Number != 2 || string(c.DER) != "\x02" || c.Dirty || c.Entries != 1 {
		t.Errorf("after replacing = %+v", c)
	}
	if _, found, _ := q.GetCRL(ctx, other.ID); found {
		t.Error("another issuer has the CRL")
	}

	cert := createCertificate(t, q, "www", iss.ID)
	expiring := createVersion(t, q, cert, "0a", at(50))
	live := createVersion(t, q, cert, "0b", at(0).Add(90*24*time.Hour))
	later := createVersion(t, q, cert, "0c", at(0).Add(90*24*time.Hour))
	createVersion(t, q, cert, "0d", at(0).Add(90*24*time.Hour)) // not revoked
	otherCert := createCertificate(t, q, "api", other.ID)
	otherV := createVersion(t, q, otherCert, "0e", at(0).Add(90*24*time.Hour))
	for _, r := range []struct {
		id     uuid.UUID
		reason string
		when   time.Time
	}{{later.ID, "superseded", at(20)}, {live.ID, "keyCompromise", at(10)}, {expiring.ID, "", at(5)}, {otherV.ID, "", at(5)}} {
		if err := q.RevokeVersion(ctx, r.id, r.reason, r.when); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.RevokeVersion(ctx, live.ID, "cessationOfOperation", at(30)); err != nil {
		t.Fatal(err)
	}
	got, err := q.RevokedVersions(ctx, iss.ID, at(55))
	if err != nil || len(got) != 2 {
		t.Fatalf("RevokedVersions = %+v, %v", got, err)
	}
	if got[0].SerialNumber != "0b" || got[0].Reason != "keyCompromise" || !got[0].RevokedAt.Equal(at(10)) ||
		got[1].SerialNumber != "0c" || got[1].Reason != "superseded" {
		t.Errorf("RevokedVersions = %+v; want 0b (the first revocation kept) then 0c, without the expired 0a", got)
	}
	if got, _ := q.RevokedVersions(ctx, iss.ID, at(40)); len(got) != 3 || got[0].SerialNumber != "0a" {
		t.Errorf("before 0a expires: %+v", got)
	}
}
