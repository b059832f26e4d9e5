package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

// An agent's credential, once verified, is trusted for AgentAuthTTL
// without a query; a revocation through one server takes effect there at
// once, and on another replica (its own cache) within the TTL.
func TestAgentCredentialCache(t *testing.T) {
	t.Parallel()
	c := &clock{now: time.Now().UTC().Truncate(time.Second)}
	env := apitest.Start(t, apitest.Options{Clock: c.Now})
	replica := service.New(service.Options{Store: env.Store, Clock: c.Now, Secrets: apitest.TestSecrets(t)})
	_, old := enrollAgent(t, env, "delta")
	ctx := context.Background()

	authOK := func(svc *service.Service, cred, who string) {
		t.Helper()
		if a, err := svc.AuthenticateAgent(ctx, cred); err != nil || a.Name != "delta" {
			t.Fatalf("%s: %+v, %v; want agent delta", who, a, err)
		}
	}
	authFails := func(svc *service.Service, cred, who, code string) {
		t.Helper()
		if a, err := svc.AuthenticateAgent(ctx, cred); core.ErrorCode(err) != code {
			t.Fatalf("%s: %+v, %v; want %s", who, a, err, code)
		}
	}
	authOK(env.Service, old, "first server")
	authOK(replica, old, "replica")

	// Verified credentials cost no query.
	before := env.Pool.Stat().AcquireCount()
	for range 100 {
		authOK(env.Service, old, "first server, cached")
		authOK(replica, old, "replica, cached")
	}
	if n := env.Pool.Stat().AcquireCount() - before; n != 0 {
		t.Errorf("200 authentications of a verified credential took %d connections, want 0", n)
	}

	// Rotating through the first server revokes the old credential: at
	// once there, on the replica when its entry is older than the TTL.
	var rot api.AgentCredentialResponse
	env.MustDo(t, "POST", "/api/v1/agent/credential", old, nil, 200).Decode(t, &rot)
	authFails(env.Service, old, "first server after the rotation", core.EUNAUTHORIZED)
	env.MustDo(t, "GET", "/api/v1/agent/work", old, nil, 401)
	authOK(replica, old, "replica within the TTL")
	c.Add(service.AgentAuthTTL)
	authFails(replica, old, "replica after the TTL", core.EUNAUTHORIZED)
	authOK(env.Service, rot.Credential, "first server, new credential")
	authOK(replica, rot.Credential, "replica, new credential")

	// Retiring through the replica: refused there at once, on the first
	// server after the TTL.
	agents, _, err := replica.ListAgents(core.WithActor(ctx, core.SystemActor), core.AgentFilter{Page: core.Page{Limit: 10}})
	if err != nil || len(agents) != 1 {
		t.Fatalf("agents: %+v, %v", agents, err)
	}
	if _, err := replica.RetireAgent(core.WithActor(ctx, core.SystemActor), agents[0].ID); err != nil {
		t.Fatal(err)
	}
	authFails(replica, rot.Credential, "replica after retiring", core.EFORBIDDEN)
	authOK(env.Service, rot.Credential, "first server within the TTL")
	c.Add(service.AgentAuthTTL)
	authFails(env.Service, rot.Credential, "first server after the TTL", core.EFORBIDDEN)
	env.MustDo(t, "POST", "/api/v1/agent/heartbeat", rot.Credential, api.AgentFacts{OS: "linux"}, 403)
}

// A server that listens to the database's notifications trusts a verified
// credential longer than AgentAuthTTL (an agent's heartbeats then cost no
// query), because a revocation through any server is announced: a
// credential rotated, then an agent retired, through another replica stop
// working here as soon as the announcement arrives, long before the TTL.
func TestAgentCredentialRevocationAnnounced(t *testing.T) {
	t.Parallel()
	c := &clock{now: time.Now().UTC().Truncate(time.Second)}
	env := apitest.Start(t, apitest.Options{Clock: c.Now, AgentHub: true})
	replica := service.New(service.Options{Store: env.Store, Clock: c.Now, Secrets: apitest.TestSecrets(t)})
	agentID, old := enrollAgent(t, env, "echo")
	agent := uuid.MustParse(agentID)
	ctx := context.Background()
	// The hub listens (its start clears the cache, so wait for it).
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var n int
		if err := env.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query = 'LISTEN agent_work'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the agent hub does not listen")
		}
	}
	if a, err := env.Service.AuthenticateAgent(ctx, old); err != nil || a.Name != "echo" {
		t.Fatalf("first authentication: %+v, %v", a, err)
	}
	// Past AgentAuthTTL, still no query.
	c.Add(2 * service.AgentAuthTTL)
	before := env.Pool.Stat().AcquireCount()
	if a, err := env.Service.AuthenticateAgent(ctx, old); err != nil || a.Name != "echo" {
		t.Fatalf("authentication after %s: %+v, %v", 2*service.AgentAuthTTL, a, err)
	}
	if n := env.Pool.Stat().AcquireCount() - before; n != 0 {
		t.Errorf("a verified credential %s later took %d connections, want 0 (the listening server's TTL is %s)",
			2*service.AgentAuthTTL, n, service.AgentAuthListenTTL)
	}

	// refusedSoon waits (the clock does not move) until cred is refused
	// with code: the announcement arrived.
	refusedSoon := func(cred, code, what string) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			_, err := env.Service.AuthenticateAgent(ctx, cred)
			if core.ErrorCode(err) == code {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s through the replica: still %v here; want %s", what, err, code)
			}
		}
	}
	// Rotated through the replica (as the agent would, reaching it).
	actx := core.WithActor(ctx, core.AgentActor(agent, "echo"))
	rotated, err := replica.RotateAgentCredential(actx)
	if err != nil {
		t.Fatal(err)
	}
	refusedSoon(old, core.EUNAUTHORIZED, "rotated")
	if a, err := env.Service.AuthenticateAgent(ctx, rotated); err != nil || a.Name != "echo" {
		t.Fatalf("new credential: %+v, %v", a, err)
	}
	// Retired through the replica.
	if _, err := replica.RetireAgent(core.WithActor(ctx, core.SystemActor), agent); err != nil {
		t.Fatal(err)
	}
	refusedSoon(rotated, core.EFORBIDDEN, "retired")
}
