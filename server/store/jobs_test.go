package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// addJob inserts a queued job of kind, due at minute runAt, with up to
// maxAttempts attempts.
func addJob(t *testing.T, q *store.Queries, kind string, certID *uuid.UUID, runAt, maxAttempts int) core.Job {
	t.Helper()
	j := core.Job{ID: newID(t), Kind: kind, State: core.JobQueued, CertificateID: certID, MaxAttempts: maxAttempts,
		RunAt: at(runAt), CreatedAt: at(0), UpdatedAt: at(0)}
	if err := q.InsertJob(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	return j
}

// getJob reads a job back.
func getJob(t *testing.T, q *store.Queries, id uuid.UUID) core.Job {
	t.Helper()
	j, err := q.GetJob(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func jobIDs(js []core.Job) []uuid.UUID {
	ids := make([]uuid.UUID, len(js))
	for i, j := range js {
		ids[i] = j.ID
	}
	return ids
}

// TestInsertJobOneLiveIssuance: a certificate never has two live issue or
// renew jobs (ErrJobExists, nothing written); once the live one ended, the
// next one is accepted, and LiveIssuanceJob finds the live one only.
func TestInsertJobOneLiveIssuance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	c := createCertificate(t, q, "a", createIssuer(t, q, "ca").ID)

	if _, live, err := q.LiveIssuanceJob(ctx, c.ID); err != nil || live {
		t.Fatalf("LiveIssuanceJob before any = %v, %v", live, err)
	}
	first := addJob(t, q, core.JobIssue, &c.ID, 1, 3)
	renew := core.Job{ID: newID(t), Kind: core.JobRenew, State: core.JobQueued, CertificateID: &c.ID, MaxAttempts: 3,
		RunAt: at(1), CreatedAt: at(1)}
	if err := q.InsertJob(ctx, renew); !errors.Is(err, store.ErrJobExists) {
		t.Fatalf("a second live issuance = %v, want ErrJobExists", err)
	}
	if _, err := q.GetJob(ctx, renew.ID); err == nil {
		t.Error("the refused job was written")
	} else {
		wantCode(t, "GetJob of the refused job", err, core.ENOTFOUND)
	}
	// Other kinds of the same certificate are not issuances.
	addJob(t, q, core.JobNotify, &c.ID, 1, 3)
	if j, live, err := q.LiveIssuanceJob(ctx, c.ID); err != nil || !live || j.ID != first.ID {
		t.Fatalf("LiveIssuanceJob = %v %v, %v; want the first", j.ID, live, err)
	}

	if _, err := q.SetJobState(ctx, first.ID, core.JobCancelled, nil, at(2), at(2), "cancelled by test"); err != nil {
		t.Fatal(err)
	}
	if _, live, err := q.LiveIssuanceJob(ctx, c.ID); err != nil || live {
		t.Errorf("LiveIssuanceJob after the cancel = %v, %v", live, err)
	}
	if err := q.InsertJob(ctx, renew); err != nil {
		t.Errorf("a renewal after the issuance ended = %v", err)
	}
}

// TestClaimJobsOrder: a claim takes due queued and retrying jobs of the
// asked kinds only, earliest due first, up to its limit; it leases them to
// the owner until now+lease and counts an attempt; a second claim does not
// take them again.
func TestClaimJobsOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	// Inserted out of due order, so that id order is not due order.
	third := addJob(t, q, core.JobNotify, nil, 7, 3)
	first := addJob(t, q, core.JobNotify, nil, 2, 3)
	second := addJob(t, q, core.JobDeploy, nil, 5, 3)
	addJob(t, q, core.JobNotify, nil, 11, 3) // not due
	addJob(t, q, core.JobRevoke, nil, 1, 3)  // not asked for
	waiting := addJob(t, q, core.JobNotify, nil, 1, 3)
	if _, err := q.SetJobState(ctx, waiting.ID, core.JobWaiting, nil, at(1), at(1), ""); err != nil {
		t.Fatal(err)
	}
	retrying := addJob(t, q, core.JobDeploy, nil, 9, 3)
	if _, err := q.SetJobState(ctx, retrying.ID, core.JobRetrying, nil, at(9), at(1), "earlier failure"); err != nil {
		t.Fatal(err)
	}

	kinds := []string{core.JobNotify, core.JobDeploy}
	got, err := q.ClaimJobs(ctx, "w1", kinds, at(10), time.Minute, 2)
	if err != nil {
		t.Fatal(err)
	}
	ids := jobIDs(got)
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	want := []uuid.UUID{first.ID, second.ID}
	slices.SortFunc(want, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	if !slices.Equal(ids, want) {
		t.Fatalf("the first claim took %v, want the two due earliest %v", ids, want)
	}
	for _, j := range got {
		if j.State != core.JobRunning || j.LeaseOwner != "w1" || j.Attempt != 1 || j.LeaseExpiresAt == nil ||
			!j.LeaseExpiresAt.Equal(at(11)) || !j.UpdatedAt.Equal(at(10)) {
			t.Errorf("claimed %+v: want running, w1's until 10:11, attempt 1", j)
		}
	}
	got, err = q.ClaimJobs(ctx, "w2", kinds, at(10), time.Minute, 10)
	if err != nil {
		t.Fatal(err)
	}
	if ids := jobIDs(got); len(ids) != 2 || !slices.Contains(ids, third.ID) || !slices.Contains(ids, retrying.ID) {
		t.Errorf("the second claim took %v, want third and retrying", ids)
	}
	if got, err := q.ClaimJobs(ctx, "w3", kinds, at(10), time.Minute, 10); err != nil || len(got) != 0 {
		t.Errorf("a third claim = %v, %v; want nothing", jobIDs(got), err)
	}
}

// TestClaimJobsSkipLocked: while one claimer's transaction holds the job
// it claimed, a second claimer neither waits for it nor takes it: it gets
// the other due jobs at once.
func TestClaimJobsSkipLocked(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st := newStore(t)
	q := st.Q()
	a := addJob(t, q, core.JobNotify, nil, 1, 3)
	b := addJob(t, q, core.JobNotify, nil, 2, 3)
	c := addJob(t, q, core.JobNotify, nil, 3, 3)

	err := st.InTx(ctx, func(tq *store.Queries) error {
		held, err := tq.ClaimJobs(ctx, "w1", []string{core.JobNotify}, at(10), time.Minute, 1)
		if err != nil {
			return err
		}
		if len(held) != 1 || held[0].ID != a.ID {
			t.Fatalf("the first claimer took %v, want a", jobIDs(held))
		}
		// The second claimer, on another connection, while the first's
		// transaction is open. Its lock_timeout only stops a claimer that
		// would wait on the first's row lock (no SKIP LOCKED).
		return st.InTx(ctx, func(oq *store.Queries) error {
			if _, err := oq.Raw().Exec(ctx, `SET LOCAL lock_timeout = '20s'`); err != nil {
				return err
			}
			got, err := oq.ClaimJobs(ctx, "w2", []string{core.JobNotify}, at(10), time.Minute, 10)
			if err != nil {
				t.Fatalf("the second claimer, while the first holds a: %v", err)
			}
			if ids := jobIDs(got); len(ids) != 2 || !slices.Contains(ids, b.ID) || !slices.Contains(ids, c.ID) {
				t.Errorf("the second claimer took %v, want b and c", ids)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if j := getJob(t, q, a.ID); j.LeaseOwner != "w1" || j.Attempt != 1 {
		t.Errorf("a = owner %q attempt %d, want w1's first attempt", j.LeaseOwner, j.Attempt)
	}
}

// TestLeaseExpiry: a worker whose lease expired loses its job: the sweep
// puts it back to retry (or fails it when it is out of attempts), leaves
// unexpired leases alone, and the old owner can then neither renew, finish
// nor release it, even after another worker took it.
func TestLeaseExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	again := addJob(t, q, core.JobNotify, nil, 1, 3)
	last := addJob(t, q, core.JobNotify, nil, 2, 1)
	claimed, err := q.ClaimJobs(ctx, "w1", []string{core.JobNotify}, at(3), time.Minute, 10)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("ClaimJobs = %v, %v", jobIDs(claimed), err)
	}
	fresh := addJob(t, q, core.JobNotify, nil, 4, 3)
	if got, err := q.ClaimJobs(ctx, "w2", []string{core.JobNotify}, at(4), 10*time.Minute, 10); err != nil || len(got) != 1 {
		t.Fatalf("ClaimJobs of fresh = %v, %v", jobIDs(got), err)
	}

	// w1 renews before expiry: only its own running jobs.
	held, err := q.ExtendLeases(ctx, "w1", []uuid.UUID{again.ID, last.ID, fresh.ID}, at(5))
	if err != nil || len(held) != 2 || !slices.Contains(held, again.ID) || !slices.Contains(held, last.ID) {
		t.Fatalf("ExtendLeases = %v, %v; want again and last only", held, err)
	}
	if j := getJob(t, q, again.ID); j.LeaseExpiresAt == nil || !j.LeaseExpiresAt.Equal(at(5)) {
		t.Errorf("the renewed lease ends at %v, want 10:05", j.LeaseExpiresAt)
	}
	// Nothing has expired at 10:05 itself.
	if expired, err := q.RequeueExpiredLeases(ctx, at(5)); err != nil || len(expired) != 0 {
		t.Fatalf("RequeueExpiredLeases at the expiry = %+v, %v", expired, err)
	}

	expired, err := q.RequeueExpiredLeases(ctx, at(6))
	if err != nil || len(expired) != 2 {
		t.Fatalf("RequeueExpiredLeases = %+v, %v; want again and last", expired, err)
	}
	for _, e := range expired {
		switch e.ID {
		case again.ID:
			if e.Failed || e.Attempt != 1 || e.Kind != core.JobNotify {
				t.Errorf("again = %+v, want retried after attempt 1", e)
			}
		case last.ID:
			if !e.Failed {
				t.Errorf("last = %+v, want failed (out of attempts)", e)
			}
		default:
			t.Errorf("requeued %v, whose lease had not expired", e.ID)
		}
	}
	if j := getJob(t, q, again.ID); j.State != core.JobRetrying || !j.RunAt.Equal(at(6)) || j.LeaseOwner != "" ||
		j.LeaseExpiresAt != nil || j.FinishedAt != nil || j.LastError == "" {
		t.Errorf("again after the sweep = %+v, want retrying at 10:06 without a lease", j)
	}
	if j := getJob(t, q, last.ID); j.State != core.JobFailed || j.FinishedAt == nil || !j.FinishedAt.Equal(at(6)) {
		t.Errorf("last after the sweep = %+v, want failed at 10:06", j)
	}
	if j := getJob(t, q, fresh.ID); j.State != core.JobRunning || j.LeaseOwner != "w2" {
		t.Errorf("fresh after the sweep = %+v, want still w2's", j)
	}

	// w1 comes back: everything of its is refused, before and after w3
	// takes the job again.
	for _, owner := range []string{"", "w3"} {
		if owner != "" {
			got, err := q.ClaimJobs(ctx, owner, []string{core.JobNotify}, at(7), time.Minute, 10)
			if err != nil || len(got) != 1 || got[0].ID != again.ID || got[0].Attempt != 2 {
				t.Fatalf("w3's claim = %+v, %v; want again's second attempt", got, err)
			}
		}
		if held, err := q.ExtendLeases(ctx, "w1", []uuid.UUID{again.ID, last.ID}, at(9)); err != nil || len(held) != 0 {
			t.Errorf("w1 renewing lost leases = %v, %v", held, err)
		}
		if err := q.FinishJob(ctx, again.ID, "w1", core.JobSucceeded, "", at(7), at(7)); !errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("w1 finishing a lost job = %v, want ErrLeaseLost", err)
		}
		if err := q.ReleaseJob(ctx, again.ID, "w1", "shutting down", at(7)); !errors.Is(err, store.ErrLeaseLost) {
			t.Errorf("w1 releasing a lost job = %v, want ErrLeaseLost", err)
		}
	}
	if j := getJob(t, q, again.ID); j.State != core.JobRunning || j.LeaseOwner != "w3" {
		t.Errorf("again = %+v, want still w3's", j)
	}
}

// TestFinishJob: a retry is due at the time the worker names and not
// before; a final state records when it finished; a job's result is
// written once (the second finish is refused).
func TestFinishJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	j := addJob(t, q, core.JobNotify, nil, 1, 3)
	claim := func(now int) []core.Job {
		t.Helper()
		got, err := q.ClaimJobs(ctx, "w1", []string{core.JobNotify}, at(now), time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if len(claim(2)) != 1 {
		t.Fatal("the job was not claimed")
	}
	if err := q.FinishJob(ctx, j.ID, "w1", core.JobRetrying, "CA down", at(30), at(3)); err != nil {
		t.Fatal(err)
	}
	got := getJob(t, q, j.ID)
	if got.State != core.JobRetrying || !got.RunAt.Equal(at(30)) || got.LastError != "CA down" || got.FinishedAt != nil ||
		got.LeaseOwner != "" || got.LeaseExpiresAt != nil || !got.UpdatedAt.Equal(at(3)) {
		t.Errorf("after a retryable failure = %+v, want retrying at 10:30, unleased, unfinished", got)
	}
	if early := claim(29); len(early) != 0 {
		t.Errorf("claimed before its retry time: %v", jobIDs(early))
	}
	if due := claim(30); len(due) != 1 || due[0].Attempt != 2 {
		t.Fatalf("at its retry time the claim = %+v, want its second attempt", due)
	}
	if err := q.FinishJob(ctx, j.ID, "w1", core.JobSucceeded, "", at(31), at(31)); err != nil {
		t.Fatal(err)
	}
	got = getJob(t, q, j.ID)
	if got.State != core.JobSucceeded || got.FinishedAt == nil || !got.FinishedAt.Equal(at(31)) || got.LastError != "" {
		t.Errorf("after success = %+v, want succeeded at 10:31", got)
	}
	if err := q.FinishJob(ctx, j.ID, "w1", core.JobFailed, "late", at(32), at(32)); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("finishing it again = %v, want ErrLeaseLost", err)
	}
	if got := getJob(t, q, j.ID); got.State != core.JobSucceeded || got.LastError != "" {
		t.Errorf("the second finish changed the job: %+v", got)
	}
}

// TestReleaseJob: a released job is due again at once without counting
// the attempt it gave back: queued after its first attempt, retrying
// after earlier failed ones.
func TestReleaseJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	j := addJob(t, q, core.JobNotify, nil, 1, 5)
	claimOne := func(now int) {
		t.Helper()
		got, err := q.ClaimJobs(ctx, "w1", []string{core.JobNotify}, at(now), time.Minute, 10)
		if err != nil || len(got) != 1 {
			t.Fatalf("claim at %d = %v, %v", now, jobIDs(got), err)
		}
	}
	claimOne(2)
	if err := q.ReleaseJob(ctx, j.ID, "w1", "shutting down", at(3)); err != nil {
		t.Fatal(err)
	}
	if got := getJob(t, q, j.ID); got.State != core.JobQueued || got.Attempt != 0 || !got.RunAt.Equal(at(3)) ||
		got.LeaseOwner != "" || got.LastError != "shutting down" {
		t.Errorf("released after a first attempt = %+v, want queued, attempt 0, due 10:03", got)
	}
	claimOne(3)
	if err := q.FinishJob(ctx, j.ID, "w1", core.JobRetrying, "failed once", at(4), at(3)); err != nil {
		t.Fatal(err)
	}
	claimOne(4)
	if err := q.ReleaseJob(ctx, j.ID, "w1", "shutting down", at(5)); err != nil {
		t.Fatal(err)
	}
	if got := getJob(t, q, j.ID); got.State != core.JobRetrying || got.Attempt != 1 || !got.RunAt.Equal(at(5)) {
		t.Errorf("released after a failed attempt = %+v, want retrying, attempt 1, due 10:05", got)
	}
	if err := q.ReleaseJob(ctx, j.ID, "w1", "twice", at(6)); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("releasing an unheld job = %v, want ErrLeaseLost", err)
	}
}

// TestSetJobState: an operator's change takes the job from its worker (who
// then cannot finish it), keeps the payload and last error unless given,
// and a failed job sent back to the queue starts its attempts afresh.
func TestSetJobState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	vid := newID(t)
	j := core.Job{ID: newID(t), Kind: core.JobNotify, State: core.JobQueued, MaxAttempts: 1, RunAt: at(1), CreatedAt: at(0),
		Payload: core.JobPayload{VersionID: &vid, Trigger: "manual"}}
	if err := q.InsertJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	if got, err := q.ClaimJobs(ctx, "w1", []string{core.JobNotify}, at(2), time.Minute, 1); err != nil || len(got) != 1 {
		t.Fatalf("ClaimJobs = %v, %v", jobIDs(got), err)
	}
	if err := q.FinishJob(ctx, j.ID, "w1", core.JobFailed, "gave up", at(3), at(3)); err != nil {
		t.Fatal(err)
	}
	got, err := q.SetJobState(ctx, j.ID, core.JobQueued, nil, at(4), at(4), "")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != core.JobQueued || got.Attempt != 0 || got.FinishedAt != nil || got.LastError != "gave up" ||
		got.Payload.VersionID == nil || *got.Payload.VersionID != vid || got.Payload.Trigger != "manual" {
		t.Errorf("a failed job retried = %+v, want queued with attempt 0, its payload and last error", got)
	}
	if claimed, err := q.ClaimJobs(ctx, "w1", []string{core.JobNotify}, at(4), time.Minute, 1); err != nil || len(claimed) != 1 {
		t.Fatalf("claiming the retried job = %v, %v", jobIDs(claimed), err)
	}
	got, err = q.SetJobState(ctx, j.ID, core.JobCancelled, &core.JobPayload{Trigger: "operator"}, at(5), at(5), "cancelled")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != core.JobCancelled || got.LeaseOwner != "" || got.LeaseExpiresAt != nil || got.FinishedAt == nil ||
		!got.FinishedAt.Equal(at(5)) || got.Attempt != 1 || got.Payload.Trigger != "operator" || got.LastError != "cancelled" {
		t.Errorf("a running job cancelled = %+v", got)
	}
	if err := q.FinishJob(ctx, j.ID, "w1", core.JobSucceeded, "", at(6), at(6)); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("the worker finishing a cancelled job = %v, want ErrLeaseLost", err)
	}
	if _, err := q.SetJobState(ctx, newID(t), core.JobCancelled, nil, at(6), at(6), ""); err == nil {
		t.Error("SetJobState of a missing job succeeded")
	} else {
		wantCode(t, "SetJobState of a missing job", err, core.ENOTFOUND)
	}
}

// TestCertificateSettled: a certificate is settled when none of its live
// jobs can progress; notify jobs never count, and a job waiting on an
// agent counts only while that agent is online and heard from recently.
func TestCertificateSettled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	iss := createIssuer(t, q, "ca")
	c := createCertificate(t, q, "a", iss.ID)
	agent := createAgent(t, q, "web", "linux")
	settled := func(what string, want bool) {
		t.Helper()
		got, err := q.CertificateSettled(ctx, c.ID, at(10))
		if err != nil || got != want {
			t.Errorf("%s: settled = %v, %v; want %v", what, got, err, want)
		}
	}
	settled("no jobs", true)
	addJob(t, q, core.JobNotify, &c.ID, 1, 3)
	settled("a live notify job", true)

	deploy := core.Job{ID: newID(t), Kind: core.JobDeploy, State: core.JobQueued, CertificateID: &c.ID, AgentID: &agent.ID,
		MaxAttempts: 3, RunAt: at(1), CreatedAt: at(1)}
	if err := q.InsertJob(ctx, deploy); err != nil {
		t.Fatal(err)
	}
	settled("a deploy job for a pending agent", true)
	heartbeat := func(status string, minute int) {
		t.Helper()
		if _, err := q.Raw().Exec(ctx, `UPDATE agents SET status = $2, last_heartbeat_at = $3 WHERE id = $1`,
			agent.ID, status, at(minute)); err != nil {
			t.Fatal(err)
		}
	}
	heartbeat(core.AgentOnline, 9)
	settled("a deploy job for an agent silent since before the stale time", true)
	heartbeat(core.AgentOnline, 10)
	settled("a deploy job for an online agent", false)
	if _, err := q.SetJobState(ctx, deploy.ID, core.JobRunning, nil, at(11), at(11), ""); err != nil {
		t.Fatal(err)
	}
	heartbeat(core.AgentOffline, 11)
	settled("a deploy job its agent is running, agent offline", false)
	if _, err := q.SetJobState(ctx, deploy.ID, core.JobSucceeded, nil, at(12), at(12), ""); err != nil {
		t.Fatal(err)
	}
	settled("only ended jobs", true)
	addJob(t, q, core.JobRenew, &c.ID, 20, 3)
	settled("a queued renewal (the server runs it)", false)
}

// TestListJobsAndFacts: jobs are listed newest first, filtered by kind,
// state and certificate, with the names of their agent and target.
func TestListJobsAndFacts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	iss := createIssuer(t, q, "ca")
	c := createCertificate(t, q, "a", iss.ID)
	agent := createAgent(t, q, "web", "linux")
	tg := core.Target{ID: newID(t), Name: "edge", Type: "nginx", AgentID: &agent.ID, Config: map[string]any{}, CreatedAt: at(0), UpdatedAt: at(0)}
	if err := q.CreateTarget(ctx, tg); err != nil {
		t.Fatal(err)
	}
	issue := addJob(t, q, core.JobIssue, &c.ID, 1, 3)
	deploy := core.Job{ID: newID(t), Kind: core.JobDeploy, State: core.JobQueued, CertificateID: &c.ID, TargetID: &tg.ID,
		AgentID: &agent.ID, MaxAttempts: 3, RunAt: at(1), CreatedAt: at(1)}
	if err := q.InsertJob(ctx, deploy); err != nil {
		t.Fatal(err)
	}
	other := addJob(t, q, core.JobNotify, nil, 1, 3)

	all, more, err := q.ListJobs(ctx, core.JobFilter{Page: core.Page{Limit: 10}})
	if err != nil || more || !slices.Equal(jobIDs(all), []uuid.UUID{other.ID, deploy.ID, issue.ID}) {
		t.Fatalf("ListJobs = %v, %v, %v; want newest first", jobIDs(all), more, err)
	}
	page, more, err := q.ListJobs(ctx, core.JobFilter{Page: core.Page{Limit: 2}})
	if err != nil || !more || len(page) != 2 {
		t.Errorf("a page of 2 = %v, more %v, %v", jobIDs(page), more, err)
	}
	for _, tc := range []struct {
		f    core.JobFilter
		want []uuid.UUID
	}{
		{core.JobFilter{Kind: core.JobDeploy}, []uuid.UUID{deploy.ID}},
		{core.JobFilter{CertificateID: &c.ID}, []uuid.UUID{deploy.ID, issue.ID}},
		{core.JobFilter{State: core.JobRunning}, nil},
	} {
		tc.f.Page.Limit = 10
		got, _, err := q.ListJobs(ctx, tc.f)
		if err != nil || !slices.Equal(jobIDs(got), tc.want) {
			t.Errorf("ListJobs(%+v) = %v, %v; want %v", tc.f, jobIDs(got), err, tc.want)
		}
	}
	j, err := q.GetJobWithFacts(ctx, deploy.ID)
	if err != nil || j.Facts == nil || j.Facts.AgentName != "web" || j.Facts.AgentStatus != core.AgentPending ||
		j.Facts.TargetName != "edge" {
		t.Errorf("GetJobWithFacts = %+v (facts %+v), %v", j, j.Facts, err)
	}
	if j, err := q.GetJobWithFacts(ctx, other.ID); err != nil || j.Facts == nil || j.Facts.AgentName != "" || j.Facts.TargetName != "" {
		t.Errorf("facts of a job with no agent or target = %+v, %v", j.Facts, err)
	}
}
