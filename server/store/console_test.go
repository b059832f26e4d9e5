package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// TestConsoleSessions: a session is found by its token's hash until it
// expires, with its API key; ending one twice is no error; the sweep
// removes only expired sessions.
func TestConsoleSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	key := core.APIKey{ID: newID(t), Name: "ops", Prefix: "cck_ops", Role: core.RoleOperator, CreatedBy: "test", CreatedAt: at(0)}
	if err := q.CreateAPIKey(ctx, key, []byte("key-hash")); err != nil {
		t.Fatal(err)
	}
	for i, expires := range []time.Time{at(30), at(10)} {
		s := store.ConsoleSession{APIKeyID: key.ID, CSRFToken: "csrf", CreatedAt: at(0), ExpiresAt: expires}
		if err := q.CreateConsoleSession(ctx, []byte{byte('a' + i)}, s); err != nil {
			t.Fatal(err)
		}
	}
	s, k, err := q.GetConsoleSession(ctx, []byte("a"), at(5))
	if err != nil || s.APIKeyID != key.ID || s.CSRFToken != "csrf" || !s.ExpiresAt.Equal(at(30)) || k.Name != "ops" ||
		k.Role != core.RoleOperator {
		t.Errorf("GetConsoleSession = %+v, %+v, %v", s, k, err)
	}
	_, _, err = q.GetConsoleSession(ctx, []byte("b"), at(10))
	wantCode(t, "an expired session", err, core.ENOTFOUND)

	if n, err := q.DeleteExpiredConsoleSessions(ctx, at(10)); err != nil || n != 1 {
		t.Errorf("DeleteExpiredConsoleSessions = %d, %v; want only b", n, err)
	}
	if err := q.DeleteConsoleSession(ctx, []byte("a")); err != nil {
		t.Fatal(err)
	}
	if err := q.DeleteConsoleSession(ctx, []byte("a")); err != nil {
		t.Errorf("ending a session twice: %v", err)
	}
	_, _, err = q.GetConsoleSession(ctx, []byte("a"), at(5))
	wantCode(t, "an ended session", err, core.ENOTFOUND)
}

// TestListCertificatesSorted: keyset pages by name, by expiry (never
// issued last) and by id walk every certificate once, in order; search
// matches a prefix of the name or common name; counts by status.
func TestListCertificatesSorted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	iss := createIssuer(t, q, "ca")
	// Names out of creation order; two expire at the same time.
	expiry := map[string]time.Time{"delta": at(40), "alpha": at(20), "charlie": at(20), "bravo": at(50)}
	for _, name := range []string{"delta", "alpha", "echo", "charlie", "bravo"} {
		c := createCertificate(t, q, name, iss.ID)
		if end, ok := expiry[name]; ok {
			v := createVersion(t, q, c, name, end)
			if err := q.MakeVersionCurrent(ctx, c.ID, v.ID, end, end, at(0)); err != nil {
				t.Fatal(err)
			}
		}
	}
	walk := func(sort string) []string {
		t.Helper()
		var out []string
		f := store.SortedCertificateFilter{Sort: sort, Limit: 2}
		for range 10 {
			page, more, err := q.ListCertificatesSorted(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page {
				out = append(out, c.Name)
			}
			if !more {
				return out
			}
			last := page[len(page)-1]
			f.After = &store.CertificateCursor{ID: last.ID, Name: last.Name, NotAfter: last.NotAfter}
		}
		t.Fatalf("%s: pages without end", sort)
		return nil
	}
	if got := walk(store.SortName); !slices.Equal(got, []string{"alpha", "bravo", "charlie", "delta", "echo"}) {
		t.Errorf("by name: %v", got)
	}
	if got := walk(store.SortExpiry); !slices.Equal(got, []string{"alpha", "charlie", "delta", "bravo", "echo"}) {
		t.Errorf("by expiry: %v", got)
	}
	if got := walk(store.SortID); !slices.Equal(got, []string{"delta", "alpha", "echo", "charlie", "bravo"}) {
		t.Errorf("by id: %v", got)
	}
	found, _, err := q.ListCertificatesSorted(ctx, store.SortedCertificateFilter{Search: "ch", Sort: store.SortName})
	if err != nil || len(found) != 1 || found[0].Name != "charlie" {
		t.Errorf("search ch = %v, %v", found, err)
	}
	found, _, err = q.ListCertificatesSorted(ctx, store.SortedCertificateFilter{Search: "bravo.example", Sort: store.SortName})
	if err != nil || len(found) != 1 || found[0].Name != "bravo" {
		t.Errorf("search by common name = %v, %v", found, err)
	}
	_, _, err = q.ListCertificatesSorted(ctx, store.SortedCertificateFilter{Sort: "size"})
	wantCode(t, "an unknown sort", err, core.EINVALID)

	counts, err := q.CountByStatus(ctx, "managed_certificates")
	if err != nil || counts[core.CertActive] != 4 || counts[core.CertPending] != 1 {
		t.Errorf("CountByStatus = %v, %v", counts, err)
	}
	_, err = q.CountByStatus(ctx, "api_keys")
	wantCode(t, "counting another table", err, core.EINTERNAL)
}
