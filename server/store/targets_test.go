package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
)

// TestTargets: targets read back with their agent and sealed fields,
// GetTargets returns the ones that exist in id order, lists filter by type
// and agent, names are unique, and a target bound to a certificate cannot
// be deleted.
func TestTargets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	agent := createAgent(t, q, "web", "linux")
	mk := func(name, typ string, agentID *uuid.UUID) core.Target {
		t.Helper()
		tg := core.Target{ID: newID(t), Name: name, Type: typ, AgentID: agentID, Config: map[string]any{"cert_path": "/etc/" + name},
			Secret: core.Sealed{Fields: []string{"password"}, Ciphertext: []byte("sealed")}, CreatedAt: at(0), UpdatedAt: at(0)}
		if err := q.CreateTarget(ctx, tg); err != nil {
			t.Fatal(err)
		}
		return tg
	}
	nginx, f5, apache := mk("nginx", "nginx", &agent.ID), mk("f5", "f5", nil), mk("apache", "apache", &agent.ID)

	got, err := q.GetTarget(ctx, nginx.ID)
	if err != nil || got.AgentID == nil || *got.AgentID != agent.ID || got.Config["cert_path"] != "/etc/nginx" ||
		!slices.Equal(got.Secret.Fields, []string{"password"}) || string(got.Secret.Ciphertext) != "sealed" {
		t.Errorf("GetTarget = %+v, %v", got, err)
	}
	err = q.CreateTarget(ctx, core.Target{ID: newID(t), Name: "nginx", Type: "nginx", Config: map[string]any{}, CreatedAt: at(0), UpdatedAt: at(0)})
	wantCode(t, "a taken name", err, core.ECONFLICT)

	some, err := q.GetTargets(ctx, []uuid.UUID{apache.ID, uuid.New(), nginx.ID})
	if err != nil || len(some) != 2 || some[0].ID != nginx.ID || some[1].ID != apache.ID {
		t.Errorf("GetTargets = %+v, %v; want nginx and apache in id order", some, err)
	}
	for _, tt := range []struct {
		what string
		f    core.TargetFilter
		want []string
	}{
		{"all", core.TargetFilter{}, []string{"nginx", "f5", "apache"}},
		{"f5", core.TargetFilter{Type: "f5"}, []string{"f5"}},
		{"the agent's", core.TargetFilter{AgentID: &agent.ID}, []string{"nginx", "apache"}},
		{"the agent's apache", core.TargetFilter{AgentID: &agent.ID, Type: "apache"}, []string{"apache"}},
	} {
		tt.f.Limit = 10
		items, _, err := q.ListTargets(ctx, tt.f)
		var names []string
		for _, i := range items {
			names = append(names, i.Name)
		}
		if err != nil || !slices.Equal(names, tt.want) {
			t.Errorf("ListTargets %s = %v, %v; want %v", tt.what, names, err, tt.want)
		}
	}

	// Update: the agent can be unset; the type stays.
	f5.Name, f5.Type, f5.AgentID, f5.Secret, f5.UpdatedAt = "bigip", "nginx", &agent.ID, core.Sealed{}, at(3)
	if err := q.UpdateTarget(ctx, f5); err != nil {
		t.Fatal(err)
	}
	if got, err := q.GetTarget(ctx, f5.ID); err != nil || got.Name != "bigip" || got.Type != "f5" || got.AgentID == nil ||
		got.Secret.Ciphertext != nil {
		t.Errorf("after UpdateTarget = %+v, %v", got, err)
	}
	wantCode(t, "updating an unknown target", q.UpdateTarget(ctx, core.Target{ID: uuid.New(), Name: "x", Config: map[string]any{}}), core.ENOTFOUND)

	// Bound to a certificate: not deleted.
	iss := createIssuer(t, q, "ca")
	c := core.Certificate{ID: newID(t), Name: "www", CommonName: "www.example.com", SANs: []string{}, IssuerID: iss.ID,
		TargetIDs: []uuid.UUID{nginx.ID}, KeyType: "ecdsa-p256", KeyMode: core.KeyModeAgent, Status: core.CertPending,
		Labels: map[string]string{}, CreatedAt: at(0), UpdatedAt: at(0)}
	if err := q.CreateCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "deleting a bound target", q.DeleteTarget(ctx, nginx.ID), core.ECONFLICT)
	if err := q.DeleteTarget(ctx, apache.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "deleting twice", q.DeleteTarget(ctx, apache.ID), core.ENOTFOUND)
}
