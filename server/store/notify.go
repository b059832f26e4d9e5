package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Notifications of a write transaction are sent after its commit, not in
// it (migration 00009). PostgreSQL's NOTIFY holds one lock for the whole
// database from the commit until the commit is on disk, so transactions
// that announce something (every job inserted or ended does, through the
// triggers) would commit one at a time, each waiting for its own flush;
// with the announcements sent afterwards, in a transaction that waits for
// no flush, concurrent commits share flushes again.

// beginDeferringNotify starts a transaction whose triggers remember their
// notifications (certctl_notify) instead of sending them. (A statement
// without arguments goes over the simple protocol, which takes several.)
const beginDeferringNotify = `BEGIN; SET LOCAL certctl.defer_notify = on`

// deferredNotifySQL reads what the transaction's triggers remembered:
// channel and payload joined by chr(31), notifications by chr(30).
const deferredNotifySQL = `SELECT coalesce(current_setting('certctl.deferred_notify', true), '')`

// sendNotifyTimeout bounds sending the notifications of a committed
// transaction.
const sendNotifyTimeout = 5 * time.Second

// sendDeferred sends the notifications a committed transaction remembered,
// in one transaction that does not wait for its commit to reach the disk
// (it changes nothing that must survive a crash: the announcements are
// hints, and every listener also re-checks on a timer), in one round trip:
// the statements go as one simple-protocol query, so the values are
// literals. A failure is therefore not the caller's: its transaction
// committed. The lost announcements only delay whoever waited for them
// until its next check.
//
// It runs on the connection that committed, before that goes back to the
// pool: taking a second connection while holding the first let a burst of
// transactions hold the whole pool, each waiting for another's connection
// until its timeout, and their notifications were dropped.
func sendDeferred(ctx context.Context, conn *pgxpool.Conn, deferred string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendNotifyTimeout)
	defer cancel()
	var sql strings.Builder
	sql.WriteString("BEGIN; SET LOCAL synchronous_commit = off; SELECT ")
	for i, n := range strings.Split(deferred, "\x1e") {
		channel, payload, _ := strings.Cut(n, "\x1f")
		if i > 0 {
			sql.WriteString(", ")
		}
		fmt.Fprintf(&sql, "pg_notify(%s, %s)", quoteLiteral(channel), quoteLiteral(payload))
	}
	sql.WriteString("; COMMIT")
	// On failure, a connection left inside the failed transaction is not
	// reused: the pool closes connections that come back not idle.
	_, _ = conn.Exec(ctx, sql.String())
}

// quoteLiteral makes s a string literal (standard_conforming_strings is
// on, so only quotes are doubled; PostgreSQL text holds no NUL).
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, "\x00", ""), "'", "''") + "'"
}
