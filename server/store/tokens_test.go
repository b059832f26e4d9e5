package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
)

// TestEnrollmentTokens: a token keeps its agent name (or none) and labels,
// tokens list newest first, and revoking keeps the first time.
func TestEnrollmentTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	mk := func(agentName string, labels map[string]string) core.EnrollmentToken {
		t.Helper()
		tok := core.EnrollmentToken{ID: newID(t), Prefix: "cce_" + agentName, AgentName: agentName, Labels: labels,
			ExpiresAt: at(0).Add(time.Hour), CreatedBy: "admin", CreatedAt: at(0)}
		if err := q.CreateEnrollmentToken(ctx, tok, []byte("hash-"+tok.ID.String())); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	named, anon := mk("web-1", map[string]string{"zone": "dmz"}), mk("", map[string]string{})

	got, err := q.GetEnrollmentToken(ctx, named.ID)
	if err != nil || got.AgentName != "web-1" || got.Labels["zone"] != "dmz" || !got.ExpiresAt.Equal(named.ExpiresAt) ||
		got.UsedAt != nil || got.RevokedAt != nil || got.CreatedBy != "admin" {
		t.Errorf("GetEnrollmentToken = %+v, %v", got, err)
	}
	if got, err := q.GetEnrollmentToken(ctx, anon.ID); err != nil || got.AgentName != "" {
		t.Errorf("a token without an agent name = %+v, %v", got, err)
	}
	_, err = q.GetEnrollmentToken(ctx, uuid.New())
	wantCode(t, "an unknown token", err, core.ENOTFOUND)

	items, more, err := q.ListEnrollmentTokens(ctx, core.Page{Limit: 1})
	if err != nil || !more || len(items) != 1 || items[0].ID != anon.ID {
		t.Errorf("first page = %+v, %v, %v", items, more, err)
	}

	tok, err := q.RevokeEnrollmentToken(ctx, named.ID, at(5))
	if err != nil || tok.RevokedAt == nil || !tok.RevokedAt.Equal(at(5)) {
		t.Fatalf("RevokeEnrollmentToken = %+v, %v", tok, err)
	}
	if tok, err = q.RevokeEnrollmentToken(ctx, named.ID, at(9)); err != nil || !tok.RevokedAt.Equal(at(5)) {
		t.Errorf("revoking again = %+v, %v; want the first time kept", tok, err)
	}
}
