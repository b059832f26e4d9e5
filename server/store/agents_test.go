package store_test

import (
	"context"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
)

// TestAgents: an agent reads back as created (no plugins is an empty
// list), lists filter by status, OS and architecture, and retiring keeps
// the first time and revokes every credential of the agent, not others'.
func TestAgents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	ip := netip.MustParseAddr("192.0.2.7")
	web := core.Agent{ID: newID(t), Name: "web", Status: core.AgentOnline, Labels: map[string]string{"zone": "dmz"},
		OS: "linux", Arch: "arm64", IPAddress: &ip, Hostname: "web.internal", AgentVersion: "1.2.0", UptimeSeconds: 42,
		Plugins: []core.AgentPlugin{{Name: "nginx", Version: "1.0.0"}}, EnrolledAt: at(0), CreatedAt: at(0), UpdatedAt: at(0)}
	if err := q.CreateAgent(ctx, web); err != nil {
		t.Fatal(err)
	}
	win := createAgent(t, q, "win", "windows")
	lin := createAgent(t, q, "lin", "linux")

	got, err := q.GetAgent(ctx, web.ID)
	if err != nil || got.Name != "web" || got.Status != core.AgentOnline || got.IPAddress == nil || *got.IPAddress != ip ||
		got.UptimeSeconds != 42 || len(got.Plugins) != 1 || got.Plugins[0].Name != "nginx" || got.Labels["zone"] != "dmz" {
		t.Errorf("GetAgent = %+v, %v", got, err)
	}
	if got, err := q.GetAgent(ctx, win.ID); err != nil || got.Plugins == nil || len(got.Plugins) != 0 || got.IPAddress != nil {
		t.Errorf("an agent without plugins or address = %+v, %v", got, err)
	}
	_, err = q.GetAgent(ctx, uuid.New())
	wantCode(t, "an unknown agent", err, core.ENOTFOUND)

	for _, tt := range []struct {
		what string
		f    core.AgentFilter
		want []uuid.UUID
	}{
		{"all", core.AgentFilter{}, []uuid.UUID{web.ID, win.ID, lin.ID}},
		{"pending", core.AgentFilter{Status: core.AgentPending}, []uuid.UUID{win.ID, lin.ID}},
		{"linux", core.AgentFilter{OS: "linux"}, []uuid.UUID{web.ID, lin.ID}},
		{"arm64", core.AgentFilter{Arch: "arm64"}, []uuid.UUID{web.ID}},
		{"pending linux", core.AgentFilter{Status: core.AgentPending, OS: "linux"}, []uuid.UUID{lin.ID}},
	} {
		tt.f.Limit = 10
		items, more, err := q.ListAgents(ctx, tt.f)
		if err != nil || more || !slices.Equal(agentIDs(items), tt.want) {
			t.Errorf("ListAgents %s = %v, %v, %v; want %v", tt.what, agentIDs(items), more, err, tt.want)
		}
	}

	for i, a := range []uuid.UUID{web.ID, web.ID, win.ID} {
		if err := q.CreateAgentCredential(ctx, newID(t), a, []byte{byte(i)}, at(1)); err != nil {
			t.Fatal(err)
		}
	}
	retired, err := q.RetireAgent(ctx, web.ID, at(5))
	if err != nil || retired.Status != core.AgentRetired || retired.RetiredAt == nil || !retired.RetiredAt.Equal(at(5)) {
		t.Fatalf("RetireAgent = %+v, %v", retired, err)
	}
	if again, err := q.RetireAgent(ctx, web.ID, at(9)); err != nil || !again.RetiredAt.Equal(at(5)) {
		t.Errorf("retiring again = %+v, %v; want the first time kept", again, err)
	}
	for i, want := range []bool{true, true, false} {
		_, revoked, err := q.AgentByCredential(ctx, []byte{byte(i)})
		if err != nil || revoked != want {
			t.Errorf("credential %d: revoked %v, %v; want %v", i, revoked, err, want)
		}
	}
	_, err = q.RetireAgent(ctx, uuid.New(), at(5))
	wantCode(t, "retiring an unknown agent", err, core.ENOTFOUND)
}

func agentIDs(as []core.Agent) []uuid.UUID {
	var out []uuid.UUID
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}
