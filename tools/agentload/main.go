// Command agentload simulates a fleet of certctl agents against one real
// server: it creates an enrollment token per agent through the admin API,
// enrolls every agent, then runs each as goroutines that send heartbeats
// and long-poll for work, for a bounded measurement window. It reports
// heartbeat throughput and latency, errors by kind, completed long polls,
// and the server's memory, goroutines and CPU, and exits non-zero when
// more than 1% of requests failed.
//
// `make load-agents` starts a server on loopback and runs it (see
// tools/agentload/run.sh and docs/performance.md); by itself it starts
// nothing:
//
//	go run ./tools/agentload -server http://127.0.0.1:8443 -admin-key "$KEY" -server-pid "$PID" -agents 1000 -duration 60s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
	"github.com/certctl/certctl/tools/internal/procstat"
)

type config struct {
	server            string
	adminKey          string
	serverPID         int
	agents            int
	heartbeat         time.Duration
	duration          time.Duration
	enrollConcurrency int
	pollWait          time.Duration
	requestTimeout    time.Duration
	target            time.Duration
	maxErrorRate      float64
	polls             bool
	attempts          int
}

func main() {
	var c config
	flag.StringVar(&c.server, "server", "", "URL of a running certctl server (required; `make load-agents` starts one)")
	flag.StringVar(&c.adminKey, "admin-key", os.Getenv("CERTCTL_API_KEY"), "admin API key, to create enrollment tokens (default $CERTCTL_API_KEY)")
	flag.IntVar(&c.serverPID, "server-pid", 0, "pid of the server process, to report its memory and CPU from /proc (0: skip)")
	flag.IntVar(&c.agents, "agents", 10000, "agents to simulate")
	flag.IntVar(&c.attempts, "attempts", 1, "attempts of each enrollment, heartbeat and poll: 1 counts every refusal as a failure; 4 retries as the agent does (the SDK's default: a 429 is sent again after its Retry-After), and a latency is then the whole call's")
	flag.DurationVar(&c.heartbeat, "heartbeat", 30*time.Second, "heartbeat interval of each agent")
	flag.DurationVar(&c.duration, "duration", 2*time.Minute, "measurement window, after enrollment")
	flag.IntVar(&c.enrollConcurrency, "enroll-concurrency", 50, "token creations and enrollments in flight at once")
	flag.DurationVar(&c.pollWait, "poll-wait", 25*time.Second, "how long each long poll for work waits (the server allows at most 50s)")
	flag.DurationVar(&c.requestTimeout, "request-timeout", 30*time.Second, "a heartbeat, token creation or enrollment slower than this counts as an error")
	flag.DurationVar(&c.target, "target-p99", 100*time.Millisecond, "heartbeat p99 target the report compares with (it does not change the exit status)")
	flag.BoolVar(&c.polls, "polls", true, "keep a long poll for work open per agent (false: heartbeats only, to measure what the polls cost)")
	flag.Float64Var(&c.maxErrorRate, "max-error-rate", 0.01, "exit non-zero when more than this share of enrollments, heartbeats or long polls failed")
	flag.Parse()
	if flag.NArg() > 0 {
		fatalf("unexpected arguments: %s", strings.Join(flag.Args(), " "))
	}
	switch {
	case c.server == "":
		fatalf("-server is required: give the URL of a running server, or use `make load-agents`, which starts one")
	case c.adminKey == "":
		fatalf("-admin-key (or CERTCTL_API_KEY) is required to create enrollment tokens")
	case c.agents < 1:
		fatalf("-agents must be at least 1")
	case c.heartbeat <= 0 || c.duration <= 0 || c.pollWait <= 0 || c.requestTimeout <= 0:
		fatalf("-heartbeat, -duration, -poll-wait and -request-timeout must be positive")
	case c.pollWait > 50*time.Second:
		fatalf("-poll-wait must be at most 50s (the server's limit)")
	case c.enrollConcurrency < 1:
		fatalf("-enroll-concurrency must be at least 1")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, c))
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "agentload: "+format+"\n", args...)
	os.Exit(2)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s agentload: "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// raiseFileLimit lifts the soft limit of open files to the hard one: each
// simulated agent holds a connection.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, err
		}
	}
	return lim.Cur, nil
}

// sim is one simulated agent.
type sim struct {
	idx    int
	name   string
	client *client.Client
	facts  api.AgentFacts
	// Written only by the agent's heartbeat goroutine, read after it ends.
	latencies []beat
}

// beat is one successful heartbeat: when it was sent (since the window
// opened) and how long it took.
type beat struct {
	at, took time.Duration
}

// tally counts outcomes of one kind of request, and errors by kind.
type tally struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	kinds      map[string]int
}

func (t *tally) fail(err error) {
	t.failed.Add(1)
	k := errorKind(err)
	t.mu.Lock()
	if t.kinds == nil {
		t.kinds = map[string]int{}
	}
	t.kinds[k]++
	t.mu.Unlock()
}

func (t *tally) rate() float64 {
	ok, failed := t.ok.Load(), t.failed.Load()
	if ok+failed == 0 {
		return 0
	}
	return float64(failed) / float64(ok+failed)
}

// errorKind names an error without its variable parts (ids, addresses).
func errorKind(err error) string {
	var apiErr *client.Error
	var opErr *net.OpError
	var netErr net.Error
	switch {
	case errors.As(err, &apiErr):
		return fmt.Sprintf("HTTP %d %s", apiErr.StatusCode, apiErr.Code)
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE):
		return "too many open files"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no free local port"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by server (EOF)"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.As(err, &opErr):
		return "network: " + opErr.Op + " " + opErr.Err.Error()
	}
	s := err.Error()
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	return s
}

func run(ctx context.Context, c config) int {
	limit, err := raiseFileLimit()
	if err != nil {
		logf("could not raise the open-files limit: %v", err)
	} else if need := uint64(c.agents) + uint64(min(500, max(50, c.agents/20))) + 100; limit < need {
		logf("warning: open-files limit %d is below the about %d this run needs (a connection per agent, and some)", limit, need)
	}

	// One transport for the whole fleet, so that connections are reused:
	// each agent's long poll holds one, heartbeats borrow idle ones. Both
	// this process and the server hold a descriptor per connection, under
	// an open-files limit (20,000 on the reference machine), so the
	// connections are capped at one per agent and a margin for
	// heartbeats in flight (a heartbeat waits for a free connection past
	// it), and few are kept idle: otherwise every heartbeat sent while all
	// connections carried polls opened one more, kept idle for
	// IdleConnTimeout, and at 19,000 agents both processes ran out of
	// descriptors.
	margin := min(500, max(50, c.agents/20))
	tr := &http.Transport{
		Proxy:               nil, // loopback: never through a proxy
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxConnsPerHost:     c.agents + margin,
		MaxIdleConns:        margin,
		MaxIdleConnsPerHost: margin,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	// The per-attempt ceiling must let a long poll finish; heartbeats and
	// enrollments get their own, shorter deadline through their context.
	hc := &http.Client{Transport: tr, Timeout: c.pollWait + 30*time.Second}
	metricsHC := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 1}, Timeout: 15 * time.Second}

	admin, err := client.New(c.server, client.WithAPIKey(c.adminKey), client.WithHTTPClient(hc), client.WithUserAgent("certctl-agentload"))
	if err != nil {
		logf("%v", err)
		return 2
	}
	if _, err := admin.ListEnrollmentTokens(ctx, client.ListOptions{Limit: 1}); err != nil {
		logf("the server at %s does not accept the admin key: %v", c.server, err)
		return 2
	}

	rep := &report{cfg: c, fileLimit: limit}
	rep.snapStart = takeSnapshot(ctx, metricsHC, c)

	// Enrollment: a token per agent through the admin API, then the agent's
	// own enrollment with it, enroll-concurrency at a time.
	runID := fmt.Sprintf("%04x", rand.N(1<<16))
	agents := make([]*sim, c.agents)
	var tokens, enrolls tally
	var tokenLat, enrollLat latencies
	enrollStart := time.Now()
	jobs := make(chan int)
	var wg sync.WaitGroup
	var enrolled atomic.Int64
	for range c.enrollConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if a := enroll(ctx, c, hc, admin, runID, i, &tokens, &enrolls, &tokenLat, &enrollLat); a != nil {
					agents[i] = a
					enrolled.Add(1)
				}
			}
		}()
	}
	progressDone := make(chan struct{})
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-progressDone:
				return
			case <-t.C:
				logf("enrolling: %d/%d enrolled, %d token and %d enrollment errors", enrolled.Load(), c.agents,
					tokens.failed.Load(), enrolls.failed.Load())
			}
		}
	}()
	logf("enrolling %d agents (%d at a time) against %s", c.agents, c.enrollConcurrency, c.server)
feed:
	for i := range c.agents {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	close(progressDone)
	rep.enrollTime = time.Since(enrollStart)
	rep.tokens, rep.enrolls = &tokens, &enrolls
	rep.tokenLat, rep.enrollLat = tokenLat.sorted(), enrollLat.sorted()
	fleet := slices.DeleteFunc(agents, func(a *sim) bool { return a == nil })
	logf("enrolled %d agents in %s (%.0f/s)", len(fleet), rep.enrollTime.Round(time.Millisecond),
		float64(len(fleet))/rep.enrollTime.Seconds())
	if ctx.Err() != nil || len(fleet) == 0 {
		rep.print(os.Stdout)
		return 1
	}

	// The fleet: each agent heartbeats every interval (the first ones spread
	// evenly over the first interval) and keeps a long poll open.
	rep.snapBefore = takeSnapshot(ctx, metricsHC, c)
	var beats, polls tally
	var pollsAborted, pollWork, late, inflightPolls atomic.Int64
	windowStart := time.Now()
	windowEnd := windowStart.Add(c.duration)
	pollCtx, stopPolls := context.WithCancel(ctx)
	var hbWG, pollWG sync.WaitGroup
	n := len(fleet)
	for k, a := range fleet {
		first := windowStart.Add(time.Duration(int64(c.heartbeat) * int64(k) / int64(n)))
		hbWG.Add(1)
		go func() {
			defer hbWG.Done()
			heartbeatLoop(ctx, c, a, windowStart, first, windowEnd, &beats, &late)
		}()
		if !c.polls {
			continue
		}
		pollStart := windowStart.Add(time.Duration(rand.Int64N(int64(c.pollWait) + 1)))
		pollWG.Add(1)
		go func() {
			defer pollWG.Done()
			pollLoop(pollCtx, c, a, pollStart, &polls, &pollsAborted, &pollWork, &inflightPolls)
		}()
	}
	logf("fleet of %d running for %s: heartbeat every %s, long polls of %s", n, c.duration, c.heartbeat, c.pollWait)

	// Watch the server while the window runs.
	var peak peaks
	watchDone := make(chan struct{})
	var watchWG sync.WaitGroup
	watchWG.Add(1)
	go func() {
		defer watchWG.Done()
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		ticks := 0
		for {
			select {
			case <-watchDone:
				return
			case <-t.C:
			}
			ticks++
			peak.sampleProc(c.serverPID)
			if ticks%2 == 0 {
				s, err := scrapeMetrics(ctx, metricsHC, c.server)
				peak.sampleMetrics(s, err)
				rss, _, _ := procstat.MemStatus(c.serverPID)
				logf("%3.0fs: %d heartbeats (%d failed), %d long polls done (%d failed), %d open; server RSS %s, goroutines %.0f",
					time.Since(windowStart).Seconds(), beats.ok.Load(), beats.failed.Load(), polls.ok.Load(),
					polls.failed.Load(), inflightPolls.Load(), mib(rss), peak.lastGoroutines)
			}
		}
	}()

	select {
	case <-ctx.Done():
	case <-time.After(time.Until(windowEnd)):
	}
	window := time.Since(windowStart)
	// The fleet is still connected: this is the server under load.
	rep.snapAfter = takeSnapshot(context.WithoutCancel(ctx), metricsHC, c)
	close(watchDone)
	watchWG.Wait()
	rep.peak = &peak
	// Heartbeats in flight finish (they have their own deadline); long
	// polls are cut off.
	hbDone := make(chan struct{})
	go func() { hbWG.Wait(); close(hbDone) }()
	select {
	case <-hbDone:
	case <-time.After(c.requestTimeout + 5*time.Second):
		logf("some heartbeats did not finish")
	}
	stopPolls()
	pollWG.Wait()

	rep.window = window
	rep.fleet = n
	rep.beats, rep.polls = &beats, &polls
	rep.pollsAborted, rep.pollWork, rep.late = pollsAborted.Load(), pollWork.Load(), late.Load()
	var all []time.Duration
	for _, a := range fleet {
		for _, b := range a.latencies {
			all = append(all, b.took)
			rep.timeline = append(rep.timeline, b)
		}
	}
	slices.Sort(all)
	rep.beatLat = all
	rep.print(os.Stdout)

	failed := false
	for _, t := range []*tally{&tokens, &enrolls, &beats, &polls} {
		if t.rate() > c.maxErrorRate {
			failed = true
		}
	}
	if beats.ok.Load() == 0 {
		failed = true
	}
	if failed {
		fmt.Printf("\nFAIL: error rate above %.1f%%\n", c.maxErrorRate*100)
		return 1
	}
	return 0
}

// enroll creates agent i's token and enrolls it; nil when either failed.
func enroll(ctx context.Context, c config, hc *http.Client, admin *client.Client, runID string, i int,
	tokens, enrolls *tally, tokenLat, enrollLat *latencies) *sim {
	name := fmt.Sprintf("load-%s-%05d", runID, i)
	rctx, cancel := context.WithTimeout(ctx, c.requestTimeout)
	start := time.Now()
	tok, err := admin.CreateEnrollmentToken(rctx, api.EnrollmentTokenRequest{AgentName: name, TTL: "2h",
		Labels: map[string]string{"load": runID}})
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			tokens.fail(err)
		}
		return nil
	}
	tokens.ok.Add(1)
	tokenLat.add(time.Since(start))

	a := &sim{idx: i, name: name, facts: api.AgentFacts{OS: "linux", Arch: "amd64", Hostname: name + ".load.test",
		IPAddress: fmt.Sprintf("10.%d.%d.%d", (i>>16)&0xff, (i>>8)&0xff, i&0xff), AgentVersion: "agentload",
		Plugins: []api.AgentPlugin{{Name: "nginx", Kind: "target", Version: "1.0.0"}, {Name: "haproxy", Kind: "target", Version: "1.0.0"}}}}
	anon, err := client.New(c.server, client.WithHTTPClient(hc), agentRetry(c), client.WithUserAgent("certctl-agentload"))
	if err != nil {
		enrolls.fail(err)
		return nil
	}
	rctx, cancel = context.WithTimeout(ctx, c.requestTimeout)
	start = time.Now()
	resp, err := anon.EnrollAgent(rctx, api.AgentEnrollRequest{Token: tok.Token, Facts: a.facts})
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			enrolls.fail(err)
		}
		return nil
	}
	enrolls.ok.Add(1)
	enrollLat.add(time.Since(start))
	// By default no retries: each failure is counted, and a latency is one attempt's.
	a.client, err = client.New(c.server, client.WithAPIKey(resp.Credential), client.WithHTTPClient(hc),
		agentRetry(c), client.WithUserAgent("certctl-agentload"))
	if err != nil {
		return nil
	}
	return a
}

// agentRetry is the retry policy of the simulated agents' calls: -attempts
// of them, with the SDK's default delays (those of the real agent).
func agentRetry(c config) client.Option {
	if c.attempts <= 1 {
		return client.WithRetry(1, 0, 0)
	}
	return client.WithRetry(c.attempts, client.DefaultBaseDelay, client.DefaultMaxDelay)
}

// heartbeatLoop sends heartbeats from first until end, every interval
// with ±2% jitter. A heartbeat slower than the interval delays the next
// rather than bunching them.
func heartbeatLoop(ctx context.Context, c config, a *sim, windowStart, first, end time.Time, beats *tally, late *atomic.Int64) {
	next := first
	started := time.Now()
	for next.Before(end) {
		if !sleepUntil(ctx, next) {
			return
		}
		a.facts.UptimeSeconds = int64(time.Since(started).Seconds()) + 3600
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.requestTimeout)
		t0 := time.Now()
		_, err := a.client.Heartbeat(rctx, a.facts)
		d := time.Since(t0)
		cancel()
		if err != nil {
			beats.fail(err)
		} else {
			beats.ok.Add(1)
			a.latencies = append(a.latencies, beat{at: t0.Sub(windowStart), took: d})
		}
		jitter := time.Duration(rand.Int64N(int64(c.heartbeat)/25+1)) - c.heartbeat/50
		next = next.Add(c.heartbeat + jitter)
		if now := time.Now(); next.Before(now) {
			late.Add(1)
			next = now
		}
	}
}

// pollLoop long-polls for work from start until ctx ends. A failed poll
// is retried after about a second, as the real agent does.
func pollLoop(ctx context.Context, c config, a *sim, start time.Time, polls *tally, aborted, work, inflight *atomic.Int64) {
	if !sleepUntil(ctx, start) {
		return
	}
	for ctx.Err() == nil {
		inflight.Add(1)
		w, err := a.client.AgentWork(ctx, c.pollWait)
		inflight.Add(-1)
		switch {
		case ctx.Err() != nil:
			aborted.Add(1)
			return
		case err != nil:
			polls.fail(err)
			sleepUntil(ctx, time.Now().Add(500*time.Millisecond+time.Duration(rand.Int64N(int64(time.Second)))))
		default:
			polls.ok.Add(1)
			work.Add(int64(len(w.Items)))
		}
	}
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// latencies collects durations from many goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) sorted() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := slices.Clone(l.d)
	slices.Sort(out)
	return out
}

// percentile of sorted durations (nearest rank).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// snapshot is the server's state at one moment.
type snapshot struct {
	at       time.Time
	rss, hwm int64
	fds      int
	pgPSS    int64
	pgProcs  int
	procOK   bool // /proc could be read (it cannot when this process is out of descriptors)
	selfFDs  int  // this process's open descriptors: a connection per open long poll, and those of heartbeats in flight
	metrics  *scrape
	cpu      procstat.CPUSample
	err      error
}

func takeSnapshot(ctx context.Context, hc *http.Client, c config) snapshot {
	s := snapshot{at: time.Now(), fds: -1}
	if c.serverPID > 0 {
		var err error
		s.rss, s.hwm, err = procstat.MemStatus(c.serverPID)
		s.procOK = err == nil
		s.fds = procstat.OpenFDs(c.serverPID)
		s.pgPSS, s.pgProcs = procstat.PostgresPSS(c.serverPID)
	}
	s.selfFDs = procstat.OpenFDs(os.Getpid())
	s.cpu = procstat.SampleCPU(c.serverPID)
	s.metrics, s.err = scrapeMetrics(ctx, hc, c.server)
	return s
}

// peaks are the highest readings seen during the window.
type peaks struct {
	rss                            int64
	fds                            int
	goroutines, heap, poolAcquired float64
	lastGoroutines                 float64
	scrapeErrors                   int
}

func (p *peaks) sampleProc(pid int) {
	if pid <= 0 {
		return
	}
	if rss, _, err := procstat.MemStatus(pid); err == nil {
		p.rss = max(p.rss, rss)
	}
	p.fds = max(p.fds, procstat.OpenFDs(pid))
}

func (p *peaks) sampleMetrics(s *scrape, err error) {
	if err != nil {
		p.scrapeErrors++
		return
	}
	if v, ok := s.get("go_goroutines", nil); ok {
		p.goroutines = max(p.goroutines, v)
		p.lastGoroutines = v
	}
	if v, ok := s.get("go_memstats_heap_inuse_bytes", nil); ok {
		p.heap = max(p.heap, v)
	}
	if v, ok := s.get("certctl_db_pool_acquired_connections", nil); ok {
		p.poolAcquired = max(p.poolAcquired, v)
	}
}

// report is everything the run measured.
type report struct {
	cfg                              config
	fileLimit                        uint64
	enrollTime                       time.Duration
	tokens, enrolls                  *tally
	tokenLat, enrollLat              []time.Duration
	fleet                            int
	window                           time.Duration
	beats, polls                     *tally
	beatLat                          []time.Duration
	timeline                         []beat
	pollsAborted, pollWork, late     int64
	snapStart, snapBefore, snapAfter snapshot
	peak                             *peaks
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func printKinds(w io.Writer, t *tally) {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.kinds))
	for k := range t.kinds {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return t.kinds[keys[i]] > t.kinds[keys[j]] })
	for _, k := range keys {
		fmt.Fprintf(w, "      %7d  %s\n", t.kinds[k], k)
	}
}

func (r *report) print(w io.Writer) {
	c := r.cfg
	polls := "long polls of " + c.pollWait.String()
	if !c.polls {
		polls = "no long polls"
	}
	fmt.Fprintf(w, "\n== agentload: %d agents, heartbeat every %s, %s, window %s\n", c.agents, c.heartbeat, polls, c.duration)
	fmt.Fprintf(w, "open-files limit of this process: %d\n", r.fileLimit)
	if r.tokens != nil {
		fmt.Fprintf(w, "\nenrollment: %d tokens created (%d failed), %d agents enrolled (%d failed) in %s, %.0f agents/s\n",
			r.tokens.ok.Load(), r.tokens.failed.Load(), r.enrolls.ok.Load(), r.enrolls.failed.Load(),
			r.enrollTime.Round(time.Millisecond), float64(r.enrolls.ok.Load())/r.enrollTime.Seconds())
		fmt.Fprintf(w, "  token creation p50 %s  p99 %s  max %s\n", ms(percentile(r.tokenLat, 50)),
			ms(percentile(r.tokenLat, 99)), ms(percentile(r.tokenLat, 100)))
		fmt.Fprintf(w, "  enrollment     p50 %s  p99 %s  max %s\n", ms(percentile(r.enrollLat, 50)),
			ms(percentile(r.enrollLat, 99)), ms(percentile(r.enrollLat, 100)))
		printKinds(w, r.tokens)
		printKinds(w, r.enrolls)
	}
	if r.beats == nil {
		return
	}
	secs := r.window.Seconds()
	b := r.beatLat
	fmt.Fprintf(w, "\nheartbeats: %d ok, %d failed (%.2f%%) in %.1f s: %.1f heartbeats/s (expected %.1f/s)\n",
		r.beats.ok.Load(), r.beats.failed.Load(), 100*r.beats.rate(), secs, float64(r.beats.ok.Load())/secs,
		float64(r.fleet)/c.heartbeat.Seconds())
	fmt.Fprintf(w, "  latency p50 %s  p95 %s  p99 %s  p99.9 %s  max %s\n", ms(percentile(b, 50)), ms(percentile(b, 95)),
		ms(percentile(b, 99)), ms(percentile(b, 99.9)), ms(percentile(b, 100)))
	verdict := "met"
	if percentile(b, 99) >= c.target {
		verdict = "MISSED"
	}
	fmt.Fprintf(w, "  target p99 < %s: %s\n", ms(c.target), verdict)
	if r.late > 0 {
		fmt.Fprintf(w, "  %d heartbeats went out late (the previous one took longer than the interval)\n", r.late)
	}
	printKinds(w, r.beats)
	r.printTimeline(w)
	fmt.Fprintf(w, "\nlong polls: %d completed, %d failed (%.2f%%), %d cut off at the end, %d work items received\n",
		r.polls.ok.Load(), r.polls.failed.Load(), 100*r.polls.rate(), r.pollsAborted, r.pollWork)
	printKinds(w, r.polls)

	bef, aft := r.snapBefore.metrics, r.snapAfter.metrics
	hb := map[string]string{"method": "POST", "route": "/api/v1/agent/heartbeat"}
	if bef != nil && aft != nil {
		h := histogramDelta(bef.histogram("certctl_http_request_duration_seconds", hb),
			aft.histogram("certctl_http_request_duration_seconds", hb))
		bound, under, total := quantileBound(h, 0.99, c.target.Seconds())
		if total > 0 {
			fmt.Fprintf(w, "  server-side heartbeat time (its histogram, %0.f requests): p99 ≤ %g s, %.2f%% within %s\n",
				total, bound, 100*under, ms(c.target))
		}
	}

	fmt.Fprintf(w, "\nserver:\n")
	if c.serverPID > 0 {
		fmt.Fprintf(w, "  %-28s %12s %12s %12s\n", "", "start", "enrolled", "under load")
		row := func(name string, f func(snapshot) string) {
			cell := func(s snapshot) string {
				if !s.procOK {
					return "-"
				}
				return f(s)
			}
			fmt.Fprintf(w, "  %-28s %12s %12s %12s\n", name, cell(r.snapStart), cell(r.snapBefore), cell(r.snapAfter))
		}
		row("VmRSS", func(s snapshot) string { return mib(s.rss) })
		row("VmHWM", func(s snapshot) string { return mib(s.hwm) })
		row("open fds", func(s snapshot) string { return fmt.Sprint(s.fds) })
		row("PostgreSQL PSS (procs)", func(s snapshot) string { return fmt.Sprintf("%s (%d)", mib(s.pgPSS), s.pgProcs) })
	} else {
		fmt.Fprintf(w, "  %-28s %12s %12s %12s\n", "", "start", "enrolled", "under load")
	}
	metric := func(name, label string, want map[string]string, format func(float64) string) {
		cell := func(s snapshot) string {
			v, ok := s.metrics.get(name, want)
			if !ok {
				return "-"
			}
			return format(v)
		}
		fmt.Fprintf(w, "  %-28s %12s %12s %12s\n", label, cell(r.snapStart), cell(r.snapBefore), cell(r.snapAfter))
	}
	num := func(v float64) string { return fmt.Sprintf("%.0f", v) }
	metric("go_memstats_heap_inuse_bytes", "go_memstats_heap_inuse_bytes", nil, func(v float64) string { return mib(int64(v)) })
	metric("go_memstats_next_gc_bytes", "go_memstats_next_gc_bytes", nil, func(v float64) string { return mib(int64(v)) })
	metric("go_memstats_stack_inuse_bytes", "go_memstats_stack_inuse_bytes", nil, func(v float64) string { return mib(int64(v)) })
	metric("go_goroutines", "go_goroutines", nil, num)
	metric("certctl_db_pool_acquired_connections", "db pool acquired", nil, num)
	metric("certctl_db_pool_max_connections", "db pool max", nil, num)
	fmt.Fprintf(w, "  %-28s %12d %12d %12d (limit %d)\n", "agentload open fds", r.snapStart.selfFDs, r.snapBefore.selfFDs,
		r.snapAfter.selfFDs, r.fileLimit)
	if p := r.peak; p != nil {
		fmt.Fprintf(w, "  peaks during the window: RSS %s, heap in use %s, goroutines %.0f, fds %d, db pool acquired %.0f\n",
			mib(p.rss), mib(int64(p.heap)), p.goroutines, p.fds, p.poolAcquired)
	}
	if bef != nil && aft != nil {
		d := func(name string) float64 {
			a, _ := aft.get(name, nil)
			b, _ := bef.get(name, nil)
			return a - b
		}
		acq, wait, empty := d("certctl_db_pool_acquires_total"), d("certctl_db_pool_acquire_wait_seconds_total"), d("certctl_db_pool_empty_acquires_total")
		if acq > 0 {
			fmt.Fprintf(w, "  db pool in the window: %.0f acquires (%.0f/s), %.0f had to wait (%.1f%%), %.2f s waited in all (%.2f ms per acquire)\n",
				acq, acq/secs, empty, 100*empty/acq, wait, 1000*wait/acq)
		}
		if gcs := d("go_gc_duration_seconds_count"); gcs > 0 {
			fmt.Fprintf(w, "  GC in the window: %.0f cycles, %.1f ms stop-the-world in all\n", gcs, 1000*d("go_gc_duration_seconds_sum"))
		}
		reqs, _ := aft.get("certctl_http_requests_total", nil)
		reqs0, _ := bef.get("certctl_http_requests_total", nil)
		fmt.Fprintf(w, "  HTTP requests in the window: %.0f (%.0f/s)\n", reqs-reqs0, (reqs-reqs0)/secs)
	}
	c0, c1 := r.snapBefore.cpu, r.snapAfter.cpu
	if c1.Total > c0.Total {
		span := r.snapAfter.at.Sub(r.snapBefore.at).Seconds()
		cores := func(ticks int64) float64 { return float64(ticks) / procstat.ClockTick / span }
		ncpu := float64(c1.Total-c0.Total) / procstat.ClockTick / span
		fmt.Fprintf(w, "\nCPU in the window (cores of %.0f): machine busy %.2f", ncpu, cores(c1.Machine-c0.Machine))
		if c1.OK {
			fmt.Fprintf(w, " = server %.2f + PostgreSQL %.2f + plugins %.2f + agentload %.2f + other %.2f",
				cores(c1.Server-c0.Server), cores(c1.Postgres-c0.Postgres), cores(c1.Plugins-c0.Plugins), cores(c1.Self-c0.Self),
				cores((c1.Machine-c0.Machine)-(c1.Server-c0.Server)-(c1.Postgres-c0.Postgres)-(c1.Plugins-c0.Plugins)-(c1.Self-c0.Self)))
		} else {
			fmt.Fprintf(w, " (agentload %.2f)", cores(c1.Self-c0.Self))
		}
		fmt.Fprintln(w)
	}
}

// printTimeline shows heartbeat latency by stretch of the window, to tell
// the ramp (long polls opening) from the steady state.
func (r *report) printTimeline(w io.Writer) {
	if len(r.timeline) == 0 {
		return
	}
	step := 10 * time.Second
	if r.window > 5*time.Minute {
		step = time.Minute
	}
	buckets := map[int][]time.Duration{}
	last := 0
	for _, b := range r.timeline {
		i := int(b.at / step)
		buckets[i] = append(buckets[i], b.took)
		last = max(last, i)
	}
	fmt.Fprintf(w, "  by time:  %-9s %8s %10s %10s %10s\n", "from", "count", "p50", "p99", "max")
	for i := 0; i <= last; i++ {
		d := buckets[i]
		slices.Sort(d)
		fmt.Fprintf(w, "            %-9s %8d %10s %10s %10s\n", fmt.Sprintf("%ds", int((time.Duration(i)*step).Seconds())),
			len(d), ms(percentile(d, 50)), ms(percentile(d, 99)), ms(percentile(d, 100)))
	}
}
