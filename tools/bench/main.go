// Command bench runs every benchmark of certctl, one step after another,
// each within a time budget, and prints one table of the figures: each
// beside the baseline measured in the same run, its target where issue 14
// (or an earlier one) sets one, and whether it is met. With -write it
// also puts the table at the top of docs/performance.md, between the
// markers <!-- bench:begin --> and <!-- bench:end -->. `make bench` builds
// the binaries and runs it with -write.
//
// Every step prints its own output too, so the raw figures are in the log.
// A step that fails does not stop the others; its rows say "failed" with
// the reason and the exit status is non-zero.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// config is the command line: what to run and how big.
type config struct {
	write     bool
	doc       string
	steps     string
	binDir    string
	scale     float64 // multiplies every step's time budget
	benchFast bool

	issuanceN      int
	issuanceAgents int
	issuanceAgentN int
	fleetAgents    int
	fleetWindow    time.Duration
	rateAgents     int
	rateBeat       time.Duration
	rateWindow     time.Duration
	reissueN       int
	nginxCerts     int
	idleSettle     time.Duration
	keepScratch    bool
	goBenchFlags   string // extra flags of the go test steps
}

// env is what every step gets: the configuration, where the repository
// and the binaries are, and where to print.
type env struct {
	cfg  config
	root string // the repository's top directory
	bin  string // absolute path of the built binaries (make build)
	out  io.Writer
}

// step is one benchmark: it prints as it runs and returns its rows. A step
// that returns an error may still return the rows it measured.
type step struct {
	name   string
	about  string
	budget time.Duration
	run    func(ctx context.Context, e *env) ([]row, error)
}

// steps are every step, in the order they run. Budgets are ceilings for
// a quiet two-core machine (their sum stays under 20 minutes); a step
// usually takes half of its budget or less, except terraform: its apply
// and destroy of 1,000 certificates take about 35 s each around the plans,
// about 2m10s in all on the quiet reference machine.
func steps() []step {
	return []step{
		benchAPI.step("api", "API with 100,000 certificates (go test -bench API ./server/httpapi/)", 90*time.Second),
		benchConsole.step("console", "console pages with 100,000 certificates (go test -bench Pages ./server/console/)", 60*time.Second),
		benchScheduler.step("scheduler", "scheduler with 1,000,000 certificates and in-process issuance (go test -bench . ./server/service/)", 120*time.Second),
		benchPlugins.step("plugins", "the plugin hop and local-CA signing (go test -bench . ./plugins/issuer/local/)", 60*time.Second),
		benchTerraform.step("terraform", "terraform plan over 1,000 certificates (go test -bench PlanRefresh ./provider/internal/provider/)", 240*time.Second),
		{"issuance", "issuance end to end on the built server, default settings, and its memory footprint", 180 * time.Second, runIssuance},
		{"nginx", "issued -> served by NGINX through a real agent, and the agent's memory", 90 * time.Second, runNginx},
		{"fleet", "10,000 agents at 30 s heartbeats (tools/agentload/run.sh)", 120 * time.Second, runFleet},
		{"heartbeats", "3,000 heartbeats/s (tools/agentload/run.sh with a shorter heartbeat)", 90 * time.Second, runHeartbeatRate},
		{"reissue", "the CA-distrust bulk re-issue (tools/reissueload/run.sh)", 75 * time.Second, runReissue},
	}
}

func main() {
	var c config
	flag.BoolVar(&c.write, "write", false, "write the table into -doc between <!-- bench:begin --> and <!-- bench:end --> (make bench sets it); without it the table is only printed")
	flag.StringVar(&c.doc, "doc", "docs/performance.md", "the document -write updates, relative to the repository")
	flag.StringVar(&c.steps, "steps", "", "comma-separated steps to run (default every one: "+strings.Join(stepNames(), ",")+")")
	flag.StringVar(&c.binDir, "bin", "bin", "the built binaries (make build): absolute, or relative to the repository")
	flag.Float64Var(&c.scale, "budget-scale", 1, "multiply every step's time budget by this (for bigger runs or a slow machine)")
	flag.BoolVar(&c.benchFast, "quick", false, "small sizes for the end-to-end steps, to check that they work (figures not comparable, so -write writes nothing)")
	flag.IntVar(&c.issuanceN, "issuance-n", 2000, "certificates declared per issuance run (one run per CA key type)")
	flag.IntVar(&c.issuanceAgents, "issuance-agents", 100, "simulated agents of the agent-key issuance runs (issueload -agents)")
	flag.IntVar(&c.issuanceAgentN, "issuance-agent-n", 500, "certificates declared per agent-key issuance run")
	flag.IntVar(&c.fleetAgents, "fleet-agents", 10000, "agents of the fleet step")
	flag.DurationVar(&c.fleetWindow, "fleet-window", 60*time.Second, "measurement window of the fleet step, after enrollment")
	flag.IntVar(&c.rateAgents, "rate-agents", 10000, "agents of the heartbeat-rate step")
	flag.DurationVar(&c.rateBeat, "rate-heartbeat", 3333*time.Millisecond, "heartbeat interval of the heartbeat-rate step (10,000 agents every 3.333 s: 3,000/s)")
	flag.DurationVar(&c.rateWindow, "rate-window", 45*time.Second, "measurement window of the heartbeat-rate step")
	flag.IntVar(&c.reissueN, "reissue-n", 5000, "certificates moved to another issuer and re-issued by the reissue step (the target is about 100,000)")
	flag.IntVar(&c.nginxCerts, "nginx-certs", 20, "certificates deployed to NGINX and renewed by the nginx step")
	flag.DurationVar(&c.idleSettle, "idle-settle", 10*time.Second, "how long a server or agent runs before its idle memory is read")
	flag.BoolVar(&c.keepScratch, "keep", false, "keep the scratch directories (server data, logs, nginx) of failed steps")
	flag.StringVar(&c.goBenchFlags, "gotest-flags", "", "extra flags for every go test step (api, console, scheduler, plugins, terraform), e.g. -count=2")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./tools/bench [flags]   (make bench: make build, then this with -write)\n\nsteps:\n")
		for _, s := range steps() {
			fmt.Fprintf(flag.CommandLine.Output(), "  %-11s %s (budget %s)\n", s.name, s.about, s.budget)
		}
		fmt.Fprintf(flag.CommandLine.Output(), "\nflags:\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "bench: unexpected arguments: %s\n", strings.Join(flag.Args(), " "))
		os.Exit(2)
	}
	if c.benchFast {
		c.issuanceN, c.issuanceAgents, c.issuanceAgentN = 200, 10, 100
		c.fleetAgents, c.fleetWindow, c.rateAgents, c.rateWindow = 500, 15*time.Second, 500, 15*time.Second
		c.rateBeat = 500 * time.Millisecond
		c.reissueN, c.nginxCerts, c.idleSettle = 200, 4, 2*time.Second
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, c, os.Stdout, steps()))
}

func stepNames() []string { return names(steps()) }

func names(all []step) []string {
	var names []string
	for _, s := range all {
		names = append(names, s.name)
	}
	return names
}

// run runs the chosen steps of all and prints (and with -write writes)
// the table; it returns the exit status.
func run(ctx context.Context, c config, out io.Writer, all []step) int {
	root, err := repoRoot()
	if err != nil {
		fmt.Fprintf(out, "bench: %v\n", err)
		return 2
	}
	bin := c.binDir
	if !filepath.IsAbs(bin) {
		bin = filepath.Join(root, bin)
	}
	e := &env{cfg: c, root: root, bin: bin, out: out}
	chosen := all
	if c.steps != "" {
		want := strings.Split(c.steps, ",")
		for _, w := range want {
			if !slices.Contains(names(all), strings.TrimSpace(w)) {
				fmt.Fprintf(out, "bench: no step %q (steps: %s)\n", w, strings.Join(names(all), ", "))
				return 2
			}
		}
		chosen = slices.DeleteFunc(chosen, func(s step) bool {
			return !slices.ContainsFunc(want, func(w string) bool { return strings.TrimSpace(w) == s.name })
		})
	}
	facts := machineFacts(ctx, root)
	fmt.Fprintf(out, "bench: %s\n", facts.line())
	var results []result
	start := time.Now()
	failed := false
	for _, s := range chosen {
		if ctx.Err() != nil {
			break
		}
		budget := time.Duration(float64(s.budget) * c.scale)
		fmt.Fprintf(out, "\n=== bench step %s: %s (budget %s)\n", s.name, s.about, budget)
		sctx, cancel := context.WithTimeout(ctx, budget)
		t0 := time.Now()
		rows, err := s.run(sctx, e)
		took := time.Since(t0)
		if err != nil && sctx.Err() != nil && ctx.Err() == nil {
			err = fmt.Errorf("over its time budget of %s: %w", budget, err)
		}
		cancel()
		r := result{step: s.name, rows: rows, took: took, err: err}
		if err != nil {
			failed = true
			fmt.Fprintf(out, "=== bench step %s: FAILED after %s: %v\n", s.name, took.Round(time.Second), err)
		} else {
			fmt.Fprintf(out, "=== bench step %s: done in %s\n", s.name, took.Round(time.Second))
		}
		results = append(results, r)
	}
	total := time.Since(start)
	facts.loadEnd = loadAvg()
	table := render(facts, results, total)
	fmt.Fprintf(out, "\n%s", table)
	if ctx.Err() != nil {
		fmt.Fprintf(out, "bench: interrupted; %s not written\n", c.doc)
		return 130
	}
	if c.write && c.benchFast {
		fmt.Fprintf(out, "bench: -quick figures are not comparable; %s not written\n", c.doc)
	} else if c.write {
		path := c.doc
		if !filepath.IsAbs(path) {
			path = filepath.Join(root, path)
		}
		if err := writeDoc(path, table); err != nil {
			fmt.Fprintf(out, "bench: %v\n", err)
			return 1
		}
		fmt.Fprintf(out, "bench: wrote the table into %s\n", c.doc)
	}
	if failed {
		return 1
	}
	return 0
}

// repoRoot finds the repository's top directory from the working
// directory (make and go run start in it or below it).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("not inside the certctl repository (no go.work above " + dir + ")")
		}
	}
}
