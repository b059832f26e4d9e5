package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/apitest"
)

// Heartbeats are answered at once and written in one statement for many
// agents: every interval, and what is left when the writer stops.
func TestHeartbeatsWrittenInBatches(t *testing.T) {
	t.Parallel()
	c := &clock{now: time.Now().UTC().Truncate(time.Second)}
	env := apitest.Start(t, apitest.Options{Clock: c.Now})
	names := []string{"h1", "h2", "h3"}
	creds := map[string]string{}
	for _, n := range names {
		_, creds[n] = enrollAgent(t, env, n) // written at once: no writer runs yet
	}
	lastSeen := func(name string) (time.Time, string) {
		t.Helper()
		var at time.Time
		var host string
		if err := env.Pool.QueryRow(context.Background(), `SELECT last_heartbeat_at, hostname FROM agents WHERE name = $1`,
			name).Scan(&at, &host); err != nil {
			t.Fatal(err)
		}
		return at, host
	}
	beat := func(name string) {
		t.Helper()
		var res api.AgentHeartbeatResponse
		env.MustDo(t, "POST", "/api/v1/agent/heartbeat", creds[name], api.AgentFacts{OS: "linux", Hostname: name + ".later"}, 200).Decode(t, &res)
		if res.Agent.Name != name || res.Agent.Hostname != name+".later" || res.Agent.Status != "online" ||
			res.Agent.LastHeartbeatAt == nil || !res.Agent.LastHeartbeatAt.Equal(c.Now()) {
			t.Fatalf("heartbeat answer: %+v", res.Agent)
		}
	}

	// A writer with an hour's interval: heartbeats are kept, and written
	// when it stops, all in one statement.
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { env.Service.RunHeartbeats(ctx, time.Hour); close(done) }()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		// Until the writer has started, heartbeats are written at once;
		// from then on they are kept.
		c.Add(time.Second)
		beat("h1")
		if at, _ := lastSeen("h1"); at.Before(c.Now()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("heartbeats are still written one by one")
		}
	}
	beat("h2")
	beat("h3")
	for _, n := range names {
		if at, host := lastSeen(n); !at.Before(c.Now()) || host == n+".later" {
			t.Fatalf("%s written before the writer's interval: %s %s", n, at, host)
		}
	}
	before := env.Pool.Stat().AcquireCount()
	stop()
	<-done
	if n := env.Pool.Stat().AcquireCount() - before; n != 1 {
		t.Errorf("the last write took %d connections, want 1 (one statement)", n)
	}
	for _, n := range names {
		if at, host := lastSeen(n); !at.Equal(c.Now()) || host != n+".later" {
			t.Errorf("%s after the writer stopped: last heartbeat %s (want %s), hostname %s", n, at, c.Now(), host)
		}
	}

	// A running writer writes them within its interval.
	ctx, stop = context.WithCancel(context.Background())
	done = make(chan struct{})
	go func() { env.Service.RunHeartbeats(ctx, 50*time.Millisecond); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	c.Add(time.Minute)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		beat("h2")
		if at, _ := lastSeen("h2"); at.Equal(c.Now()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a kept heartbeat was not written")
		}
	}
}
