package store_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// TestSealedColumns: for every column of SealedColumns, ListSealed pages
// through the rows holding a sealed value (rows without one are skipped),
// LockSealed reads one row's, and SetSealed replaces it and nothing else
// (a job's payload keeps its other fields).
func TestSealedColumns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	q := st.Q()
	iss := createIssuer(t, q, "plain") // no sealed value
	cert := createCertificate(t, q, "www", iss.ID)

	// Two rows with a sealed value in each column.
	rows := map[string][]uuid.UUID{}
	for i := range 2 {
		sealed := []byte{byte('a' + i), 0, byte(i)}
		n := string(rune('a' + i))
		is := core.Issuer{ID: newID(t), Name: "iss-" + n, Type: "local", Config: map[string]any{},
			Secret: core.Sealed{Fields: []string{"k"}, Ciphertext: sealed}, CreatedAt: at(0), UpdatedAt: at(0)}
		tg := core.Target{ID: newID(t), Name: "tg-" + n, Type: "nginx", Config: map[string]any{},
			Secret: core.Sealed{Fields: []string{"k"}, Ciphertext: sealed}, CreatedAt: at(0), UpdatedAt: at(0)}
		nf := core.Notifier{ID: newID(t), Name: "nf-" + n, Type: "webhook", Config: map[string]any{},
			Secret: core.Sealed{Fields: []string{"k"}, Ciphertext: sealed}, CreatedAt: at(0), UpdatedAt: at(0)}
		if err := q.CreateIssuer(ctx, is); err != nil {
			t.Fatal(err)
		}
		if err := q.CreateTarget(ctx, tg); err != nil {
			t.Fatal(err)
		}
		if err := q.CreateNotifier(ctx, nf); err != nil {
			t.Fatal(err)
		}
		v := core.CertificateVersion{ID: newID(t), CertificateID: cert.ID, SerialNumber: "0" + n, FingerprintSHA256: n,
			SANs: []string{}, NotBefore: at(0), NotAfter: at(59), IssuerID: &iss.ID, Status: core.VersionSuperseded, CreatedAt: at(0)}
		if err := q.CreateVersion(ctx, v, "", sealed); err != nil {
			t.Fatal(err)
		}
		jobID := newID(t)
		payload, _ := json.Marshal(map[string]any{"order_id": "order-" + n, "sealed_key": sealed})
		if _, err := q.Raw().Exec(ctx, `INSERT INTO jobs (id, kind, state, certificate_id, payload, run_at, created_at, updated_at)
			VALUES ($1, 'issue', 'succeeded', $2, $3, $4, $4, $4)`, jobID, cert.ID, payload, at(0)); err != nil {
			t.Fatal(err)
		}
		for table, id := range map[string]uuid.UUID{"issuers": is.ID, "targets": tg.ID, "notifiers": nf.ID,
			"certificate_versions": v.ID, "jobs": jobID} {
			rows[table] = append(rows[table], id)
		}
	}
	createVersion(t, q, cert, "ff", at(59)) // no sealed key

	if len(store.SealedColumns) != len(rows) {
		t.Fatalf("SealedColumns has %d columns, the test fills %d: a new column needs rows here", len(store.SealedColumns), len(rows))
	}
	for _, c := range store.SealedColumns {
		ids := rows[c.Table]
		first, err := q.ListSealed(ctx, c, uuid.Nil, 1)
		if err != nil || len(first) != 1 || first[0].ID != ids[0] || string(first[0].Sealed) != "a\x00\x00" {
			t.Fatalf("%s: first page = %+v, %v", c.Table, first, err)
		}
		rest, err := q.ListSealed(ctx, c, first[0].ID, 10)
		if err != nil || len(rest) != 1 || rest[0].ID != ids[1] || string(rest[0].Sealed) != "b\x00\x01" {
			t.Errorf("%s: second page = %+v, %v; want only the other sealed row", c.Table, rest, err)
		}

		err = st.InTx(ctx, func(tx *store.Queries) error {
			sealed, found, err := tx.LockSealed(ctx, c, ids[1])
			if err != nil || !found || string(sealed) != "b\x00\x01" {
				t.Errorf("%s: LockSealed = %q, %v, %v", c.Table, sealed, found, err)
			}
			return tx.SetSealed(ctx, c, ids[1], []byte("resealed"))
		})
		if err != nil {
			t.Fatalf("%s: %v", c.Table, err)
		}
		if sealed, found, err := q.LockSealed(ctx, c, ids[1]); err != nil || !found || string(sealed) != "resealed" {
			t.Errorf("%s: after SetSealed = %q, %v, %v", c.Table, sealed, found, err)
		}
		if _, found, err := q.LockSealed(ctx, c, uuid.New()); err != nil || found {
			t.Errorf("%s: LockSealed of no row = %v, %v", c.Table, found, err)
		}
	}
	var order string
	if err := q.Raw().QueryRow(ctx, `SELECT payload->>'order_id' FROM jobs WHERE id = $1`, rows["jobs"][1]).Scan(&order); err != nil ||
		order != "order-b" {
		t.Errorf("the job's payload after SetSealed: order_id %q, %v", order, err)
	}
	if is, err := q.GetIssuer(ctx, rows["issuers"][1]); err != nil || is.Name != "iss-b" || len(is.Secret.Fields) != 1 {
		t.Errorf("the issuer after SetSealed = %+v, %v", is, err)
	}
}
