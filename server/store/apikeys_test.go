package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// TestAPIKeys: keys are found by id and by hash, counted, listed newest
// first a page at a time, revoked once, touched at most once a minute, and
// LockUsableAdminKeys returns only admin keys neither revoked nor expired.
func TestAPIKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	q := st.Q()
	expired := at(30)
	mk := func(name, role string, expires *time.Time) core.APIKey {
		t.Helper()
		k := core.APIKey{ID: newID(t), Name: name, Prefix: "cck_" + name, Role: role, ExpiresAt: expires, CreatedBy: "test",
			CreatedAt: at(0)}
		if err := q.CreateAPIKey(ctx, k, []byte("hash-"+name)); err != nil {
			t.Fatal(err)
		}
		return k
	}
	admin, old, viewer, admin2 := mk("admin", core.RoleAdmin, nil), mk("old", core.RoleAdmin, &expired),
		mk("viewer", core.RoleViewer, nil), mk("admin2", core.RoleAdmin, nil)

	if k, err := q.GetAPIKey(ctx, viewer.ID); err != nil || k.Name != "viewer" || k.Role != core.RoleViewer || k.Prefix != "cck_viewer" {
		t.Errorf("GetAPIKey = %+v, %v", k, err)
	}
	if k, err := q.GetAPIKeyByHash(ctx, []byte("hash-admin")); err != nil || k.ID != admin.ID {
		t.Errorf("GetAPIKeyByHash = %+v, %v", k, err)
	}
	_, err := q.GetAPIKeyByHash(ctx, []byte("nope"))
	wantCode(t, "an unknown hash", err, core.ENOTFOUND)
	err = q.CreateAPIKey(ctx, core.APIKey{ID: newID(t), Name: "dup", Prefix: "p", Role: core.RoleAdmin, CreatedAt: at(0)},
		[]byte("hash-admin"))
	wantCode(t, "a second key with the same hash", err, core.ECONFLICT)
	if n, err := q.CountAPIKeys(ctx); err != nil || n != 4 {
		t.Errorf("CountAPIKeys = %d, %v", n, err)
	}

	// Newest first, two at a time.
	page, more, err := q.ListAPIKeys(ctx, core.Page{Limit: 2})
	if err != nil || !more || len(page) != 2 || page[0].ID != admin2.ID || page[1].ID != viewer.ID {
		t.Fatalf("first page = %v, %v, %v", names(page), more, err)
	}
	page, more, err = q.ListAPIKeys(ctx, core.Page{Limit: 2, After: &page[1].ID})
	if err != nil || more || len(page) != 2 || page[0].ID != old.ID || page[1].ID != admin.ID {
		t.Errorf("second page = %v, %v, %v", names(page), more, err)
	}

	k, err := q.RevokeAPIKey(ctx, admin2.ID, at(10))
	if err != nil || k.RevokedAt == nil || !k.RevokedAt.Equal(at(10)) {
		t.Fatalf("RevokeAPIKey = %+v, %v", k, err)
	}
	if k, err = q.RevokeAPIKey(ctx, admin2.ID, at(20)); err != nil || !k.RevokedAt.Equal(at(10)) {
		t.Errorf("revoking again = %+v, %v; want the first time kept", k, err)
	}
	_, err = q.RevokeAPIKey(ctx, uuid.New(), at(10))
	wantCode(t, "revoking an unknown key", err, core.ENOTFOUND)

	touch := func(now time.Time, want time.Time) {
		t.Helper()
		if err := q.TouchAPIKey(ctx, viewer.ID, now); err != nil {
			t.Fatal(err)
		}
		k, err := q.GetAPIKey(ctx, viewer.ID)
		if err != nil || k.LastUsedAt == nil || !k.LastUsedAt.Equal(want) {
			t.Errorf("after touching at %s: last used %v, want %s (%v)", now, k.LastUsedAt, want, err)
		}
	}
	touch(at(1), at(1))
	touch(at(1).Add(59*time.Second), at(1)) // within the minute: no write
	touch(at(3), at(3))

	// At minute 40: admin usable, old expired, admin2 revoked, viewer no admin.
	var locked []uuid.UUID
	err = st.InTx(ctx, func(tx *store.Queries) error {
		var err error
		locked, err = tx.LockUsableAdminKeys(ctx, at(40))
		return err
	})
	if err != nil || !slices.Equal(locked, []uuid.UUID{admin.ID}) {
		t.Errorf("LockUsableAdminKeys = %v, %v; want only %s", locked, err, admin.ID)
	}
	// Before old expired, it is usable too.
	err = st.InTx(ctx, func(tx *store.Queries) error {
		var err error
		locked, err = tx.LockUsableAdminKeys(ctx, at(20))
		return err
	})
	if err != nil || !slices.Equal(locked, []uuid.UUID{admin.ID, old.ID}) {
		t.Errorf("LockUsableAdminKeys before the expiry = %v, %v", locked, err)
	}
}

func names(ks []core.APIKey) []string {
	var out []string
	for _, k := range ks {
		out = append(out, k.Name)
	}
	return out
}
