package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/db"
	"github.com/certctl/certctl/server/store"
)

func TestUnavailable(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&pgconn.PgError{Code: "57P01"}, true}, // terminated by an administrator
		{&pgconn.PgError{Code: "57P03"}, true}, // cannot connect now (recovery)
		{&pgconn.PgError{Code: "08006"}, true}, // connection failure
		{&pgconn.PgError{Code: "53300"}, true}, // too many connections
		{&pgconn.PgError{Code: "23505"}, false},
		{&pgconn.PgError{Code: "22021"}, false}, // a value the database refuses: writing it again fails again
		{fmt.Errorf("store: audit event: %w", io.ErrUnexpectedEOF), true},
		{fmt.Errorf("store: audit event: %w", context.DeadlineExceeded), true},
		{errors.New("cannot encode"), false},
	} {
		if got := store.Unavailable(c.err); got != c.want {
			t.Errorf("Unavailable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// Events written again after a write whose outcome was unknown are
// recorded once, in order.
func TestAppendAuditsOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := db.Open(ctx, apitest.NewDatabase(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	st := store.New(pool)
	at := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	var evs []core.AuditEvent
	for i := range 3 {
		evs = append(evs, core.AuditEvent{ID: uuid.Must(uuid.NewV7()), OccurredAt: at.Add(time.Duration(i) * time.Second),
			Actor: "system", ActorType: core.ActorSystem, Action: "test.event", ResourceType: "test", Outcome: core.OutcomeFailure})
	}
	if err := st.AppendAuditsOnce(ctx, evs[:2]); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendAuditsOnce(ctx, evs); err != nil {
		t.Fatal(err)
	}
	got, _, err := st.Q().ListAudit(ctx, core.AuditFilter{Action: "test.event"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d events, want 3", len(got))
	}
	for i, e := range got { // newest first
		if e.ID != evs[2-i].ID || !e.OccurredAt.Equal(evs[2-i].OccurredAt) {
			t.Errorf("event %d = %s at %s, want %s at %s", i, e.ID, e.OccurredAt, evs[2-i].ID, evs[2-i].OccurredAt)
		}
	}
}

// TestListAudit: the trail lists newest first, a page at a time, and each
// filter selects its events; an event keeps its details.
func TestListAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	var ids []uuid.UUID
	for i, e := range []core.AuditEvent{
		{Actor: "key:a", Action: "issuer.create", ResourceType: "issuer", ResourceID: "i1", Outcome: core.OutcomeSuccess},
		{Actor: "key:b", Action: "issuer.delete", ResourceType: "issuer", ResourceID: "i1", Outcome: core.OutcomeDenied},
		{Actor: "system", Action: "job.failed", ResourceType: "job", ResourceID: "j1", Outcome: core.OutcomeFailure},
	} {
		e.ID, e.OccurredAt, e.ActorType, e.ActorName, e.RequestID = newID(t), at(i), "api_key", "n", "r"
		e.Details = map[string]any{"n": float64(i)}
		if err := q.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	list := func(f core.AuditFilter) []uuid.UUID {
		t.Helper()
		if f.Limit == 0 {
			f.Limit = 10
		}
		items, _, err := q.ListAudit(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []uuid.UUID
		for _, e := range items {
			out = append(out, e.ID)
		}
		return out
	}
	since, until := at(1), at(2)
	for _, tt := range []struct {
		what string
		f    core.AuditFilter
		want []uuid.UUID
	}{
		{"all", core.AuditFilter{}, []uuid.UUID{ids[2], ids[1], ids[0]}},
		{"actor", core.AuditFilter{Actor: "key:a"}, []uuid.UUID{ids[0]}},
		{"action", core.AuditFilter{Action: "issuer.delete"}, []uuid.UUID{ids[1]}},
		{"resource", core.AuditFilter{ResourceType: "issuer", ResourceID: "i1"}, []uuid.UUID{ids[1], ids[0]}},
		{"outcome", core.AuditFilter{Outcome: core.OutcomeFailure}, []uuid.UUID{ids[2]}},
		{"since", core.AuditFilter{Since: &since}, []uuid.UUID{ids[2], ids[1]}},
		{"until", core.AuditFilter{Until: &until}, []uuid.UUID{ids[1], ids[0]}},
		{"since and until", core.AuditFilter{Since: &since, Until: &until}, []uuid.UUID{ids[1]}},
	} {
		if got := list(tt.f); !slices.Equal(got, tt.want) {
			t.Errorf("ListAudit %s = %v, want %v", tt.what, got, tt.want)
		}
	}
	page, more, err := q.ListAudit(ctx, core.AuditFilter{Page: core.Page{Limit: 2}})
	if err != nil || !more || len(page) != 2 || page[0].Details["n"] != float64(2) || page[0].Actor != "system" {
		t.Errorf("first page = %+v, %v, %v", page, more, err)
	}
	page, more, _ = q.ListAudit(ctx, core.AuditFilter{Page: core.Page{Limit: 2, After: &page[1].ID}})
	if more || len(page) != 1 || page[0].ID != ids[0] {
		t.Errorf("second page = %+v, %v", page, more)
	}
}
