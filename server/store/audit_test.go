package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
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
