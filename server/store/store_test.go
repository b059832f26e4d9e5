package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// TestInTx: a transaction is committed when its function returns nil and
// rolled back when it fails or panics.
func TestInTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	q := st.Q()
	put := func(tx *store.Queries, v int) {
		t.Helper()
		if err := tx.PutSetting(ctx, "n", v, at(v)); err != nil {
			t.Fatal(err)
		}
	}
	read := func() int {
		t.Helper()
		var n int
		if _, err := q.GetSetting(ctx, "n", &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := st.InTx(ctx, func(tx *store.Queries) error { put(tx, 1); return nil }); err != nil || read() != 1 {
		t.Fatalf("a committed transaction: %v, n = %d", err, read())
	}
	boom := errors.New("boom")
	if err := st.InTx(ctx, func(tx *store.Queries) error { put(tx, 2); return boom }); !errors.Is(err, boom) || read() != 1 {
		t.Errorf("a failed transaction: %v, n = %d; want its error and n unchanged", err, read())
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic did not come through")
			}
		}()
		_ = st.InTx(ctx, func(tx *store.Queries) error { put(tx, 3); panic("oops") })
	}()
	if read() != 1 {
		t.Errorf("after a panicking transaction n = %d, want 1", read())
	}
	// The pool still works: the rolled-back connections went back clean.
	if err := st.InTx(ctx, func(tx *store.Queries) error { put(tx, 4); return nil }); err != nil || read() != 4 {
		t.Errorf("a transaction after the failures: %v, n = %d", err, read())
	}
}

// TestErrorMapping: what the database refuses comes back as a core error
// with a code a client can act on, naming what was refused.
func TestErrorMapping(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	createIssuer(t, q, "ca")
	err := q.CreateIssuer(ctx, core.Issuer{ID: newID(t), Name: "ca", Type: "local", Config: map[string]any{}, CreatedAt: at(0), UpdatedAt: at(0)})
	wantCode(t, "unique", err, core.ECONFLICT)
	if err == nil || !strings.Contains(err.Error(), "issuer already exists (name is taken)") {
		t.Errorf("unique violation message: %v", err)
	}
	_, err = q.GetIssuerByName(ctx, "nope")
	wantCode(t, "no rows", err, core.ENOTFOUND)
	err = createCertificateErr(q, "www")
	wantCode(t, "foreign key", err, core.ECONFLICT)
	if store.Unavailable(err) {
		t.Error("a refused statement reads as the database being unavailable")
	}
}

// createCertificateErr inserts a certificate whose issuer does not exist.
func createCertificateErr(q *store.Queries, name string) error {
	return q.CreateCertificate(context.Background(), core.Certificate{Name: name, CommonName: name, SANs: []string{},
		KeyType: "ecdsa-p256", KeyMode: core.KeyModeServer, Status: core.CertPending, Labels: map[string]string{},
		CreatedAt: at(0), UpdatedAt: at(0)})
}
