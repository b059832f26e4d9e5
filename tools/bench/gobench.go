package main

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// goBench is one `go test -bench` run: a package's benchmarks of the
// earlier sessions, against a real PostgreSQL (server/pgtest: fsync off)
// and the real plugins. -benchtime is what keeps each within its budget
// on two cores.
type goBench struct {
	pkg, bench, benchtime string
	rows                  func(results benchResults) []row
}

var (
	benchAPI       = goBench{"./server/httpapi/", "API", "2000x", apiRows}
	benchConsole   = goBench{"./server/console/", "Pages", "100x", pageRows}
	benchScheduler = goBench{"./server/service/", ".", "1x", serviceRows}
	benchPlugins   = goBench{"./plugins/issuer/local/", ".", "1s", pluginRows}
	benchTerraform = goBench{"./provider/internal/provider/", "PlanRefresh", "1x", providerRows}
)

// step makes the benchmark a step of the driver.
func (b goBench) step(name, about string, budget time.Duration) step {
	return step{name: name, about: about, budget: budget, run: b.run}
}

func (b goBench) run(ctx context.Context, e *env) ([]row, error) {
	args := []string{"test", "-run", "^$", "-bench", b.bench, "-benchtime", b.benchtime, "-timeout", "30m"}
	args = append(args, strings.Fields(e.cfg.goBenchFlags)...)
	args = append(args, b.pkg)
	out, err := command(ctx, e, nil, "go", args...)
	return b.rows(parseBench(out)), err
}

// benchResults maps a benchmark's name (without the -GOMAXPROCS suffix)
// to its metrics by unit.
type benchResults map[string]map[string]float64

var reBenchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)

// parseBench reads the result lines of `go test -bench` output: a name,
// the iteration count, then pairs of value and unit.
func parseBench(out string) benchResults {
	res := benchResults{}
	for line := range strings.SplitSeq(out, "\n") {
		m := reBenchLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		f := strings.Fields(m[3])
		metrics := map[string]float64{}
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			metrics[f[i+1]] = v
		}
		res[m[1]] = metrics
	}
	return res
}

// get is one metric, NaN when the benchmark or the unit is missing.
func (r benchResults) get(name, unit string) float64 {
	if m, ok := r[name]; ok {
		if v, ok := m[unit]; ok {
			return v
		}
	}
	return math.NaN()
}

func missing(fig, unit string) row {
	return row{figure: fig, unit: unit, value: "–", verdict: "not measured (see the step's output)"}
}

func apiRows(r benchResults) []row {
	cases := []struct{ name, what string }{
		{"create", "create a certificate (validation, insert, audit, issuance job)"},
		{"get", "get an issuer"},
		{"list/first-page", "list, first page (50)"},
		{"list/deep-page", "list, a page deep in the table (cursor)"},
		{"list/by-status", "list by status"},
		{"list/by-issuer-deep", "list by issuer, deep"},
		{"list/expiring-soon", "list expiring before a date"},
		{"list/name-prefix", "list by name prefix"},
	}
	var rows []row
	for _, c := range cases {
		name := "BenchmarkAPI/" + c.name
		fig := "API, 100,000 certificates: " + c.what
		p50, p99, rps := r.get(name, "p50-ms"), r.get(name, "p99-ms"), r.get(name, "req/s")
		if math.IsNaN(p99) {
			rows = append(rows, missing(fig, "ms p50 / p99"))
			continue
		}
		x := row{figure: fmt.Sprintf("%s, %s requests/s", fig, num(rps)), unit: "ms p50 / p99", value: num(p50) + " / " + num(p99)}
		if strings.HasPrefix(c.name, "list/") {
			x.target, x.verdict = "p99 < 20", below(20, "ms").judge(p99)
		}
		rows = append(rows, x)
	}
	return rows
}

func pageRows(r benchResults) []row {
	slowest, worst := "", math.NaN()
	for name, m := range r {
		page, ok := strings.CutPrefix(name, "BenchmarkPages/")
		if !ok || page == "dashboard_counts_uncached" {
			continue
		}
		if v, ok := m["ns/op"]; ok && (math.IsNaN(worst) || v > worst) {
			slowest, worst = page, v
		}
	}
	var rows []row
	if slowest == "" {
		rows = append(rows, missing("console pages, 100,000 certificates: the slowest page", "ms"))
	} else {
		rows = append(rows, figure(fmt.Sprintf("console pages, 100,000 certificates and 10,000 agents: the slowest of %d pages (%s), server time",
			len(r)-1, slowest), "ms", worst/1e6, "", below(100, "ms")))
	}
	if v := r.get("BenchmarkPages/dashboard_counts_uncached", "ns/op"); !math.IsNaN(v) {
		rows = append(rows, figure("console dashboard counts read afresh (at most once per 15 s per server)", "ms", v/1e6, "", nil))
	}
	return rows
}

func serviceRows(r benchResults) []row {
	rows := []row{
		figure("scheduler, 1,000,000 certificates: the indexed scan for the 10,000 due", "ms",
			r.get("BenchmarkDueScan/scan", "scan-ms"), "", below(1000, "ms")),
		figure("scheduler: find and enqueue the 10,000 due renewals", "renewals/s", r.get("BenchmarkDueScan/enqueue", "enqueued/s"), "", nil),
	}
	for _, w := range []string{"16", "64"} {
		v := r.get("BenchmarkIssuance/workers-"+w, "certs/s")
		rows = append(rows, figure("issuance by one worker in process (no API, fsync off), agent key, P-256 CA, "+w+" workers",
			"certificates/s", v, "", nil))
	}
	return rows
}

func pluginRows(r benchResults) []row {
	in, out := r.get("BenchmarkCall/in-process", "p50-µs"), r.get("BenchmarkCall/plugin", "p50-µs")
	hop := out - in
	rows := []row{figure("plugin hop: one call through the plugin process, p50, less in process", "µs", hop,
		num(in)+" µs in process", below(150, "µs"))}
	for _, kt := range []string{"ecdsa-p256", "rsa-2048"} {
		p, i := r.get("BenchmarkIssue/"+kt+"/plugin", "certs/s"), r.get("BenchmarkIssue/"+kt+"/in-process", "certs/s")
		base := ""
		if !math.IsNaN(i) {
			base = num(i) + " in process"
		}
		rows = append(rows, figure("local CA (its default CA key) issuing from a CSR through the plugin, "+kt+" leaves", "certificates/s", p, base, nil))
	}
	return rows
}

func providerRows(r benchResults) []row {
	name := "BenchmarkPlanRefresh1000Certificates"
	base := r.get(name, "s/plan-no-refresh")
	b := ""
	if !math.IsNaN(base) {
		b = num(base) + " s without refresh"
	}
	return []row{figure("terraform plan with refresh, 1,000 certificates", "s", r.get(name, "s/plan"), b, below(30, "s"))}
}
