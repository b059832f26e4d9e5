// This file is the simulated fleet: agents that speak the real agent
// protocol (enroll, heartbeat, long poll for work) through a client-side
// balancer over the replicas; those that own targets also make keys and
// CSRs, "deploy" (hold the certificate per target in memory), verify and
// report, as agent/agent.go does, and record every deployment they applied
// so the invariant check can compare with the server's records.

package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// balancer is the soak's load balancer, on the client side: a request
// goes to its agent's home replica and, when that one refuses the
// connection (it is down), to the next. Nothing was sent then, so any
// request may go on.
type balancer struct {
	base      http.RoundTripper
	replicas  []string // host:port
	failovers atomic.Int64
}

func (b *balancer) RoundTrip(req *http.Request) (*http.Response, error) {
	home := slices.Index(b.replicas, req.URL.Host)
	if home < 0 {
		return b.base.RoundTrip(req)
	}
	var err error
	for k := range b.replicas {
		r := req
		if k > 0 {
			if req.Body != nil && req.GetBody == nil {
				break
			}
			r = req.Clone(req.Context())
			r.URL.Host = b.replicas[(home+k)%len(b.replicas)]
			r.Host = r.URL.Host
			if req.GetBody != nil {
				if r.Body, err = req.GetBody(); err != nil {
					return nil, err
				}
			}
			b.failovers.Add(1)
		}
		var resp *http.Response
		resp, err = b.base.RoundTrip(r)
		if err == nil || !errors.Is(err, syscall.ECONNREFUSED) {
			return resp, err
		}
	}
	return nil, err
}

// tally counts errors clients saw, by operation and kind, and how they
// ended (retried until done, or given up).
type tally struct {
	mu     sync.Mutex
	errors map[string]int // "operation: kind"
	ok     map[string]int // operation → successes
}

func newTally() *tally { return &tally{errors: map[string]int{}, ok: map[string]int{}} }

func (t *tally) fail(op string, err error) {
	t.mu.Lock()
	t.errors[op+": "+errorKind(err)]++
	t.mu.Unlock()
}

func (t *tally) success(op string) {
	t.mu.Lock()
	t.ok[op]++
	t.mu.Unlock()
}

// okLine lists the successes by operation.
func (t *tally) okLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.ok))
	for k := range t.ok {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d %s", t.ok[k], k))
	}
	return strings.Join(parts, ", ")
}

// lines are the tallies, most frequent first.
func (t *tally) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.errors))
	for k := range t.errors {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if t.errors[keys[i]] != t.errors[keys[j]] {
			return t.errors[keys[i]] > t.errors[keys[j]]
		}
		return keys[i] < keys[j]
	})
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%7d  %s", t.errors[k], k))
	}
	return out
}

// errorKind names an error without its variable parts.
func errorKind(err error) string {
	var apiErr *client.Error
	switch {
	case errors.As(err, &apiErr):
		return fmt.Sprintf("HTTP %d %s", apiErr.StatusCode, apiErr.Code)
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cut by the partition"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (every replica)"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed (EOF)"
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return "timeout"
	}
	s := err.Error()
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return s
}

// group is a set of agents that can be partitioned away from the servers:
// while it is, its agents send nothing and their open requests are cut.
type group struct {
	mu     sync.Mutex
	down   bool
	ctx    context.Context
	cancel context.CancelFunc
	parent context.Context
}

func newGroup(parent context.Context) *group {
	g := &group{parent: parent}
	g.ctx, g.cancel = context.WithCancel(parent)
	return g
}

// current returns the context requests run under, and whether the group
// is partitioned now.
func (g *group) current() (context.Context, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ctx, g.down
}

func (g *group) partition() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.down = true
	g.cancel()
}

func (g *group) heal() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.down = false
	g.ctx, g.cancel = context.WithCancel(g.parent)
}

// application is one deployment a simulated agent carried out.
type application struct {
	jobID, certID, versionID, targetID, serial string
	ok                                         bool
}

// simAgent is one simulated agent.
type simAgent struct {
	idx    int
	name   string
	id     string
	client *client.Client
	group  *group
	facts  api.AgentFacts
	// failing names targets whose "reload" fails.
	failing map[string]bool

	mu       sync.Mutex
	keys     map[string]*ecdsa.PrivateKey   // by issuance job id: one key per job, as the real agent's key store
	byCert   map[string][]*ecdsa.PrivateKey // by certificate id, to find the key of a version
	applied  []application
	served   map[string]string                // target id → serial it holds now
	received map[string]bool                  // every job id a poll brought
	results  map[string]api.AgentDeployResult // by deploy job id: what was reported, to report again when resent
}

// fleet runs the simulated agents.
type fleet struct {
	agents      []*simAgent
	tally       *tally
	pollWait    time.Duration
	heartbeat   time.Duration
	reqTimeout  time.Duration
	work        atomic.Int64 // work items received
	csrs        atomic.Int64
	deploys     atomic.Int64
	retries     atomic.Int64
	wg          sync.WaitGroup
	stopping    atomic.Bool
	lastWorkNS  atomic.Int64 // when the last work item arrived, unix ns
	pendingReps atomic.Int64 // reports and CSRs not yet delivered
}

// run starts every agent's heartbeat and poll loops; they end with ctx.
func (f *fleet) run(ctx context.Context) {
	n := len(f.agents)
	for k, a := range f.agents {
		first := time.Duration(int64(f.heartbeat) * int64(k) / int64(n))
		f.wg.Add(2)
		go func() { defer f.wg.Done(); f.heartbeatLoop(ctx, a, first) }()
		go func() { defer f.wg.Done(); f.workLoop(ctx, a) }()
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (f *fleet) heartbeatLoop(ctx context.Context, a *simAgent, first time.Duration) {
	if !sleepCtx(ctx, first) {
		return
	}
	for ctx.Err() == nil {
		gctx, down := a.group.current()
		if !down {
			rctx, cancel := context.WithTimeout(gctx, f.reqTimeout)
			_, err := a.client.Heartbeat(rctx, a.facts)
			cancel()
			switch {
			case err == nil:
				f.tally.success("heartbeat")
			case gctx.Err() == nil && ctx.Err() == nil:
				f.tally.fail("heartbeat", err)
			}
		}
		jitter := time.Duration(mrand.Int64N(int64(f.heartbeat)/25+1)) - f.heartbeat/50
		if !sleepCtx(ctx, f.heartbeat+jitter) {
			return
		}
	}
}

// workLoop long-polls and does the work, one item after another, as the
// real agent does; failed polls back off about a second.
func (f *fleet) workLoop(ctx context.Context, a *simAgent) {
	if !sleepCtx(ctx, time.Duration(mrand.Int64N(int64(2*time.Second)))) {
		return
	}
	for ctx.Err() == nil && !f.stopping.Load() {
		gctx, down := a.group.current()
		if down {
			sleepCtx(ctx, time.Second)
			continue
		}
		// As certctl-agent polls: deployments leased to this agent that
		// it has not reported come again (their answer may have been lost).
		w, err := a.client.AgentWorkResending(gctx, f.pollWait)
		if err != nil {
			if gctx.Err() == nil && ctx.Err() == nil {
				f.tally.fail("long poll", err)
			}
			sleepCtx(ctx, 500*time.Millisecond+time.Duration(mrand.Int64N(int64(time.Second))))
			continue
		}
		f.tally.success("long poll")
		for _, item := range w.Items {
			a.mu.Lock()
			a.received[item.JobID] = true
			a.mu.Unlock()
			f.work.Add(1)
			f.lastWorkNS.Store(time.Now().UnixNano())
			f.do(ctx, a, item)
		}
	}
}

func (f *fleet) do(ctx context.Context, a *simAgent, item api.AgentWorkItem) {
	switch item.Kind {
	case api.AgentWorkCSR:
		csr, err := a.csrFor(item)
		if err != nil {
			f.tally.fail("csr (local)", err)
			return
		}
		f.deliver(ctx, a, "submit csr", func(rctx context.Context) error {
			_, err := a.client.SubmitAgentCSR(rctx, item.JobID, csr)
			return err
		})
		f.csrs.Add(1)
	case api.AgentWorkDeploy:
		a.mu.Lock()
		res, done := a.results[item.JobID]
		a.mu.Unlock()
		if !done {
			// Done once only, as the real agent: a deployment sent again
			// (its report not received) is reported again.
			res = a.deploy(item)
			a.mu.Lock()
			a.results[item.JobID] = res
			a.mu.Unlock()
			f.deploys.Add(1)
		}
		f.deliver(ctx, a, "deploy report", func(rctx context.Context) error {
			return a.client.ReportDeployment(rctx, item.JobID, res)
		})
	}
}

// deliver sends a CSR or report until the server takes it, or says it no
// longer wants it (409, 404: already taken, or the job taken back), as
// the real agent's queued reports are. A partitioned agent waits.
func (f *fleet) deliver(ctx context.Context, a *simAgent, op string, send func(context.Context) error) {
	f.pendingReps.Add(1)
	defer f.pendingReps.Add(-1)
	for attempt := 0; ctx.Err() == nil; attempt++ {
		gctx, down := a.group.current()
		if down {
			sleepCtx(ctx, time.Second)
			continue
		}
		rctx, cancel := context.WithTimeout(gctx, f.reqTimeout)
		err := send(rctx)
		cancel()
		switch {
		case err == nil:
			f.tally.success(op)
			return
		case client.IsConflict(err) || client.IsNotFound(err):
			// The server has it (an earlier attempt went through before
			// its answer was lost) or no longer wants it.
			f.tally.fail(op+" (ended: server no longer wants it)", err)
			return
		}
		f.tally.fail(op+" (retried)", err)
		f.retries.Add(1)
		wait := min(time.Duration(1<<min(attempt, 5))*250*time.Millisecond, 8*time.Second)
		sleepCtx(ctx, wait/2+time.Duration(mrand.Int64N(int64(wait/2)+1)))
	}
}

// csrFor makes (or reuses, for the same job) a P-256 key and its CSR.
func (a *simAgent) csrFor(item api.AgentWorkItem) ([]byte, error) {
	a.mu.Lock()
	key := a.keys[item.JobID]
	if key == nil {
		var err error
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			a.mu.Unlock()
			return nil, err
		}
		a.keys[item.JobID] = key
		a.byCert[item.Certificate.ID] = append(a.byCert[item.Certificate.ID], key)
	}
	a.mu.Unlock()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: item.Certificate.CommonName}, DNSNames: item.Certificate.SANs}, crypto.Signer(key))
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// deploy "installs" a version on its target: the agent must hold the key
// of the certificate's public key; the failing target's reload fails.
func (a *simAgent) deploy(item api.AgentWorkItem) api.AgentDeployResult {
	if item.Version == nil || item.Target == nil {
		return api.AgentDeployResult{Message: "deploy work without a version or target"}
	}
	block, _ := pem.Decode([]byte(item.Version.CertificatePEM))
	if block == nil {
		return api.AgentDeployResult{Message: "version has no PEM certificate"}
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return api.AgentDeployResult{Message: "version certificate: " + err.Error()}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	app := application{jobID: item.JobID, certID: item.Certificate.ID, versionID: item.Version.ID,
		targetID: item.Target.ID, serial: item.Version.SerialNumber}
	haveKey := false
	for _, k := range a.byCert[item.Certificate.ID] {
		if k.PublicKey.Equal(leaf.PublicKey) {
			haveKey = true
		}
	}
	switch {
	case !haveKey:
		a.applied = append(a.applied, app)
		return api.AgentDeployResult{Message: "no key in the key store matches the certificate"}
	case a.failing[item.Target.ID]:
		a.applied = append(a.applied, app)
		return api.AgentDeployResult{Message: "reload failed: simulated target refuses to reload (soak)"}
	}
	app.ok = true
	a.applied = append(a.applied, app)
	a.served[item.Target.ID] = item.Version.SerialNumber
	return api.AgentDeployResult{Succeeded: true, Verified: true, ServedSerial: item.Version.SerialNumber,
		Message: "deployed (simulated)", Metadata: map[string]any{"changed": true}}
}

// enrollFleet creates a token per agent through the admin API and enrolls
// each, concurrency at a time, spreading the agents over the replicas.
func enrollFleet(ctx context.Context, admin *client.Client, hc *http.Client, replicas []string, n, concurrency int,
	reqTimeout time.Duration, t *tally) ([]*simAgent, error) {
	agents := make([]*simAgent, n)
	idx := make(chan int)
	var wg sync.WaitGroup
	var firstErr error
	var errMu sync.Mutex
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				a, err := enrollOne(ctx, admin, hc, replicas, i, reqTimeout, t)
				if err != nil {
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
					continue
				}
				agents[i] = a
			}
		}()
	}
	for i := range n {
		select {
		case idx <- i:
		case <-ctx.Done():
		}
	}
	close(idx)
	wg.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return agents, nil
}

// enrollOne enrolls agent i, retrying what can be retried: a token whose
// creation answer was lost is simply replaced by a new one.
func enrollOne(ctx context.Context, admin *client.Client, hc *http.Client, replicas []string, i int,
	reqTimeout time.Duration, t *tally) (*simAgent, error) {
	name := fmt.Sprintf("soak-agent-%05d", i)
	home := "http://" + replicas[i%len(replicas)]
	a := &simAgent{idx: i, name: name, keys: map[string]*ecdsa.PrivateKey{}, byCert: map[string][]*ecdsa.PrivateKey{},
		served: map[string]string{}, failing: map[string]bool{}, received: map[string]bool{},
		results: map[string]api.AgentDeployResult{},
		facts: api.AgentFacts{OS: "linux", Arch: "amd64", Hostname: name + ".soak.test",
			IPAddress: fmt.Sprintf("10.%d.%d.%d", (i>>16)&0xff, (i>>8)&0xff, i&0xff), AgentVersion: "soak",
			Plugins: []api.AgentPlugin{{Name: "nginx", Kind: "target", Version: "1.0.0"}}}}
	anon, err := client.New(home, client.WithHTTPClient(hc), client.WithRetry(1, 0, 0), client.WithUserAgent("certctl-soak"))
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := range 20 {
		if attempt > 0 && !sleepCtx(ctx, time.Duration(attempt)*500*time.Millisecond) {
			return nil, ctx.Err()
		}
		rctx, cancel := context.WithTimeout(ctx, reqTimeout)
		tok, err := admin.CreateEnrollmentToken(rctx, api.EnrollmentTokenRequest{AgentName: name, TTL: "1h",
			Labels: map[string]string{"soak": "true"}})
		cancel()
		if err != nil {
			t.fail("enrollment token (retried)", err)
			lastErr = err
			continue
		}
		rctx, cancel = context.WithTimeout(ctx, reqTimeout)
		resp, err := anon.EnrollAgent(rctx, api.AgentEnrollRequest{Token: tok.Token, Facts: a.facts})
		cancel()
		if err != nil {
			t.fail("enroll (retried with a new token)", err)
			lastErr = err
			continue
		}
		t.success("enroll")
		a.id = resp.Agent.ID
		a.client, err = client.New(home, client.WithAPIKey(resp.Credential), client.WithHTTPClient(hc),
			client.WithRetry(1, 0, 0), client.WithUserAgent("certctl-soak"))
		if err != nil {
			return nil, err
		}
		return a, nil
	}
	return nil, fmt.Errorf("enroll %s: %w", name, lastErr)
}

// snapshot returns what the agent applied, which serial each of its
// targets holds, and whether it ever received job id, for the check.
func (a *simAgent) snapshot() ([]application, map[string]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	served := make(map[string]string, len(a.served))
	for k, v := range a.served {
		served[k] = v
	}
	return slices.Clone(a.applied), served
}

func (a *simAgent) gotJob(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.received[id]
}

// shortID trims an id for messages.
func shortID(id string) string {
	if i := strings.IndexByte(id, '-'); i > 0 {
		return id[:i]
	}
	return id
}
