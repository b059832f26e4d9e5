package service_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

// reissueWorld is a world with a second CA to move certificates to, and an
// agent-bound target.
type reissueWorld struct {
	*world
	ca2    core.Issuer
	target core.Target
}

func newReissueWorld(t *testing.T) *reissueWorld {
	t.Helper()
	w := newWorld(t, nil)
	ca2, err := w.env.Service.CreateIssuer(w.ctx, service.IssuerInput{Name: "ca2", Type: "local",
		Config: map[string]any{"ca_key_type": "ecdsa-p256"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	ip := netip.MustParseAddr("127.0.0.1")
	agent := core.Agent{ID: uuid.Must(uuid.NewV7()), Name: "web-agent", Status: core.AgentOnline, Labels: map[string]string{},
		IPAddress: &ip, EnrolledAt: now, CreatedAt: now, UpdatedAt: now}
	if err := w.env.Store.Q().CreateAgent(context.Background(), agent); err != nil {
		t.Fatal(err)
	}
	tgt, err := w.env.Service.CreateTarget(w.ctx, service.TargetInput{Name: "web", Type: "nginx", AgentID: &agent.ID})
	if err != nil {
		t.Fatal(err)
	}
	return &reissueWorld{world: w, ca2: ca2, target: tgt}
}

// certs declares n certificates on the first CA, every third deployed to
// the agent's target (so in agent key mode: the agent makes their CSRs),
// and returns them once all are issued.
func (w *reissueWorld) certs(t *testing.T, n int) []core.Certificate {
	t.Helper()
	out := make([]core.Certificate, n)
	for i := range n {
		in := service.CertificateInput{Name: fmt.Sprintf("c%04d", i), CommonName: fmt.Sprintf("c%04d.example.com", i),
			IssuerID: w.ca.ID}
		if i%3 == 0 {
			in.TargetIDs = []uuid.UUID{w.target.ID}
		}
		c, err := w.env.Service.CreateCertificate(w.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = c
	}
	stopAgent := w.runAgent(t)
	defer stopAgent()
	stop := runWorker(t, w.env.Service.NewWorker(service.WorkerOptions{Concurrency: 8, Poll: 50 * time.Millisecond}))
	waitUntil(t, "every certificate issued", func() bool {
		return w.count(t, `SELECT count(*) FROM managed_certificates WHERE status <> 'active'`) == 0
	})
	stop()
	return out
}

// runAgent stands for the agent of the target: until stop, it sends a
// CSR for each issuance waiting for one, through the service as the agent
// API does.
func (w *reissueWorld) runAgent(t *testing.T) (stop func()) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			rows, err := w.env.Pool.Query(ctx, `SELECT j.id, c.common_name, c.sans FROM jobs j
				JOIN managed_certificates c ON c.id = j.certificate_id
				WHERE j.state = 'waiting' AND j.kind IN ('issue', 'renew') AND j.agent_id IS NOT NULL`)
			var todo []struct {
				job  uuid.UUID
				cn   string
				sans []string
			}
			if err == nil {
				for rows.Next() {
					var x struct {
						job  uuid.UUID
						cn   string
						sans []string
					}
					if rows.Scan(&x.job, &x.cn, &x.sans) == nil {
						todo = append(todo, x)
					}
				}
				rows.Close()
			}
			for _, x := range todo {
				der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
					Subject: pkix.Name{CommonName: x.cn}, DNSNames: x.sans}, key)
				if err != nil {
					t.Error(err)
					return
				}
				csr := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
				// A job another operator cancelled meanwhile answers a conflict.
				if _, err := w.env.Service.SubmitCSR(w.ctx, x.job, csr); err != nil && core.ErrorCode(err) != core.ECONFLICT {
					t.Errorf("submit CSR of job %s: %v", x.job, err)
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return func() { cancel(); <-done }
}

func (w *reissueWorld) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := w.env.Pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (w *reissueWorld) operation(t *testing.T, id uuid.UUID) core.Operation {
	t.Helper()
	o, err := w.env.Service.GetOperation(w.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// runOperations runs an operation runner until stop (or the test's end);
// stop waits for it to return.
func runOperations(t *testing.T, s *service.Service, o service.OperationRunnerOptions) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.RunOperations(ctx, o) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(time.Minute):
				t.Error("operation runner did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// watchOutstanding samples the operation's live jobs from the database
// until stop, which returns the most seen at once.
func (w *reissueWorld) watchOutstanding(t *testing.T, op uuid.UUID) (stop func() int) {
	t.Helper()
	most := 0
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			var n int
			err := w.env.Pool.QueryRow(context.Background(), `SELECT count(*) FROM jobs j LEFT JOIN agents a ON a.id = j.agent_id
				WHERE j.operation_id = $1 AND j.state IN ('queued', 'running', 'waiting', 'retrying')
				AND (j.state <> 'waiting' OR a.status IS DISTINCT FROM 'offline')`, op).Scan(&n)
			if err == nil {
				most = max(most, n)
			}
			select {
			case <-quit:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return func() int { close(quit); <-done; return most }
}

// checkOnceEach checks that every certificate got exactly one version
// from the operation, current and from the issuer wanted, and that no
// certificate had two jobs of the operation.
func (w *reissueWorld) checkOnceEach(t *testing.T, op uuid.UUID, certs []core.Certificate, issuer uuid.UUID) {
	t.Helper()
	for _, c := range certs {
		got := w.get(t, c.ID)
		if got.IssuerID != issuer || got.Status != core.CertActive {
			t.Errorf("%s: issuer %s status %s, want %s active", c.Name, got.IssuerID, got.Status, issuer)
		}
	}
	if n := w.count(t, `SELECT count(*) FROM (SELECT c.id FROM managed_certificates c
			LEFT JOIN certificate_versions v ON v.certificate_id = c.id
				AND v.job_id IN (SELECT id FROM jobs WHERE operation_id = $1)
			GROUP BY c.id HAVING count(v.id) <> 1) x`, op); n != 0 {
		t.Errorf("%d certificates have not exactly one version from the operation", n)
	}
	if n := w.count(t, `SELECT count(*) FROM managed_certificates c JOIN certificate_versions v ON v.id = c.current_version_id
			WHERE v.issuer_id <> $1 OR v.job_id NOT IN (SELECT id FROM jobs WHERE operation_id = $2)`, issuer, op); n != 0 {
		t.Errorf("%d certificates' current version is not the operation's from the new issuer", n)
	}
	if n := w.count(t, `SELECT count(*) FROM (SELECT certificate_id FROM jobs WHERE operation_id = $1
			GROUP BY certificate_id HAVING count(*) > 1) x`, op); n != 0 {
		t.Errorf("%d certificates have more than one job of the operation", n)
	}
}

// TestReissueMovesEveryCertificateOnce: a re-issue onto another CA of a
// few hundred certificates (some deployed to an agent's target, some
// already being renewed, some with a renewal running elsewhere) ends with
// each re-issued exactly once on the new CA, and the counts right.
func TestReissueMovesEveryCertificateOnce(t *testing.T) {
	t.Parallel()
	w := newReissueWorld(t)
	const n, k = 300, 20
	certs := w.certs(t, n)
	// The first fifteen are being renewed: ten queued (the operation takes
	// them over), five running on a server that is slow to finish (their
	// re-issue waits for them to end).
	for _, c := range certs[:15] {
		if _, err := w.env.Service.RenewCertificate(w.ctx, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	running, err := w.env.Store.Q().ClaimJobs(context.Background(), "elsewhere", []string{core.JobRenew}, w.clock.Now(), time.Hour, 5)
	if err != nil || len(running) != 5 {
		t.Fatalf("claim: %d %v", len(running), err)
	}
	op, err := w.env.Service.ReissueCertificates(w.ctx, service.ReissueInput{Filter: core.OperationFilter{IssuerID: &w.ca.ID},
		ToIssuerID: &w.ca2.ID, Reason: "ca distrusted"})
	if err != nil {
		t.Fatal(err)
	}
	if op.EstimatedTotal != n || op.Status != core.OperationRunning {
		t.Fatalf("new operation: %+v", op)
	}
	watch := w.watchOutstanding(t, op.ID)
	runOperations(t, w.env.Service, service.OperationRunnerOptions{Owner: "a", Outstanding: k, Chunk: 50, Poll: 10 * time.Millisecond,
		Idle: 10 * time.Millisecond})
	// The first step takes the first k certificates before any worker
	// runs: it adopts the ten queued renewals and defers the five running.
	// (Its five new jobs leave room for a second step of five, which may
	// come before this look.)
	waitUntil(t, "the first step", func() bool { return w.operation(t, op.ID).Matched > 0 })
	first := w.operation(t, op.ID)
	if first.Matched < k || first.Adopted != 10 || first.Deferred != 5 || first.Started != first.Matched-15 {
		t.Fatalf("first step: matched %d adopted %d deferred %d started %d, want at least %d, 10, 5, the rest",
			first.Matched, first.Adopted, first.Deferred, first.Started, k)
	}
	runWorker(t, w.env.Service.NewWorker(service.WorkerOptions{Concurrency: 8, Poll: 50 * time.Millisecond}))
	t.Cleanup(w.runAgent(t))
	waitUntil(t, "the walk to end", func() bool { return w.operation(t, op.ID).Progress.Issued >= n-5 })
	if o := w.operation(t, op.ID); o.Status != core.OperationRunning || o.Deferred != 5 {
		t.Fatalf("with renewals still running elsewhere: status %s, deferred %d", o.Status, o.Deferred)
	}
	// The slow server's renewals end (cancelled here): their certificates'
	// re-issues start.
	for _, j := range running {
		if _, err := w.env.Service.CancelJob(w.ctx, j.ID); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, "the operation to end", func() bool { return w.operation(t, op.ID).Status == core.OperationDone })
	if most := watch(); most > k || most == 0 {
		t.Errorf("at most %d of the operation's jobs were outstanding at once; the bound is %d", most, k)
	}
	o := w.operation(t, op.ID)
	p := o.Progress
	if o.Matched != n || o.Started != n-10 || o.Adopted != 10 || o.Skipped != 0 || o.Deferred != 0 || p.Issued != n ||
		p.Failed != 0 || p.Outstanding != 0 {
		t.Errorf("operation: %+v", o)
	}
	// Every third certificate goes to the agent's target: one deployment
	// each of its new version, waiting for the agent.
	if want := (n + 2) / 3; p.DeploymentsActive != want || p.DeploymentsDone != 0 {
		t.Errorf("deployments: %d active %d done, want %d active", p.DeploymentsActive, p.DeploymentsDone, want)
	}
	w.checkOnceEach(t, op.ID, certs, w.ca2.ID)
	if got := w.count(t, `SELECT count(*) FROM audit_events WHERE action = 'certificate.reissue'
			AND details->>'operation_id' = $1`, op.ID.String()); got != n+5 {
		t.Errorf("%d certificate.reissue audit events, want one per certificate and one per deferral (%d)", got, n+5)
	}
}

// TestReissueResumesOnAnotherReplica: the server driving an operation dies
// after some chunks, its lease left behind; another server on the same
// database takes over when the lease expires and finishes it: still one
// new version per certificate, no job doubled, the bound on outstanding
// jobs kept throughout.
func TestReissueResumesOnAnotherReplica(t *testing.T) {
	t.Parallel()
	w := newReissueWorld(t)
	const n, k = 200, 10
	certs := w.certs(t, n)
	// A key compromise: the same issuer re-issues.
	op, err := w.env.Service.ReissueCertificates(w.ctx, service.ReissueInput{Filter: core.OperationFilter{NamePrefix: "c"}})
	if err != nil {
		t.Fatal(err)
	}
	watch := w.watchOutstanding(t, op.ID)
	runWorker(t, w.env.Service.NewWorker(service.WorkerOptions{Concurrency: 4, Poll: 50 * time.Millisecond}))
	t.Cleanup(w.runAgent(t))
	const lease = time.Minute
	opts := service.OperationRunnerOptions{Owner: "replica-a", Outstanding: k, Chunk: 7, Lease: lease, Poll: 10 * time.Millisecond,
		Idle: 10 * time.Millisecond}
	stopA := runOperations(t, w.env.Service, opts)
	waitUntil(t, "some chunks", func() bool { return w.operation(t, op.ID).Matched >= 60 })
	stopA()
	// Replica A died rather than stopping: its lease stays until it expires.
	if _, err := w.env.Pool.Exec(context.Background(), `UPDATE bulk_operations SET lease_owner = 'replica-a',
		lease_expires_at = $2 WHERE id = $1`, op.ID, w.clock.Now().Add(lease)); err != nil {
		t.Fatal(err)
	}
	mid := w.operation(t, op.ID)
	if mid.Status != core.OperationRunning || mid.Matched >= n {
		t.Fatalf("replica a went too far: %+v", mid)
	}
	b := service.New(service.Options{Store: w.env.Store, Issuers: w.env.Plugins, Clock: w.clock.Now})
	opts.Owner = "replica-b"
	runOperations(t, b, opts)
	// While A's lease holds, B leaves the operation alone.
	time.Sleep(200 * time.Millisecond)
	if o := w.operation(t, op.ID); o.LeaseOwner != "replica-a" || o.Matched != mid.Matched {
		t.Fatalf("replica b took the operation while a's lease held: owner %q matched %d (was %d)", o.LeaseOwner, o.Matched, mid.Matched)
	}
	w.clock.Add(lease + time.Second)
	waitUntil(t, "replica b to finish the operation", func() bool { return w.operation(t, op.ID).Status == core.OperationDone })
	if most := watch(); most > k || most == 0 {
		t.Errorf("at most %d of the operation's jobs were outstanding at once; the bound is %d", most, k)
	}
	o := w.operation(t, op.ID)
	if o.Matched != n || o.Started != n || o.Progress.Issued != n || o.Progress.Failed != 0 {
		t.Errorf("operation: %+v", o)
	}
	w.checkOnceEach(t, op.ID, certs, w.ca.ID)
	if got := w.count(t, `SELECT count(*) FROM audit_events WHERE action = 'operation.done' AND resource_id = $1 AND actor_name = 'certctl-server'`,
		op.ID.String()); got != 1 {
		t.Errorf("%d operation.done events, want 1", got)
	}
}

// TestReissueAPI: the bulk re-issue's input checks, its authorization, its
// progress resource, and cancel, through the HTTP API.
func TestReissueAPI(t *testing.T) {
	t.Parallel()
	w := newReissueWorld(t)
	env := w.env
	certs := w.certs(t, 12)
	var viewer api.APIKey
	env.MustDo(t, "POST", "/api/v1/api-keys", env.AdminKey, api.APIKeyRequest{Name: "viewer", Role: "viewer"}, 201).Decode(t, &viewer)
	caID, ca2ID, targetID := w.ca.ID.String(), w.ca2.ID.String(), w.target.ID.String()
	missing := uuid.NewString()
	for _, tc := range []struct {
		name string
		body any
		want string
	}{
		{"no filter", api.ReissueRequest{ToIssuerID: &ca2ID}, "at least one filter"},
		{"unknown to issuer", api.ReissueRequest{IssuerID: &caID, ToIssuerID: &missing}, "no issuer with id " + missing},
		{"a target is no issuer", api.ReissueRequest{IssuerID: &caID, ToIssuerID: &targetID}, "no issuer with id " + targetID},
		{"unknown filter issuer", api.ReissueRequest{IssuerID: &missing}, "no issuer with id " + missing},
		{"bad status", api.ReissueRequest{Status: "sleeping"}, "status"},
		{"bad rate", map[string]any{"name_prefix": "c", "max_per_second": 0}, "max_per_second"},
		{"unknown field", map[string]any{"name_prefix": "c", "to_issuer": ca2ID}, "to_issuer"},
	} {
		r := env.MustDo(t, "POST", "/api/v1/certificates/reissue", env.AdminKey, tc.body, 400)
		if body := string(r.Body); !strings.Contains(body, tc.want) || !strings.Contains(body, `"code"`) {
			t.Errorf("%s: %s, want a message with %q", tc.name, r.Body, tc.want)
		}
	}
	env.MustDo(t, "POST", "/api/v1/certificates/reissue", viewer.Key, api.ReissueRequest{IssuerID: &caID, ToIssuerID: &ca2ID}, 403)
	if n := w.count(t, `SELECT count(*) FROM bulk_operations`); n != 0 {
		t.Fatalf("%d operations recorded by refused requests", n)
	}
	var op api.Operation
	r := env.MustDo(t, "POST", "/api/v1/certificates/reissue", env.AdminKey,
		api.ReissueRequest{IssuerID: &caID, ToIssuerID: &ca2ID, Reason: "distrust"}, 202)
	r.Decode(t, &op)
	if op.Status != "running" || op.EstimatedTotal != len(certs) || op.Kind != "reissue" || op.CreatedBy == "" ||
		op.ToIssuerID == nil || *op.ToIssuerID != ca2ID || op.Filter.IssuerID == nil || *op.Filter.IssuerID != caID {
		t.Fatalf("created: %+v", op)
	}
	var got api.Operation
	env.MustDo(t, "GET", "/api/v1/operations/"+op.ID, viewer.Key, nil, 200).Decode(t, &got)
	if got.ID != op.ID || got.Remaining != len(certs) {
		t.Errorf("get: %+v", got)
	}
	var page struct {
		Items      []api.Operation `json:"items"`
		NextCursor *string         `json:"next_cursor"`
	}
	env.MustDo(t, "GET", "/api/v1/operations?status=running", viewer.Key, nil, 200).Decode(t, &page)
	if len(page.Items) != 1 || page.Items[0].ID != op.ID || page.NextCursor != nil {
		t.Errorf("list: %+v", page)
	}
	env.MustDo(t, "GET", "/api/v1/operations?status=sleeping", viewer.Key, nil, 400)
	env.MustDo(t, "POST", "/api/v1/operations/"+op.ID+"/cancel", viewer.Key, nil, 403)
	env.MustDo(t, "POST", "/api/v1/operations/"+op.ID+"/cancel", env.AdminKey, nil, 200).Decode(t, &got)
	if got.Status != "cancelled" || got.FinishedAt == nil {
		t.Errorf("cancelled: %+v", got)
	}
	env.MustDo(t, "POST", "/api/v1/operations/"+op.ID+"/cancel", env.AdminKey, nil, 409)
	env.MustDo(t, "GET", "/api/v1/operations/"+uuid.NewString(), env.AdminKey, nil, 404)
	// A cancelled operation enqueues nothing: a runner that then drives a
	// later operation (of one certificate) to its end leaves the cancelled
	// one's certificates alone.
	prefix := certs[0].Name
	var later api.Operation
	env.MustDo(t, "POST", "/api/v1/certificates/reissue", env.AdminKey,
		api.ReissueRequest{NamePrefix: prefix, ToIssuerID: &ca2ID}, 202).Decode(t, &later)
	runWorker(t, env.Service.NewWorker(service.WorkerOptions{Concurrency: 2, Poll: 50 * time.Millisecond}))
	t.Cleanup(w.runAgent(t))
	runOperations(t, env.Service, service.OperationRunnerOptions{Owner: "a", Poll: 5 * time.Millisecond, Idle: 5 * time.Millisecond})
	waitUntil(t, "the later operation to end", func() bool {
		env.MustDo(t, "GET", "/api/v1/operations/"+later.ID, viewer.Key, nil, 200).Decode(t, &got)
		return got.Status == "done"
	})
	if got.Issued != 1 || got.Matched != 1 || got.Remaining != 0 {
		t.Errorf("later operation: %+v", got)
	}
	if n := w.count(t, `SELECT count(*) FROM jobs WHERE operation_id IS NOT NULL AND operation_id <> $1`, later.ID); n != 0 {
		t.Errorf("a cancelled operation enqueued %d jobs", n)
	}
	for _, c := range certs[1:] {
		if got := w.get(t, c.ID); got.IssuerID != w.ca.ID {
			t.Errorf("%s moved by a cancelled operation", c.Name)
		}
	}
	if n := w.count(t, `SELECT count(*) FROM audit_events WHERE action IN ('certificate.bulk_reissue', 'operation.cancel')
			AND outcome = 'success' AND resource_id = $1`, op.ID); n != 2 {
		t.Errorf("%d audit events of the operation's start and cancel, want 2", n)
	}
}

// TestReissueChunkIsAllOrNothing: a step that fails at its last write (the
// audit events, after its jobs are inserted and its certificates moved)
// leaves nothing behind: no job, no certificate moved, the cursor where
// it was. Once the failure is gone the operation goes on from there, and
// each certificate is still re-issued once.
func TestReissueChunkIsAllOrNothing(t *testing.T) {
	t.Parallel()
	w := newReissueWorld(t)
	certs := w.certs(t, 30)
	ctx := context.Background()
	if _, err := w.env.Pool.Exec(ctx, `CREATE FUNCTION fail_reissue_audit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.action = 'certificate.reissue' THEN RAISE EXCEPTION 'injected failure'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER fail_reissue BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION fail_reissue_audit()`); err != nil {
		t.Fatal(err)
	}
	op, err := w.env.Service.ReissueCertificates(w.ctx, service.ReissueInput{Filter: core.OperationFilter{IssuerID: &w.ca.ID},
		ToIssuerID: &w.ca2.ID})
	if err != nil {
		t.Fatal(err)
	}
	stop := runOperations(t, w.env.Service, service.OperationRunnerOptions{Owner: "a", Outstanding: 10, Chunk: 10,
		Poll: 10 * time.Millisecond, Idle: 10 * time.Millisecond})
	waitUntil(t, "a failed step", func() bool { return w.operation(t, op.ID).LastError != "" })
	stop()
	o := w.operation(t, op.ID)
	if o.Matched != 0 || o.Started != 0 || o.CursorID != nil || o.Status != core.OperationRunning {
		t.Errorf("after a failed step: %+v", o)
	}
	if n := w.count(t, `SELECT count(*) FROM jobs WHERE operation_id IS NOT NULL
			OR (kind IN ('issue', 'renew') AND state IN ('queued', 'waiting'))`); n != 0 {
		t.Errorf("a failed step left %d jobs", n)
	}
	if n := w.count(t, `SELECT count(*) FROM managed_certificates WHERE issuer_id <> $1 OR status <> 'active'`, w.ca.ID); n != 0 {
		t.Errorf("a failed step moved or changed %d certificates", n)
	}
	if _, err := w.env.Pool.Exec(ctx, `DROP TRIGGER fail_reissue ON audit_events`); err != nil {
		t.Fatal(err)
	}
	runWorker(t, w.env.Service.NewWorker(service.WorkerOptions{Concurrency: 4, Poll: 50 * time.Millisecond}))
	t.Cleanup(w.runAgent(t))
	runOperations(t, w.env.Service, service.OperationRunnerOptions{Owner: "b", Outstanding: 10, Chunk: 10,
		Poll: 10 * time.Millisecond, Idle: 10 * time.Millisecond})
	waitUntil(t, "the operation to end", func() bool { return w.operation(t, op.ID).Status == core.OperationDone })
	if o := w.operation(t, op.ID); o.Started != len(certs) || o.Progress.Issued != len(certs) || o.LastError != "" {
		t.Errorf("operation: %+v", o)
	}
	w.checkOnceEach(t, op.ID, certs, w.ca2.ID)
}

// TestReissueRefusesAnIssuerItCannotRun: moving certificates to an issuer
// whose plugin this server cannot run would fail every job of the
// operation; it is refused at once, and nothing is recorded.
func TestReissueRefusesAnIssuerItCannotRun(t *testing.T) {
	t.Parallel()
	w := newWorld(t, nil, func(service.IssuerProvider) service.IssuerProvider { return unavailableIssuers{} })
	_, err := w.env.Service.ReissueCertificates(w.ctx, service.ReissueInput{Filter: core.OperationFilter{NamePrefix: "web-"},
		ToIssuerID: &w.ca.ID})
	if core.ErrorCode(err) != core.EINVALID || !strings.Contains(core.ErrorMessage(err), `issuer "ca" cannot issue now`) {
		t.Errorf("re-issue onto an issuer whose plugin is unavailable: %v", err)
	}
	var n int
	if err := w.env.Pool.QueryRow(context.Background(), `SELECT count(*) FROM bulk_operations`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d operations recorded (%v)", n, err)
	}
}

// TestReissueNotHeldUpByAgentsDown: jobs waiting for an agent's CSR do not
// count against the bound, so a re-issue whose agent-key certificates'
// agent is down still moves every other certificate, and ends only once
// the agent is back and has sent its CSRs.
func TestReissueNotHeldUpByAgentsDown(t *testing.T) {
	t.Parallel()
	w := newReissueWorld(t)
	const n, k = 60, 5 // every third, 20, waits for the agent: four times k
	certs := w.certs(t, n)
	// The agent goes offline (as the sweep marks an agent whose
	// heartbeats stopped).
	if _, err := w.env.Pool.Exec(context.Background(), `UPDATE agents SET status = 'offline' WHERE id = $1`, *w.target.AgentID); err != nil {
		t.Fatal(err)
	}
	op, err := w.env.Service.ReissueCertificates(w.ctx, service.ReissueInput{Filter: core.OperationFilter{IssuerID: &w.ca.ID},
		ToIssuerID: &w.ca2.ID, Reason: "ca distrusted"})
	if err != nil {
		t.Fatal(err)
	}
	runOperations(t, w.env.Service, service.OperationRunnerOptions{Owner: "a", Outstanding: k, Chunk: 10, Poll: 10 * time.Millisecond,
		Idle: 10 * time.Millisecond})
	runWorker(t, w.env.Service.NewWorker(service.WorkerOptions{Concurrency: 4, Poll: 50 * time.Millisecond}))
	waitUntil(t, "the server-key certificates re-issued while the agent is down", func() bool {
		return w.operation(t, op.ID).Progress.Issued == n-n/3
	})
	o := w.operation(t, op.ID)
	if o.Status != core.OperationRunning || o.Matched != n || o.Progress.Outstanding != n/3 {
		t.Fatalf("with the agent down: status %s, matched %d, outstanding %d; want running, %d, %d",
			o.Status, o.Matched, o.Progress.Outstanding, n, n/3)
	}
	if _, err := w.env.Pool.Exec(context.Background(), `UPDATE agents SET status = 'online' WHERE id = $1`, *w.target.AgentID); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.runAgent(t))
	waitUntil(t, "the operation to end", func() bool { return w.operation(t, op.ID).Status == core.OperationDone })
	w.checkOnceEach(t, op.ID, certs, w.ca2.ID)
}
