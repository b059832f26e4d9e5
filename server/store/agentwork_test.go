package store_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// TestEnrollmentAndCredentials: a token enrolls once, before it expires
// and unless revoked; credentials find their agent and say when they are
// revoked; rotating revokes all but the kept one.
func TestEnrollmentAndCredentials(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	token := func(name string, expires time.Time) core.EnrollmentToken {
		tok := core.EnrollmentToken{ID: newID(t), Prefix: "cce_" + name, Labels: map[string]string{}, ExpiresAt: expires,
			CreatedBy: "admin", CreatedAt: at(0)}
		if err := q.CreateEnrollmentToken(ctx, tok, []byte(name)); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good, revoked := token("good", at(30)), token("revoked", at(30))
	token("short", at(5))
	if _, err := q.RevokeEnrollmentToken(ctx, revoked.ID, at(1)); err != nil {
		t.Fatal(err)
	}
	if tok, err := q.TakeEnrollmentToken(ctx, []byte("good"), at(2)); err != nil || tok.ID != good.ID || tok.UsedAt != nil {
		t.Fatalf("TakeEnrollmentToken = %+v, %v; want the token as it was", tok, err)
	}
	for _, tt := range []struct {
		what string
		hash string
		now  time.Time
	}{{"used twice", "good", at(3)}, {"expired", "short", at(5)}, {"revoked", "revoked", at(2)}, {"unknown", "nope", at(2)}} {
		_, err := q.TakeEnrollmentToken(ctx, []byte(tt.hash), tt.now)
		wantCode(t, tt.what, err, core.EUNAUTHORIZED)
	}

	agent := createAgent(t, q, "web", "linux")
	if err := q.SetTokenAgent(ctx, good.ID, agent.ID); err != nil {
		t.Fatal(err)
	}
	if tok, _ := q.GetEnrollmentToken(ctx, good.ID); tok.UsedAt == nil || tok.UsedByAgentID == nil || *tok.UsedByAgentID != agent.ID {
		t.Errorf("the used token = %+v", tok)
	}
	old, current := newID(t), newID(t)
	for id, hash := range map[uuid.UUID]string{old: "cred-old", current: "cred-new"} {
		if err := q.CreateAgentCredential(ctx, id, agent.ID, []byte(hash), at(3)); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.RevokeAgentCredentials(ctx, agent.ID, current, at(4)); err != nil {
		t.Fatal(err)
	}
	for hash, want := range map[string]bool{"cred-old": true, "cred-new": false} {
		a, revoked, err := q.AgentByCredential(ctx, []byte(hash))
		if err != nil || a.ID != agent.ID || revoked != want {
			t.Errorf("AgentByCredential(%s) = %s, revoked %v, %v; want revoked %v", hash, a.Name, revoked, err, want)
		}
	}
	_, _, err := q.AgentByCredential(ctx, []byte("nope"))
	wantCode(t, "an unknown credential", err, core.ENOTFOUND)
}

// TestHeartbeats: a heartbeat stores the agent's facts and brings it
// online (a retired agent stays retired); batched heartbeats do the same
// and never go back in time; silent agents go offline.
func TestHeartbeats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	web, db, gone := createAgent(t, q, "web", "linux"), createAgent(t, q, "db", "linux"), createAgent(t, q, "gone", "linux")
	if _, err := q.RetireAgent(ctx, gone.ID, at(1)); err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("2001:db8::7")
	facts := store.AgentFacts{OS: "linux", Arch: "arm64", Hostname: "web-1", AgentVersion: "1.3.0", IPAddress: &ip,
		UptimeSeconds: 99, Plugins: []core.AgentPlugin{{Name: "nginx", Kind: "target", Version: "1.0.0"}}}
	a, err := q.RecordHeartbeat(ctx, web.ID, facts, at(10))
	if err != nil || a.Status != core.AgentOnline || a.Arch != "arm64" || a.IPAddress == nil || *a.IPAddress != ip ||
		len(a.Plugins) != 1 || a.LastHeartbeatAt == nil || !a.LastHeartbeatAt.Equal(at(10)) {
		t.Errorf("RecordHeartbeat = %+v, %v", a, err)
	}
	if a, err := q.RecordHeartbeat(ctx, gone.ID, facts, at(10)); err != nil || a.Status != core.AgentRetired {
		t.Errorf("a retired agent's heartbeat = %+v, %v", a, err)
	}

	err = q.RecordHeartbeats(ctx, []store.Heartbeat{
		{AgentID: db.ID, Facts: store.AgentFacts{OS: "linux", Arch: "amd64", Hostname: "db-1", AgentVersion: "1.3.0"}, At: at(12)},
		{AgentID: web.ID, Facts: store.AgentFacts{OS: "linux", Arch: "amd64", Hostname: "stale"}, At: at(9)}, // older than its row
	})
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := q.GetAgent(ctx, db.ID); a.Status != core.AgentOnline || a.Hostname != "db-1" || a.Plugins == nil {
		t.Errorf("after a batched heartbeat: %+v", a)
	}
	if a, _ := q.GetAgent(ctx, web.ID); a.Hostname != "web-1" || !a.LastHeartbeatAt.Equal(at(10)) {
		t.Errorf("an older batched heartbeat changed the agent: %+v", a)
	}

	off, err := q.MarkAgentsOffline(ctx, at(11), at(20))
	if err != nil || len(off) != 1 || off[0].ID != web.ID || off[0].Status != core.AgentOffline {
		t.Errorf("MarkAgentsOffline = %+v, %v; want only web (db spoke at 12, gone is retired)", off, err)
	}
	if off, _ := q.MarkAgentsOffline(ctx, at(11), at(21)); len(off) != 0 {
		t.Errorf("marking again = %+v", off)
	}
}
