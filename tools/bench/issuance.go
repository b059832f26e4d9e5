package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// runIssuance measures issuance as a user meets it: one server started as
// `make run` starts it (embedded PostgreSQL, durable commits, every
// default), tools/issueload declaring -issuance-n certificates through its
// API on a local CA with a P-256 key and then on one with a P-384 key,
// each timed until every certificate is active, then one bulk renewal of
// as many, each beside issueload's same-run in-process signing rate with
// the same CA key type. The server's footprint (PSS of it, its PostgreSQL
// and its plugins) is read idle after the start and after the first load.
func runIssuance(ctx context.Context, e *env) ([]row, error) {
	srv, err := startServer(ctx, e)
	if err != nil {
		return nil, err
	}
	defer srv.stop(e)
	var rows []row
	var errs []error

	// Idle: started, ready, nothing asked of it yet.
	if err := sleepCtx(ctx, e.cfg.idleSettle); err != nil {
		return nil, err
	}
	idle, err := readTreeMem(srv.pid())
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(e.out, "bench: footprint idle, %s after ready: server %s; PostgreSQL %s; plugins %s; in all %s\n",
		e.cfg.idleSettle, idle.self, idle.postgres, idle.others, idle.total())

	agentKey := issueloadAgentKey(ctx, e)
	type run struct {
		label string
		args  []string
	}
	// Each run on a local CA of its own with the CA key type named
	// (issueload -ca-key-type), so that the label holds whatever the
	// default of the day is; the baseline uses the same key type.
	n := strconv.Itoa(e.cfg.issuanceN)
	runs := []run{
		{"P-256 CA, server key, declared through the API", []string{"-n", n, "-ca-key-type", "ecdsa-p256"}},
		{"P-384 CA, server key, declared through the API", []string{"-n", n, "-ca-key-type", "ecdsa-p384"}},
		{"P-256 CA, server key, one bulk renewal", []string{"-n", n, "-ca-key-type", "ecdsa-p256", "-mode", "renew"}},
	}
	if agentKey != nil {
		// Fewer certificates than with server keys: each costs several
		// more requests (the agents' polls, CSRs and reports).
		who := fmt.Sprintf("agent key (%d simulated agents), declared through the API", e.cfg.issuanceAgents)
		an := []string{"-n", strconv.Itoa(e.cfg.issuanceAgentN)}
		runs = append(runs, run{"P-256 CA, " + who, slices.Concat(an, []string{"-ca-key-type", "ecdsa-p256"}, agentKey)},
			run{"P-384 CA, " + who, slices.Concat(an, []string{"-ca-key-type", "ecdsa-p384"}, agentKey)})
	}
	var after treeMem
	for i, r := range runs {
		args := append([]string{"run", "./tools/issueload", "-server", srv.url, "-admin-key", srv.key,
			"-server-pid", strconv.Itoa(srv.pid())}, r.args...)
		out, err := command(ctx, e, nil, "go", args...)
		rows = append(rows, issuanceRows(r.label, out)...)
		if err != nil {
			errs = append(errs, fmt.Errorf("issueload, %s: %w", r.label, err))
		}
		if i == 0 {
			// After the first load, before the next run adds a CA.
			if after, err = readTreeMem(srv.pid()); err != nil {
				errs = append(errs, err)
			}
			fmt.Fprintf(e.out, "bench: footprint after %d certificates issued: server %s; PostgreSQL %s; plugins %s; in all %s\n",
				e.cfg.issuanceN, after.self, after.postgres, after.others, after.total())
		}
		if ctx.Err() != nil {
			break
		}
	}
	if agentKey == nil {
		rows = append(rows, row{figure: "issuance end to end, agent key", unit: "certificates/s", value: "–",
			verdict: "not measured: tools/issueload has no agent-key mode yet"})
	}
	rows = append(rows,
		footprintRow("footprint idle", idle, below(80, "MiB")),
		footprintRow(fmt.Sprintf("footprint after issuing %s certificates", num(float64(e.cfg.issuanceN))), after, below(120, "MiB")))
	return rows, errors.Join(errs...)
}

func footprintRow(name string, t treeMem, g *goal) row {
	r := figure(fmt.Sprintf("%s: server + its PostgreSQL + plugins, PSS (server %.0f, PostgreSQL %.0f in %d processes, plugins %.0f in %d)",
		name, toMiB(t.self.pss), toMiB(t.postgres.pss), t.postgres.procs, toMiB(t.others.pss), t.others.procs),
		"MiB", toMiB(t.total().pss), "", g)
	if t.self.procs == 0 {
		r.value, r.verdict = "–", "not measured"
	}
	return r
}

var (
	reActive   = regexp.MustCompile(`all (?:active|renewed) .* after the (?:first )?request: ([\d.]+) certificates/s`)
	reBaseline = regexp.MustCompile(`baseline: .*: ([\d.]+) certificates/s`)
	reProduct  = regexp.MustCompile(`the product \(server \+ PostgreSQL \+ plugins\): ([\d.]+) ms of CPU per certificate`)
)

// issuanceRows reads issueload's report.
func issuanceRows(label, out string) []row {
	rate := match(reActive, out)
	base := match(reBaseline, out)
	cpu := match(reProduct, out)
	baseline := ""
	if !math.IsNaN(base) {
		baseline = num(base) + " in process"
		if !math.IsNaN(rate) {
			baseline += fmt.Sprintf(" (%.1f%% of it)", 100*rate/base)
		}
	}
	rows := []row{figure("issuance end to end, P-256 leaves, "+label, "certificates/s", rate, baseline, atLeast(1000, "certificates/s"))}
	if !math.IsNaN(cpu) {
		// 1,000/s on 2 cores leaves at most 2 ms of CPU per certificate.
		rows = append(rows, figure("CPU per certificate (server + PostgreSQL + plugins), "+label, "ms", cpu, "", below(2, "ms")))
	}
	return rows
}

// match returns the first group of re in s as a number, NaN when absent.
func match(re *regexp.Regexp, s string) float64 {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// issueloadAgentKey returns issueload's flags that select agent key mode
// (simulated agents make the keys and send the CSRs through the agent
// API), when this tree's issueload has them.
func issueloadAgentKey(ctx context.Context, e *env) []string {
	out, _ := command(ctx, e, nil, "go", "run", "./tools/issueload", "-h")
	if strings.Contains(out, "  -agents ") {
		return []string{"-agents", strconv.Itoa(e.cfg.issuanceAgents)}
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
