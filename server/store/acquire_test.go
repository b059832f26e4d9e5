package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/db"
	"github.com/certctl/certctl/server/store"
)

// newStoreOfOne is a store whose pool has a single connection, so that a
// test can hold all of it.
func newStoreOfOne(t *testing.T) *store.Store {
	t.Helper()
	pool, err := db.Open(context.Background(), apitest.NewDatabase(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return store.New(pool)
}

// TestQWithin: a connection is had within the wait when one is free, and
// its queries are not bound by that wait; when none frees up in time the
// answer is "unavailable" (the client is told to come back), and the
// connection given back with release serves the next caller.
func TestQWithin(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st := newStoreOfOne(t)

	q, release, err := st.QWithin(ctx, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	// Should release not give the connection back, the pool's Close would
	// wait for it forever: give it back directly at the end (Release is
	// idempotent), so that the test fails instead of hanging.
	if conn, ok := q.Raw().(*pgxpool.Conn); ok {
		t.Cleanup(conn.Release)
	} else {
		t.Fatalf("QWithin's queries run on %T, want a pooled connection", q.Raw())
	}
	// A query longer than the wait for the connection: only ctx bounds it.
	if _, err := q.Raw().Exec(ctx, `SELECT pg_sleep(0.5)`); err != nil {
		t.Errorf("a query longer than the acquisition wait: %v", err)
	}
	if _, err := q.GetJob(ctx, newID(t)); err == nil {
		t.Error("GetJob of a missing job succeeded")
	} else {
		wantCode(t, "GetJob on the acquired connection", err, core.ENOTFOUND)
	}

	// The only connection is held: the next caller is turned away.
	if _, _, err := st.QWithin(ctx, 100*time.Millisecond); err == nil {
		t.Fatal("QWithin of a full pool succeeded")
	} else {
		wantCode(t, "QWithin of a full pool", err, core.EUNAVAILABLE)
	}

	release()
	q2, release2, err := st.QWithin(ctx, 10*time.Second)
	if err != nil {
		t.Fatalf("QWithin after the release: %v", err)
	}
	defer release2()
	var one int
	if err := q2.Raw().QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Errorf("a query on the connection given back = %d, %v", one, err)
	}
}

// TestQWithinCallerGone: when the caller's own context ends while it
// waits, the error is the caller's (cancelled, or its deadline), not
// "unavailable": the server is not the one that gave up.
func TestQWithinCallerGone(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st := newStoreOfOne(t)
	_, release, err := st.QWithin(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer release()

	cancelled, cancelNow := context.WithCancel(ctx)
	cancelNow()
	expired, cancelExpired := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancelExpired()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"cancelled", cancelled, context.Canceled},
		{"past its deadline", expired, context.DeadlineExceeded},
	} {
		_, _, err := st.QWithin(tc.ctx, time.Minute)
		var ce *core.Error
		if !errors.Is(err, tc.want) || errors.As(err, &ce) {
			t.Errorf("a caller %s: QWithin = %v, want its own %v and no core error", tc.name, err, tc.want)
		}
	}
}
