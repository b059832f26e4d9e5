package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// insertJob inserts an issuance job of certificate c in state.
func insertJob(t *testing.T, q *store.Queries, c core.Certificate, state string) uuid.UUID {
	t.Helper()
	id := newID(t)
	if _, err := q.Raw().Exec(context.Background(), `INSERT INTO jobs (id, kind, state, certificate_id, run_at, created_at, updated_at)
		VALUES ($1, 'issue', $2, $3, $4, $4, $4)`, id, state, c.ID, at(0)); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestChallenges: a job's HTTP-01 challenges are added once per token,
// presented by the server or moved through their states by the agent, and
// ended with the job: the server's deleted, the agent's sent to cleanup,
// by the job's end or by the sweep of jobs that ended without it.
func TestChallenges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	iss := createIssuer(t, q, "ca")
	agent := createAgent(t, q, "web", "linux")
	live := insertJob(t, q, createCertificate(t, q, "a", iss.ID), "running")
	ended := insertJob(t, q, createCertificate(t, q, "b", iss.ID), "failed")

	ch := func(token, ident string, agentID *uuid.UUID, state string) core.Challenge {
		return core.Challenge{Token: token, Identifier: ident, KeyAuthorization: token + ".thumb", AgentID: agentID, State: state}
	}
	added, err := q.AddChallenges(ctx, live, []core.Challenge{ch("t2", "b.example", &agent.ID, core.ChallengePending),
		ch("t1", "a.example", nil, core.ChallengePresented), ch("t3", "c.example", &agent.ID, core.ChallengePending)}, at(1))
	if err != nil || !slices.Equal(sorted(added), []string{"t1", "t2", "t3"}) {
		t.Fatalf("AddChallenges = %v, %v", added, err)
	}
	// A token the job has keeps its row.
	added, err = q.AddChallenges(ctx, live, []core.Challenge{ch("t1", "a.example", nil, core.ChallengePending),
		ch("t4", "d.example", nil, core.ChallengePresented)}, at(2))
	if err != nil || !slices.Equal(added, []string{"t4"}) {
		t.Errorf("adding again = %v, %v; want only t4", added, err)
	}
	if added, err := q.AddChallenges(ctx, live, nil, at(2)); err != nil || added != nil {
		t.Errorf("adding none = %v, %v", added, err)
	}
	if _, err := q.AddChallenges(ctx, ended, []core.Challenge{ch("e1", "e.example", nil, core.ChallengePresented),
		ch("e2", "f.example", &agent.ID, core.ChallengePresented)}, at(1)); err != nil {
		t.Fatal(err)
	}

	all, err := q.JobChallenges(ctx, live)
	if err != nil || len(all) != 4 || all[0].Token != "t1" || all[0].State != core.ChallengePresented || all[3].Token != "t4" {
		t.Errorf("JobChallenges = %+v, %v; want 4 by identifier, t1 still presented", all, err)
	}
	if ka, ok, err := q.ServerChallengeResponse(ctx, "t1"); err != nil || !ok || ka != "t1.thumb" {
		t.Errorf("ServerChallengeResponse(t1) = %q, %v, %v", ka, ok, err)
	}
	if _, ok, err := q.ServerChallengeResponse(ctx, "t2"); err != nil || ok {
		t.Errorf("the server answers for an agent's challenge: %v, %v", ok, err)
	}

	// The agent presents t2; t3 stays pending.
	if n, err := q.SetAgentChallengeState(ctx, live, agent.ID, []string{"t2", "t1"}, core.ChallengePending,
		core.ChallengePresented, at(3)); err != nil || n != 1 {
		t.Errorf("SetAgentChallengeState = %d, %v; want only t2 moved", n, err)
	}
	pending, err := q.AgentChallenges(ctx, agent.ID, core.ChallengePending, 10)
	if err != nil || len(pending) != 1 || pending[0].Token != "t3" {
		t.Errorf("the agent's pending challenges = %+v, %v", pending, err)
	}
	if n, err := q.DeleteAgentChallenges(ctx, live, agent.ID, []string{"t3"}, core.ChallengePresented); err != nil || n != 0 {
		t.Errorf("deleting in the wrong state = %d, %v", n, err)
	}

	// The sweep ends the ended job's challenges, not the live one's.
	if n, err := q.EndChallengesOfEndedJobs(ctx, at(4)); err != nil || n != 2 {
		t.Errorf("EndChallengesOfEndedJobs = %d, %v; want e1 deleted and e2 to cleanup", n, err)
	}
	if left, _ := q.JobChallenges(ctx, ended); len(left) != 1 || left[0].Token != "e2" || left[0].State != core.ChallengeCleanup {
		t.Errorf("the ended job's challenges = %+v", left)
	}
	if n, err := q.EndChallengesOfEndedJobs(ctx, at(5)); err != nil || n != 0 {
		t.Errorf("sweeping again = %d, %v", n, err)
	}

	if err := q.EndChallenges(ctx, live, at(6)); err != nil {
		t.Fatal(err)
	}
	left, _ := q.JobChallenges(ctx, live)
	var tokens []string
	for _, c := range left {
		if c.State != core.ChallengeCleanup || c.AgentID == nil {
			t.Errorf("after EndChallenges: %+v", c)
		}
		tokens = append(tokens, c.Token)
	}
	if !slices.Equal(tokens, []string{"t2", "t3"}) {
		t.Errorf("after EndChallenges the job has %v, want the agent's t2 and t3 in cleanup", tokens)
	}
	if n, err := q.DeleteAgentChallenges(ctx, live, agent.ID, []string{"t2", "t3"}, core.ChallengeCleanup); err != nil || n != 2 {
		t.Errorf("the agent's cleanup report = %d, %v", n, err)
	}
	if _, ok, _ := q.ServerChallengeResponse(ctx, "t1"); ok {
		t.Error("the server still answers for an ended job")
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
