// Command soak runs certctl as a small production would, breaks it on a
// schedule, and checks that nothing was lost or done twice. It starts a
// PostgreSQL cluster of its own and three replicas of the built
// certctl-server on it, a simulated fleet of agents spread over the
// replicas (a few hundred of them owning targets that take deployments,
// one of which fails its reload), declares thousands of certificates
// through the API and renews part of them in bulk, while it SIGKILLs a
// replica, SIGKILLs issuer plugins, restarts the database and partitions
// a group of agents away and back. Then it waits for the system to settle
// and checks invariants against the database, the API and what the
// simulated agents applied; it exits non-zero on any violation, listing
// them. Everything runs on loopback and is stopped on every exit path.
//
// `make soak` builds and runs it (see docs/reliability.md):
//
//	go run ./tools/soak -bin bin -agents 2000 -certs 10000
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

type config struct {
	bin          string
	agents       int
	owners       int
	certs        int
	agentCerts   int
	failingCerts int
	renewShare   float64
	replicas     int
	faultScale   float64
	settle       time.Duration
	heartbeat    time.Duration
	pollWait     time.Duration
	workers      string
	keep         bool
	writeDoc     bool
	docPath      string
	declareConc  int
}

func main() {
	var c config
	flag.StringVar(&c.bin, "bin", "bin", "directory of the built binaries (certctl-server, plugins/)")
	flag.IntVar(&c.agents, "agents", 2000, "simulated agents")
	flag.IntVar(&c.owners, "owners", 300, "agents among them that own a target")
	flag.IntVar(&c.certs, "certs", 10000, "certificates declared in all")
	flag.IntVar(&c.agentCerts, "agent-certs", 600, "of which bound to the owners' targets (agent key mode: CSRs and deployments)")
	flag.IntVar(&c.failingCerts, "failing-certs", 4, "of which bound to the target whose reload fails")
	flag.Float64Var(&c.renewShare, "renew-share", 0.2, "share of the server-key certificates renewed in bulk part-way (the agent-bound ones all are)")
	flag.IntVar(&c.replicas, "replicas", 3, "certctl-server replicas on the one database")
	flag.Float64Var(&c.faultScale, "fault-scale", 1, "stretch (>1) or shrink (<1) the fault schedule's times")
	flag.DurationVar(&c.settle, "settle", 8*time.Minute, "how long to wait, after the faults, for every job to finish")
	flag.DurationVar(&c.heartbeat, "heartbeat", 30*time.Second, "heartbeat interval of each agent")
	flag.DurationVar(&c.pollWait, "poll-wait", 25*time.Second, "long poll wait of each agent")
	flag.StringVar(&c.workers, "workers", "", "CERTCTL_WORKERS of each replica (empty: the default)")
	flag.BoolVar(&c.keep, "keep", false, "keep the run's directory (logs, database) instead of removing it")
	flag.BoolVar(&c.writeDoc, "write-doc", false, "write the summary into -doc between its <!-- soak:begin --> and <!-- soak:end --> markers")
	flag.StringVar(&c.docPath, "doc", "docs/reliability.md", "the file -write-doc writes")
	flag.IntVar(&c.declareConc, "declare-concurrency", 16, "certificate declarations in flight at once")
	flag.Parse()
	switch {
	case flag.NArg() > 0:
		fatalf("unexpected arguments: %s", strings.Join(flag.Args(), " "))
	case c.agents < 1 || c.owners < 1 || c.owners > c.agents:
		fatalf("-agents and -owners must be positive, -owners at most -agents")
	case c.agentCerts < 0 || c.failingCerts < 0 || c.agentCerts+c.failingCerts > c.certs:
		fatalf("-agent-certs and -failing-certs must fit in -certs")
	case c.replicas < 1:
		fatalf("-replicas must be at least 1")
	case c.renewShare < 0 || c.renewShare > 1:
		fatalf("-renew-share must be between 0 and 1")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, c))
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "soak: "+format+"\n", args...)
	os.Exit(2)
}

var started = time.Now()

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%6.1fs soak: "+format+"\n", append([]any{time.Since(started).Seconds()}, args...)...)
}

// randomKey returns n random bytes, base64 (std) encoded.
func randomKey(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// soak is one run's state.
type soak struct {
	cfg      config
	dir      string
	pg       *postgres
	replicas []*replica
	pool     *pgxpool.Pool
	admin    *client.Client
	bal      *balancer
	hc       *http.Client
	fleet    *fleet
	tally    *tally
	issuerID string
	rep      *report
	t0       time.Time // when the work (declaration) began

	// What the soak asked for.
	declared     atomic.Int64
	renewStarted atomic.Int64
	renewMatched atomic.Int64
	renewKnown   atomic.Bool // every bulk call's answer arrived
	faultMu      sync.Mutex
}

func run(ctx context.Context, c config) (code int) {
	bin, err := filepath.Abs(c.bin)
	if err != nil {
		logf("%v", err)
		return 2
	}
	c.bin = bin
	if _, err := os.Stat(filepath.Join(bin, "certctl-server")); err != nil {
		logf("%s: run make build first", err)
		return 2
	}
	raiseFileLimit()
	dir, err := os.MkdirTemp("", "certctl-soak-")
	if err != nil {
		logf("%v", err)
		return 2
	}
	s := &soak{cfg: c, dir: dir, tally: newTally(), rep: &report{cfg: c, start: time.Now(), loadStart: loadAverage()}}
	// Every exit path ends here: the replicas killed, PostgreSQL stopped,
	// the directory removed (kept on request, or when the run failed, for
	// its logs: then its path is printed).
	defer func() {
		if p := recover(); p != nil {
			logf("panic: %v", p)
			code = 2
		}
		s.cleanup(code)
	}()
	if err := s.setUp(ctx); err != nil {
		logf("set-up failed: %v", err)
		return 2
	}
	if err := s.work(ctx); err != nil {
		logf("run failed: %v", err)
		return 2
	}
	violations := s.check(context.WithoutCancel(ctx))
	s.rep.violations = violations
	s.rep.end = time.Now()
	text := s.rep.text(s)
	fmt.Println(text)
	if c.writeDoc {
		if err := writeDoc(c.docPath, s.rep.markdown(s)); err != nil {
			logf("write %s: %v", c.docPath, err)
			return 2
		}
		logf("summary written to %s", c.docPath)
	}
	if s.rep.failedCount() > 0 {
		return 1
	}
	return 0
}

func raiseFileLimit() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

func (s *soak) cleanup(code int) {
	if s.fleet != nil {
		s.fleet.stopping.Store(true)
	}
	for _, r := range s.replicas {
		r.kill()
	}
	if s.pool != nil {
		s.pool.Close()
	}
	if s.pg != nil {
		if err := s.pg.stop(); err != nil {
			logf("stop PostgreSQL: %v", err)
		}
	}
	if s.cfg.keep || code != 0 {
		logf("the run's files (replica and PostgreSQL logs) are in %s", s.dir)
		return
	}
	_ = os.RemoveAll(s.dir)
}

func (s *soak) setUp(ctx context.Context) error {
	c := s.cfg
	logf("starting PostgreSQL in %s", s.dir)
	pg, err := startPostgres(ctx, s.dir)
	if err != nil {
		return err
	}
	s.pg = pg
	adminKey := "soak-" + strings.NewReplacer("+", "", "/", "", "=", "").Replace(randomKey(36))
	encKey := randomKey(32)
	var extra []string
	if c.workers != "" {
		extra = append(extra, "CERTCTL_WORKERS="+c.workers)
	}
	var addrs []string
	for i := range c.replicas {
		r, err := newReplica(i, filepath.Join(c.bin, "certctl-server"), filepath.Join(c.bin, "plugins"),
			filepath.Join(s.dir, fmt.Sprintf("replica-%d", i)), pg.url(), adminKey, encKey,
			filepath.Join(s.dir, fmt.Sprintf("replica-%d.log", i)), extra)
		if err != nil {
			return err
		}
		s.replicas = append(s.replicas, r)
		addrs = append(addrs, r.addr)
	}
	// The first replica migrates the empty database alone; the others
	// then start together.
	if err := s.replicas[0].start(ctx); err != nil {
		return err
	}
	errs := make(chan error, len(s.replicas))
	for _, r := range s.replicas[1:] {
		go func() { errs <- r.start(ctx) }()
	}
	for range s.replicas[1:] {
		if err := <-errs; err != nil {
			return err
		}
	}
	logf("%d replicas ready: %s", len(s.replicas), strings.Join(addrs, ", "))

	s.pool, err = pgxpool.New(ctx, pg.url())
	if err != nil {
		return err
	}
	// Each agent holds a long poll: a connection per agent, and some.
	tr := &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns: 2 * c.agents, MaxIdleConnsPerHost: 2 * c.agents, IdleConnTimeout: 90 * time.Second, DisableCompression: true}
	s.bal = &balancer{base: tr, replicas: addrs}
	s.hc = &http.Client{Transport: s.bal, Timeout: c.pollWait + 30*time.Second}
	// The admin's calls may take long on a loaded machine (a bulk renewal
	// of thousands): they get minutes, not a long poll's deadline.
	adminHC := &http.Client{Transport: s.bal, Timeout: 5 * time.Minute}
	s.admin, err = client.New(s.replicas[0].url(), client.WithAPIKey(adminKey), client.WithHTTPClient(adminHC),
		client.WithRetry(1, 0, 0), client.WithUserAgent("certctl-soak"))
	if err != nil {
		return err
	}
	for iss, err := range s.admin.AllIssuers(ctx, client.IssuerListOptions{}) {
		if err != nil {
			return fmt.Errorf("list issuers: %w", err)
		}
		if iss.Name == "local" {
			s.issuerID = iss.ID
		}
	}
	if s.issuerID == "" {
		return errors.New("the servers made no default local issuer")
	}

	logf("enrolling %d agents", c.agents)
	t := time.Now()
	agents, err := enrollFleet(ctx, s.admin, s.hc, addrs, c.agents, 32, 30*time.Second, s.tally)
	if err != nil {
		return fmt.Errorf("enrollment: %w", err)
	}
	s.rep.enrollTime = time.Since(t)
	logf("enrolled %d agents in %s", len(agents), s.rep.enrollTime.Round(time.Millisecond))
	s.fleet = &fleet{agents: agents, tally: s.tally, pollWait: c.pollWait, heartbeat: c.heartbeat, reqTimeout: 30 * time.Second}
	// A tenth of the fleet (owners among them) is the group that will be
	// partitioned away; the rest share one group that never is.
	healthy, cut := newGroup(ctx), newGroup(ctx)
	for _, a := range agents {
		a.group = healthy
		if a.idx%10 == 1 {
			a.group = cut
		}
	}
	s.rep.partitioned = cut
	s.rep.partitionSize = (len(agents) + 8) / 10
	return nil
}

// fault is one scheduled event of the run.
type fault struct {
	at   time.Duration
	what string
	do   func(ctx context.Context) string
}

// work runs the fleet, declares the certificates, renews part of them in
// bulk and injects the faults, then waits for the system to settle.
func (s *soak) work(ctx context.Context) error {
	c := s.cfg
	fleetCtx, stopFleet := context.WithCancel(ctx)
	defer func() {
		s.fleet.stopping.Store(true)
		stopFleet()
		s.fleet.wg.Wait()
	}()
	s.fleet.run(fleetCtx)

	plan, err := s.declarePlan(ctx)
	if err != nil {
		return err
	}
	s.t0 = time.Now()
	s.rep.workStart = s.t0
	sampler := s.sampleThroughput(ctx)
	defer sampler()

	declared := make(chan error, 1)
	go func() { declared <- s.declare(ctx, plan) }()

	scale := func(sec float64) time.Duration { return time.Duration(sec * c.faultScale * float64(time.Second)) }
	// Two phases: while the certificates are declared and issued, then
	// from the bulk renewal on (it starts once every certificate is
	// declared, and not before the first phase ends), each fault at its
	// time from the start of its phase.
	victim := s.replicas[len(s.replicas)-1]
	second := s.replicas[len(s.replicas)/2]
	restart := func(r *replica) func(ctx context.Context) string {
		return func(ctx context.Context) string {
			t := time.Now()
			if err := r.start(ctx); err != nil {
				return "FAILED: " + err.Error()
			}
			return fmt.Sprintf("ready in %s", time.Since(t).Round(time.Millisecond))
		}
	}
	kill := func(r *replica) func(context.Context) string {
		return func(context.Context) string { r.kill(); return "killed" }
	}
	pgRestart := func(mode string) func(ctx context.Context) string {
		return func(ctx context.Context) string {
			t := time.Now()
			if err := s.pg.restart(ctx, mode); err != nil {
				return "FAILED: " + err.Error()
			}
			return fmt.Sprintf("back in %s", time.Since(t).Round(time.Millisecond))
		}
	}
	killPlugins := func(rs ...*replica) func(context.Context) string {
		return func(context.Context) string {
			var all []int
			for _, r := range rs {
				all = append(all, r.killPlugins("certctl-plugin-issuer-")...)
			}
			return fmt.Sprintf("killed pids %v", all)
		}
	}
	issuing := []fault{
		{scale(20), fmt.Sprintf("SIGKILL replica %d (and its plugins)", victim.idx), kill(victim)},
		{scale(35), fmt.Sprintf("restart replica %d", victim.idx), restart(victim)},
		{scale(50), "SIGKILL the issuer plugins of replica 0", killPlugins(s.replicas[0])},
		{scale(60), "restart PostgreSQL (pg_ctl restart -m fast)", pgRestart("fast")},
	}
	renewing := []fault{
		{0, "bulk renewal (POST /api/v1/certificates/renew)", func(ctx context.Context) string { return s.renew(ctx, plan) }},
		{scale(5), fmt.Sprintf("SIGKILL replica %d (and its plugins)", second.idx), kill(second)},
		{scale(15), "restart PostgreSQL (pg_ctl restart -m immediate: a crash, recovered from the WAL)", pgRestart("immediate")},
		{scale(25), fmt.Sprintf("restart replica %d", second.idx), restart(second)},
		{scale(30), fmt.Sprintf("partition %d agents away (no requests, open ones cut)", s.rep.partitionSize),
			func(context.Context) string { s.rep.partitioned.partition(); return "partitioned" }},
		{scale(45), "SIGKILL the issuer plugins of every replica", killPlugins(s.replicas...)},
		{scale(75), "heal the partition", func(context.Context) string { s.rep.partitioned.heal(); return "healed" }},
	}
	// Each fault starts at its time, whether or not the one before has
	// finished (a replica may take minutes to be ready again on a loaded
	// machine): the schedule stays the schedule.
	inject := func(phase time.Time, faults []fault) error {
		var wg sync.WaitGroup
		defer wg.Wait()
		for _, f := range faults {
			if !sleepCtx(ctx, time.Until(phase.Add(f.at))) && ctx.Err() != nil {
				return ctx.Err()
			}
			at := time.Since(s.t0)
			logf("fault at %s: %s", at.Round(100*time.Millisecond), f.what)
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := f.do(ctx)
				logf("  %s: %s", f.what, res)
				s.faultMu.Lock()
				s.rep.faults = append(s.rep.faults, faultRecord{at: at, what: f.what, result: res})
				s.faultMu.Unlock()
			}()
		}
		return nil
	}
	if err := inject(s.t0, issuing); err != nil {
		return err
	}
	var declErr error
	select {
	case declErr = <-declared:
	case <-ctx.Done():
		return ctx.Err()
	}
	if declErr != nil {
		return declErr
	}
	if err := inject(time.Now(), renewing); err != nil {
		return err
	}
	s.rep.faultsDone = time.Since(s.t0)

	logf("faults done; waiting up to %s for every job to finish", c.settle)
	settled, why := s.waitSettled(ctx, c.settle)
	s.rep.settled, s.rep.settleWhy = settled, why
	s.rep.settleTime = time.Since(s.t0)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	logf("settled=%v after %s: %s", settled, s.rep.settleTime.Round(time.Second), why)
	return nil
}

// plannedCert is one certificate the soak declares.
type plannedCert struct {
	name     string
	targetID string
	renew    bool
}

// declarePlan creates the owners' targets (and the failing one) and lays
// out the certificates: agent-bound ones first, so that deployments flow
// early, then the server-key ones, the renewal group among them.
func (s *soak) declarePlan(ctx context.Context) ([]plannedCert, error) {
	c := s.cfg
	owners := s.fleet.agents[:c.owners]
	targets := make([]string, len(owners))
	var failingTarget string
	for i, a := range owners {
		id, err := s.createTarget(ctx, fmt.Sprintf("soak-target-%05d", i), a.id)
		if err != nil {
			return nil, err
		}
		targets[i] = id
	}
	if c.failingCerts > 0 {
		id, err := s.createTarget(ctx, "soak-target-failing", owners[0].id)
		if err != nil {
			return nil, err
		}
		failingTarget = id
		owners[0].failing[id] = true
		s.rep.failingTarget = id
	}
	s.rep.targets = len(targets)
	logf("created %d targets on %d owning agents, and the failing one", len(targets), len(owners))
	var plan []plannedCert
	for i := range c.agentCerts {
		plan = append(plan, plannedCert{name: fmt.Sprintf("soak-agent-%05d", i), targetID: targets[i%len(targets)], renew: true})
	}
	for i := range c.failingCerts {
		plan = append(plan, plannedCert{name: fmt.Sprintf("soak-failing-%05d", i), targetID: failingTarget})
	}
	rest := c.certs - len(plan)
	renewN := int(float64(rest) * c.renewShare)
	for i := range rest {
		prefix := "soak-server-"
		if i < renewN {
			prefix = "soak-renew-"
		}
		plan = append(plan, plannedCert{name: fmt.Sprintf("%s%05d", prefix, i), renew: i < renewN})
	}
	return plan, nil
}

func (s *soak) createTarget(ctx context.Context, name, agentID string) (string, error) {
	var lastErr error
	for attempt := range 10 {
		if attempt > 0 && !sleepCtx(ctx, time.Second) {
			return "", ctx.Err()
		}
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		t, err := s.admin.CreateTarget(rctx, api.TargetRequest{Name: name, Type: "nginx", AgentID: &agentID,
			Config: map[string]any{"certificate_path": "/soak/" + name + "/cert.pem", "key_path": "/soak/" + name + "/key.pem",
				"reload_command": []any{"true"}, "validate_command": []any{"true"}}})
		cancel()
		if err == nil {
			return t.ID, nil
		}
		lastErr = err
		s.tally.fail("create target (retried)", err)
	}
	return "", fmt.Errorf("create target %s: %w", name, lastErr)
}

// declare sends the plan's certificates through the API, declareConc at
// a time, spread over the replicas. A declaration whose answer was lost
// is sent again: 409 (the name exists) then says the first went through.
func (s *soak) declare(ctx context.Context, plan []plannedCert) error {
	c := s.cfg
	clients := make([]*client.Client, len(s.replicas))
	for i, r := range s.replicas {
		cl, err := client.New(r.url(), client.WithAPIKey(s.adminKey()), client.WithHTTPClient(&http.Client{Transport: s.bal, Timeout: time.Minute}),
			client.WithRetry(1, 0, 0), client.WithUserAgent("certctl-soak"))
		if err != nil {
			return err
		}
		clients[i] = cl
	}
	idx := make(chan int)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for w := range c.declareConc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := clients[w%len(clients)]
			for i := range idx {
				p := plan[i]
				req := api.CertificateRequest{Name: p.name, CommonName: p.name + ".soak.test", IssuerID: s.issuerID,
					KeyType: "ecdsa-p256", Labels: map[string]string{"soak": "true"}}
				if p.targetID != "" {
					req.TargetIDs = []string{p.targetID}
					req.KeyMode = "agent"
				} else {
					req.KeyMode = "server"
				}
				ok := false
				for attempt := 0; attempt < 30 && ctx.Err() == nil; attempt++ {
					rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
					_, err := cl.CreateCertificate(rctx, req)
					cancel()
					if err == nil {
						s.tally.success("declare certificate")
						ok = true
						break
					}
					if attempt > 0 && client.IsConflict(err) {
						s.tally.fail("declare certificate (a retry found it declared)", err)
						ok = true
						break
					}
					s.tally.fail("declare certificate (retried)", err)
					sleepCtx(ctx, time.Duration(attempt+1)*300*time.Millisecond)
				}
				if ok {
					s.declared.Add(1)
				} else {
					failed.Add(1)
				}
			}
		}()
	}
	for i := range plan {
		select {
		case idx <- i:
		case <-ctx.Done():
		}
		if (i+1)%2000 == 0 {
			logf("declared %d of %d certificates", i+1, len(plan))
		}
	}
	close(idx)
	wg.Wait()
	s.rep.declareTime = time.Since(s.t0)
	logf("declared %d certificates in %s (%d given up)", s.declared.Load(), s.rep.declareTime.Round(time.Millisecond), failed.Load())
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%d certificates could not be declared after 30 attempts each", n)
	}
	return ctx.Err()
}

func (s *soak) adminKey() string {
	for _, e := range s.replicas[0].env {
		if v, ok := strings.CutPrefix(e, "CERTCTL_BOOTSTRAP_ADMIN_KEY="); ok {
			return v
		}
	}
	return ""
}

// renew asks for the bulk renewal of the renewal groups by name prefix.
// A bulk call is not retried when its answer is lost (it may have gone
// through): the check then counts renew jobs from the database alone.
func (s *soak) renew(ctx context.Context, plan []plannedCert) string {
	var parts []string
	known := true
	for _, prefix := range []string{"soak-agent-", "soak-renew-"} {
		var res *api.BulkResult
		var err error
		var t time.Time
		for attempt := 0; attempt < 20; attempt++ {
			rctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
			t = time.Now()
			res, err = s.admin.BulkRenewCertificates(rctx, api.BulkRenewRequest{NamePrefix: prefix})
			cancel()
			if err == nil {
				break
			}
			switch {
			case refusedBeforeSending(err):
				s.tally.fail("bulk renew (retried: refused before sending)", err)
			case client.IsUnavailable(err) || errorKind(err) == "HTTP 429 unavailable":
				// Sent again, as an operator would: a certificate whose
				// renewal an earlier attempt started is skipped, so the
				// started counts no longer add up to the jobs.
				s.tally.fail("bulk renew (retried: unavailable)", err)
				known = false
			default:
				attempt = 20 // an answer lost in flight: not sent again
			}
			if attempt < 20 {
				sleepCtx(ctx, 2*time.Second)
			}
		}
		if err != nil {
			s.tally.fail("bulk renew (answer lost)", err)
			known = false
			parts = append(parts, fmt.Sprintf("%s: %v (after %s)", prefix, err, time.Since(t).Round(100*time.Millisecond)))
			continue
		}
		s.tally.success("bulk renew")
		s.renewStarted.Add(int64(res.Started))
		s.renewMatched.Add(int64(res.Matched))
		parts = append(parts, fmt.Sprintf("%s*: %d matched, %d started, %d skipped, answered in %s", prefix, res.Matched,
			res.Started, res.Skipped, time.Since(t).Round(100*time.Millisecond)))
	}
	s.renewKnown.Store(known)
	return strings.Join(parts, "; ")
}

// refusedBeforeSending says the request never reached a server.
func refusedBeforeSending(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}

// sampleThroughput records how many versions exist every 5 s until the
// returned function is called.
func (s *soak) sampleThroughput(ctx context.Context) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			var versions, live int64
			qctx, cancel := context.WithTimeout(ctx, 4*time.Second)
			err := s.pool.QueryRow(qctx, `SELECT (SELECT count(*) FROM certificate_versions),
				(SELECT count(*) FROM jobs WHERE state IN ('queued','running','waiting','retrying'))`).Scan(&versions, &live)
			cancel()
			if err != nil {
				continue // the database is restarting
			}
			at := time.Since(s.t0)
			s.rep.samples = append(s.rep.samples, sample{at: at, versions: versions})
			if len(s.rep.samples)%6 == 0 {
				logf("%s: %d versions, %d live jobs, %d work items to agents, %d deploy reports", at.Round(time.Second),
					versions, live, s.fleet.work.Load(), s.fleet.deploys.Load())
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// waitSettled waits until every certificate is active, no job is live and
// no agent has anything left to deliver, or limit passes.
//
// It also stops when nothing has moved for stallAfter: what is left then
// waits for something the soak does not wait for (a lease of 10 minutes).
func (s *soak) waitSettled(ctx context.Context, limit time.Duration) (bool, string) {
	const stallAfter = 2 * time.Minute
	deadline := time.Now().Add(limit)
	why := ""
	var last [4]int64
	lastMove := time.Now()
	for {
		var notActive, live, changed int64
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := s.pool.QueryRow(qctx, `SELECT
			(SELECT count(*) FROM managed_certificates WHERE status <> 'active'),
			(SELECT count(*) FROM jobs WHERE state IN ('queued','running','waiting','retrying') AND kind <> 'notify'),
			(SELECT count(*) FROM jobs WHERE state IN ('succeeded','failed','cancelled'))`).Scan(&notActive, &live, &changed)
		cancel()
		pending := s.fleet.pendingReps.Load()
		switch {
		case err != nil:
			why = "database: " + err.Error()
		case notActive == 0 && live == 0 && pending == 0:
			return true, "every certificate active, no live job, nothing left to report"
		default:
			why = fmt.Sprintf("%d certificates not active, %d live jobs, %d agent deliveries pending", notActive, live, pending)
		}
		if now := [4]int64{notActive, live, changed, s.fleet.work.Load()}; err == nil && now != last {
			last, lastMove = now, time.Now()
		}
		if time.Now().After(deadline) {
			return false, why
		}
		if time.Since(lastMove) > stallAfter {
			return false, fmt.Sprintf("%s; nothing moved for %s", why, stallAfter)
		}
		if !sleepCtx(ctx, 2*time.Second) {
			return false, why
		}
	}
}
