package service_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

func TestWaitingFor(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 5, 19, 0, 0, 0, time.UTC)
	agent, target := uuid.New(), uuid.New()
	recent, old := now.Add(-20*time.Second), now.Add(-5*time.Minute)
	facts := func(status string, seen *time.Time) *core.JobFacts {
		return &core.JobFacts{AgentName: "web-01", AgentStatus: status, AgentLastHeartbeatAt: seen, TargetName: "web-1"}
	}
	deploy := func(state string, f *core.JobFacts) core.Job {
		return core.Job{Kind: core.JobDeploy, State: state, AgentID: &agent, TargetID: &target, RunAt: now, Facts: f}
	}
	noAgent := deploy(core.JobWaiting, &core.JobFacts{TargetName: "web-1"})
	noAgent.AgentID = nil
	later := deploy(core.JobRetrying, facts(core.AgentOnline, &recent))
	later.RunAt = now.Add(time.Minute)
	csr := core.Job{Kind: core.JobIssue, State: core.JobWaiting, AgentID: &agent, RunAt: now, Facts: facts(core.AgentOnline, &recent)}
	queuedIssue := core.Job{Kind: core.JobIssue, State: core.JobQueued, AgentID: &agent, RunAt: now, Facts: facts(core.AgentOffline, &old)}
	retryingRenew := core.Job{Kind: core.JobRenew, State: core.JobRetrying, RunAt: now.Add(90 * time.Second), Facts: &core.JobFacts{}}
	unread := deploy(core.JobWaiting, nil)

	for _, tc := range []struct {
		name string
		job  core.Job
		want string
	}{
		{"target without agent", noAgent, "target web-1 has no agent"},
		{"agent online", deploy(core.JobWaiting, facts(core.AgentOnline, &recent)), "agent web-01 to pick it up"},
		{"agent offline", deploy(core.JobWaiting, facts(core.AgentOffline, &old)), "agent web-01 offline since 2026-12-05T18:55:00Z"},
		{"agent silent, not yet swept", deploy(core.JobWaiting, facts(core.AgentOnline, &old)), "agent web-01 offline since 2026-12-05T18:55:00Z"},
		{"agent never reported", deploy(core.JobWaiting, facts(core.AgentPending, nil)), "agent web-01 to connect (enrolled, no heartbeat yet)"},
		{"agent retired", deploy(core.JobWaiting, facts(core.AgentRetired, &old)), "agent web-01, which is retired"},
		{"agent deploying", deploy(core.JobRunning, facts(core.AgentOnline, &recent)), ""},
		{"agent went silent while deploying", deploy(core.JobRunning, facts(core.AgentOffline, &old)), "agent web-01 offline since 2026-12-05T18:55:00Z"},
		{"deploy retry later", later, "agent web-01 to pick it up after 2026-12-05T19:01:00Z"},
		{"CSR", csr, "agent web-01 to send a CSR"},
		{"issuance with its CSR runs on the server", queuedIssue, ""},
		{"server retry later", retryingRenew, "next attempt at 2026-12-05T19:01:30Z"},
		{"finished", deploy(core.JobFailed, facts(core.AgentOffline, &old)), ""},
		{"facts not read", unread, ""},
	} {
		if got := service.WaitingFor(tc.job, now); got != tc.want {
			t.Errorf("%s: waiting for %q, want %q", tc.name, got, tc.want)
		}
	}
}
