package store_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
)

// TestIssuers: create, read by id and name, list by type a page at a
// time, update with the sealed fields, names unique, delete once.
func TestIssuers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	a, b := createIssuer(t, q, "a"), createIssuer(t, q, "b")
	c := core.Issuer{ID: newID(t), Name: "c", Type: "acme", Config: map[string]any{"directory_url": "https://ca"},
		Secret: core.Sealed{Fields: []string{"eab_hmac_key"}, Ciphertext: []byte{1, 2, 3}}, CreatedAt: at(0), UpdatedAt: at(0)}
	if err := q.CreateIssuer(ctx, c); err != nil {
		t.Fatal(err)
	}

	got, err := q.GetIssuer(ctx, c.ID)
	if err != nil || got.Name != "c" || got.Type != "acme" || got.Config["directory_url"] != "https://ca" ||
		len(got.Secret.Fields) != 1 || got.Secret.Fields[0] != "eab_hmac_key" || string(got.Secret.Ciphertext) != "\x01\x02\x03" {
		t.Errorf("GetIssuer = %+v, %v", got, err)
	}
	if got, err := q.GetIssuerByName(ctx, "b"); err != nil || got.ID != b.ID {
		t.Errorf("GetIssuerByName = %+v, %v", got, err)
	}
	_, err = q.GetIssuerByName(ctx, "nope")
	wantCode(t, "an unknown name", err, core.ENOTFOUND)
	err = q.CreateIssuer(ctx, core.Issuer{ID: newID(t), Name: "a", Type: "local", Config: map[string]any{}, CreatedAt: at(0), UpdatedAt: at(0)})
	wantCode(t, "a taken name", err, core.ECONFLICT)

	// Oldest first; the type filter.
	items, more, err := q.ListIssuers(ctx, core.IssuerFilter{Page: core.Page{Limit: 2}})
	if err != nil || !more || len(items) != 2 || items[0].ID != a.ID || items[1].ID != b.ID {
		t.Fatalf("first page = %+v, %v, %v", items, more, err)
	}
	items, more, err = q.ListIssuers(ctx, core.IssuerFilter{Page: core.Page{Limit: 2, After: &b.ID}})
	if err != nil || more || len(items) != 1 || items[0].ID != c.ID {
		t.Errorf("second page = %+v, %v, %v", items, more, err)
	}
	items, _, err = q.ListIssuers(ctx, core.IssuerFilter{Type: "local", Page: core.Page{Limit: 10}})
	if err != nil || len(items) != 2 || items[0].Type != "local" || items[1].Type != "local" {
		t.Errorf("local issuers = %+v, %v", items, err)
	}

	// Update: name, config and secrets change; the type does not.
	c.Name, c.Type, c.Config, c.Secret, c.UpdatedAt = "c2", "local", map[string]any{"x": 1.0}, core.Sealed{}, at(5)
	if err := q.UpdateIssuer(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err = q.GetIssuer(ctx, c.ID)
	if err != nil || got.Name != "c2" || got.Type != "acme" || got.Config["x"] != 1.0 || len(got.Secret.Fields) != 0 ||
		got.Secret.Ciphertext != nil || !got.UpdatedAt.Equal(at(5)) || !got.CreatedAt.Equal(at(0)) {
		t.Errorf("after UpdateIssuer = %+v, %v", got, err)
	}
	err = q.UpdateIssuer(ctx, core.Issuer{ID: uuid.New(), Name: "z"})
	wantCode(t, "updating an unknown issuer", err, core.ENOTFOUND)

	if err := q.DeleteIssuer(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "deleting twice", q.DeleteIssuer(ctx, a.ID), core.ENOTFOUND)
	_, err = q.GetIssuer(ctx, a.ID)
	wantCode(t, "a deleted issuer", err, core.ENOTFOUND)
}
