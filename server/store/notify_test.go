package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/db"
	"github.com/certctl/certctl/server/store"
)

// A transaction's triggers do not notify inside it (that would serialize
// commits on NOTIFY's database-wide lock): they remember, and InTx sends
// each notification once, after the commit. A transaction rolled back
// sends nothing; outside InTx the triggers notify as before.
func TestInTxNotifiesAfterCommit(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	url := apitest.NewDatabase(t)
	pool, err := db.Open(ctx, url, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	st := store.New(pool)

	listener, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close(context.Background())
	for _, ch := range []string{"server_jobs", "agent_work"} {
		if _, err := listener.Exec(ctx, "LISTEN "+ch); err != nil {
			t.Fatal(err)
		}
	}

	now := time.Now()
	job := func() core.Job {
		return core.Job{ID: uuid.Must(uuid.NewV7()), Kind: core.JobNotify, State: core.JobQueued, MaxAttempts: 3,
			RunAt: now, CreatedAt: now, UpdatedAt: now}
	}
	// Two queued jobs (two identical server_jobs announcements, folded
	// into one) and an explicit announcement, in one transaction.
	err = st.InTx(ctx, func(q *store.Queries) error {
		for range 2 {
			if err := q.InsertJob(ctx, job()); err != nil {
				return err
			}
		}
		if _, err := pool.Exec(ctx, `SELECT 1`); err != nil { // another session meanwhile: nothing to see yet
			return err
		}
		var pending string
		if err := q.Raw().QueryRow(ctx, `SELECT certctl_notify('agent_work', 'one'),
			coalesce(current_setting('certctl.deferred_notify', true), '')`).Scan(nil, &pending); err != nil {
			return err
		}
		if !strings.Contains(pending, "server_jobs") {
			t.Errorf("inside the transaction the triggers' notifications are not remembered: %q", pending)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Rolled back: nothing is sent.
	rollback := errors.New("roll back")
	err = st.InTx(ctx, func(q *store.Queries) error {
		if err := q.InsertJob(ctx, job()); err != nil {
			return err
		}
		_, err := q.Raw().Exec(ctx, `SELECT certctl_notify('agent_work', 'rolled back')`)
		if err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatalf("InTx: %v, want the rollback", err)
	}
	// Outside a transaction the function notifies at once; this one also
	// marks the end of what this test waits for.
	if _, err := pool.Exec(ctx, `SELECT certctl_notify('agent_work', 'end')`); err != nil {
		t.Fatal(err)
	}

	var got []string
	for {
		n, err := listener.WaitForNotification(ctx)
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		got = append(got, n.Channel+":"+n.Payload)
		if n.Payload == "end" {
			break
		}
	}
	want := []string{"server_jobs:", "agent_work:one", "agent_work:end"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("notifications %q, want %q", got, want)
	}
}

// A transaction's notifications go out on its own connection: with every
// other connection of the pool taken, they are still sent (taking a second
// connection for them once held the whole pool in a burst, and dropped
// them after a timeout).
func TestInTxNotifiesWithThePoolFull(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	url := apitest.NewDatabase(t)
	pool, err := db.Open(ctx, url, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	st := store.New(pool)
	listener, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close(context.Background())
	if _, err := listener.Exec(ctx, "LISTEN agent_work"); err != nil {
		t.Fatal(err)
	}
	held, err := pool.Acquire(ctx) // the pool's other connection, busy elsewhere
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	err = st.InTx(ctx, func(q *store.Queries) error {
		_, err := q.Raw().Exec(ctx, `SELECT certctl_notify('agent_work', 'full')`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := held.Exec(ctx, `SELECT certctl_notify('agent_work', 'end')`); err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		n, err := listener.WaitForNotification(ctx)
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		got = append(got, n.Payload)
		if n.Payload == "end" {
			break
		}
	}
	if strings.Join(got, " ") != "full end" {
		t.Fatalf("notifications %q, want [full end]: the transaction's was lost", got)
	}
}

// A transaction is committed only when all of it succeeded: one whose
// statement failed (the error swallowed by fn) or whose fn panicked
// leaves nothing behind, and the pool goes on working.
func TestInTxCommitsOnlyWhatSucceeded(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pool, err := db.Open(ctx, apitest.NewDatabase(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	st := store.New(pool)
	count := func() int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM jobs`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	now := time.Now()
	job := core.Job{ID: uuid.Must(uuid.NewV7()), Kind: core.JobNotify, State: core.JobQueued, MaxAttempts: 3,
		RunAt: now, CreatedAt: now, UpdatedAt: now}

	err = st.InTx(ctx, func(q *store.Queries) error {
		if err := q.InsertJob(ctx, job); err != nil {
			return err
		}
		_, _ = q.Raw().Exec(ctx, `SELECT 1/0`) // fails; the error is dropped
		return nil
	})
	if err == nil {
		t.Fatal("a transaction with a failed statement was committed")
	}
	func() {
		defer func() { _ = recover() }()
		_ = st.InTx(ctx, func(q *store.Queries) error {
			if err := q.InsertJob(ctx, job); err != nil {
				return err
			}
			panic("in the middle")
		})
	}()
	if n := count(); n != 0 {
		t.Fatalf("%d jobs after two failed transactions, want none", n)
	}
	for range 3 { // more transactions than the pool has connections
		if err := st.InTx(ctx, func(q *store.Queries) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.InTx(ctx, func(q *store.Queries) error { return q.InsertJob(ctx, job) }); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d jobs, want the one committed", n)
	}
}
