package httpapi_test

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/httpapi"
)

// retries is a slog handler that hands over the delay of each retry the
// SDK client logs.
type retries chan time.Duration

func (r retries) Enabled(context.Context, slog.Level) bool { return true }
func (r retries) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r retries) WithGroup(string) slog.Handler            { return r }
func (r retries) Handle(_ context.Context, rec slog.Record) error {
	if rec.Message != "certctl request retrying" {
		return nil
	}
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "delay" {
			r <- a.Value.Duration()
		}
		return true
	})
	return nil
}

// Past the bound of agent requests at once, an agent request is answered
// 429 with Retry-After before anything is done; the agent's client (the
// SDK's, as the agent configures it) waits that long and sends it again,
// and it succeeds once there is room.
func TestAgentRequestsShedAndRetried(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{AgentMaxInflight: 1})
	_, busy := enroll(t, env, "busy")
	_, shed := enroll(t, env, "shed")
	ctx := context.Background()

	// busy's poll holds the only place: its query waits for a lock.
	tx, err := env.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after the commit, nothing to undo
	if _, err := tx.Exec(ctx, `LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	polled := make(chan apitest.Response, 1)
	go func() { polled <- env.Do(t, "GET", "/api/v1/agent/work", busy, nil) }()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var n int
		if err := env.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the poll does not wait for the lock")
		}
	}

	// Another agent is refused at once, told when to come back.
	r := env.Do(t, "POST", "/api/v1/agent/heartbeat", shed, api.AgentFacts{OS: "linux"})
	after, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if r.Status != 429 || r.ErrorCode() != core.EUNAVAILABLE || err != nil || after < 1 || after > 3 {
		t.Fatalf("heartbeat past the bound: %d %s, Retry-After %q; want 429 with 1 to 3 s", r.Status, r.Body, r.Header.Get("Retry-After"))
	}

	// The agent's client retries after Retry-After, and succeeds once
	// the poll is done.
	waits := make(retries, 10)
	c, err := client.New(env.URL, client.WithAPIKey(shed), client.WithHTTPClient(env.Client), client.WithLogger(slog.New(waits)))
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		res *api.AgentHeartbeatResponse
		err error
	}
	beat := make(chan result, 1)
	go func() {
		res, err := c.Heartbeat(ctx, api.AgentFacts{OS: "linux", Hostname: "shed"})
		beat <- result{res, err}
	}()
	select {
	case d := <-waits:
		if d != time.Second && d != 2*time.Second && d != 3*time.Second {
			t.Errorf("the client waits %s, not the server's Retry-After (1 to 3 s)", d)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the client did not retry")
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-polled; r.Status != 200 {
		t.Fatalf("busy's poll: %d %s", r.Status, r.Body)
	}
	b := <-beat
	if b.err != nil || b.res.Agent.Name != "shed" {
		t.Fatalf("heartbeat through the client: %+v, %v", b.res, b.err)
	}
}

// Within the queue's bound an agent request past the bound of requests at
// once is not refused: it waits its turn and is served once a place
// frees, with no Retry-After and nothing for the agent to send again.
func TestAgentRequestQueuedThenServed(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{AgentMaxInflight: 1})
	_, busy := enroll(t, env, "busy")
	_, queued := enroll(t, env, "queued")
	ctx := context.Background()

	// busy's poll holds the only place: its query waits for a lock.
	tx, err := env.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after the commit, nothing to undo
	if _, err := tx.Exec(ctx, `LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	polled := make(chan apitest.Response, 1)
	go func() { polled <- env.Do(t, "GET", "/api/v1/agent/work", busy, nil) }()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var n int
		if err := env.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the poll does not wait for the lock")
		}
	}

	// The heartbeat waits in the queue (one place, so it cannot be served yet)...
	beat := make(chan apitest.Response, 1)
	go func() {
		beat <- env.Do(t, "POST", "/api/v1/agent/heartbeat", queued, api.AgentFacts{OS: "linux", Hostname: "queued"})
	}()
	for deadline := time.Now().Add(20 * time.Second); httpapi.AgentRequestsQueued(env.Handler) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the heartbeat is not queued")
		}
	}
	select {
	case r := <-beat:
		t.Fatalf("the heartbeat was answered while the only place was taken: %d %s", r.Status, r.Body)
	default:
	}
	// ...and is served once the poll gives its place up.
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-polled; r.Status != 200 {
		t.Fatalf("busy's poll: %d %s", r.Status, r.Body)
	}
	r := <-beat
	var hb api.AgentHeartbeatResponse
	if r.Status != 200 || r.Header.Get("Retry-After") != "" {
		t.Fatalf("queued heartbeat: %d %s (Retry-After %q); want 200", r.Status, r.Body, r.Header.Get("Retry-After"))
	}
	r.Decode(t, &hb)
	if hb.Agent.Name != "queued" || hb.Agent.Hostname != "queued" {
		t.Fatalf("queued heartbeat answered for %+v", hb.Agent)
	}
}
