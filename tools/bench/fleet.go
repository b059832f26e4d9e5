package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// runFleet runs tools/agentload through tools/agentload/run.sh (a server
// with default settings on loopback, stopped afterwards): the fleet at a
// 30 s heartbeat.
func runFleet(ctx context.Context, e *env) ([]row, error) {
	label := fmt.Sprintf("%s agents, 30s heartbeat", num(float64(e.cfg.fleetAgents)))
	out, err := command(ctx, e, []string{"LOAD_BIN_DIR=" + e.bin}, "./tools/agentload/run.sh",
		"-agents", strconv.Itoa(e.cfg.fleetAgents), "-heartbeat", "30s", "-duration", e.cfg.fleetWindow.String(), "-attempts", "4")
	rows := fleetRows(label, e.cfg.fleetAgents, 30*time.Second, out, true)
	return rows, err
}

// runHeartbeatRate runs the fleet with a shorter heartbeat: 3,000
// heartbeats/s by default.
func runHeartbeatRate(ctx context.Context, e *env) ([]row, error) {
	rate := float64(e.cfg.rateAgents) / e.cfg.rateBeat.Seconds()
	label := fmt.Sprintf("%s agents, %s heartbeat (%s/s)", num(float64(e.cfg.rateAgents)), e.cfg.rateBeat, num(rate))
	out, err := command(ctx, e, []string{"LOAD_BIN_DIR=" + e.bin}, "./tools/agentload/run.sh",
		"-agents", strconv.Itoa(e.cfg.rateAgents), "-heartbeat", e.cfg.rateBeat.String(),
		"-duration", e.cfg.rateWindow.String(), "-attempts", "4")
	rows := fleetRows(label, e.cfg.rateAgents, e.cfg.rateBeat, out, false)
	return rows, err
}

var (
	reBeats   = regexp.MustCompile(`heartbeats: (\d+) ok, (\d+) failed \(([\d.]+)%\) in [\d.]+ s: ([\d.]+) heartbeats/s`)
	reLatency = regexp.MustCompile(`latency p50 ([\d.]+) ms\s+p95 ([\d.]+) ms\s+p99 ([\d.]+) ms`)
	reRSS     = regexp.MustCompile(`(?m)^\s*VmRSS\s+([\d.]+) MiB\s+([\d.]+) MiB\s+([\d.]+) MiB`)
)

// fleetRows reads agentload's report: heartbeat rate and latency, and
// the server's memory per connected agent (its RSS under load less its
// RSS at the start, over the agents).
func fleetRows(label string, agents int, beat time.Duration, out string, memory bool) []row {
	var rows []row
	b := reBeats.FindStringSubmatch(out)
	lat := reLatency.FindStringSubmatch(out)
	if b == nil || lat == nil {
		return []row{{figure: "heartbeats, " + label, unit: "ms", value: "–", verdict: "not in agentload's output"}}
	}
	rate, _ := strconv.ParseFloat(b[4], 64)
	failedPct, _ := strconv.ParseFloat(b[3], 64)
	p50, _ := strconv.ParseFloat(lat[1], 64)
	p99, _ := strconv.ParseFloat(lat[3], 64)
	want := float64(agents) / beat.Seconds()
	rows = append(rows, row{figure: "heartbeat latency p50 / p99, " + label, unit: "ms", value: num(p50) + " / " + num(p99),
		target: "p99 < 100", verdict: below(100, "ms").judge(p99)})
	r := figure("heartbeats sustained, "+label, "heartbeats/s", rate, fmt.Sprintf("%s/s asked", num(want)), atLeast(0.99*want, "heartbeats/s"))
	r.target = "≥ 99% of " + num(want)
	if failedPct > 0 {
		r.verdict += fmt.Sprintf(" (%.2f%% failed)", failedPct)
	}
	rows = append(rows, r)
	if memory {
		if m := reRSS.FindStringSubmatch(out); m != nil {
			start, _ := strconv.ParseFloat(m[1], 64)
			load, _ := strconv.ParseFloat(m[3], 64)
			per := (load - start) * 1024 / float64(agents)
			rows = append(rows, figure(fmt.Sprintf("server memory per connected agent, %s (RSS %s MiB under load less %s MiB at the start)",
				label, num(load), num(start)), "KiB", per, "", below(20.001, "KiB")))
			rows[len(rows)-1].target = "≤ 20"
		} else {
			rows = append(rows, row{figure: "server memory per connected agent, " + label, unit: "KiB", value: "–",
				target: "≤ 20", verdict: "not in agentload's output"})
		}
	}
	return rows
}

// runReissue runs the CA-distrust day (tools/reissueload through its
// run.sh, which starts a server with default settings and stops it): a
// modest -reissue-n certificates bulk-loaded with versions on one local
// CA, moved to another by one bulk operation and re-issued, timed, with
// the API's latency sampled meanwhile.
func runReissue(ctx context.Context, e *env) ([]row, error) {
	if _, err := os.Stat(filepath.Join(e.root, "tools", "reissueload", "run.sh")); err != nil {
		fmt.Fprintf(e.out, "bench: tools/reissueload/run.sh does not exist in this tree: the re-issue is not measured\n")
		return []row{{figure: "CA-distrust re-issue", unit: "certificates/s", value: "–", target: "≥ 556 (100,000 in 3 min)",
			verdict: "not measured: tools/reissueload does not exist yet"}}, nil
	}
	out, err := command(ctx, e, []string{"LOAD_BIN_DIR=" + e.bin}, "./tools/reissueload/run.sh",
		"-n", strconv.Itoa(e.cfg.reissueN), "-ca-key-type", "ecdsa-p256")
	return reissueRows(out), err
}

var (
	reReissued = regexp.MustCompile(`re-issued (\d+) certificates in \S+: ([\d.]+) certificates/s`)
	reAPIAll   = regexp.MustCompile(`API during the run: .*all p50 ([\d.]+) ms p99 ([\d.]+) ms \((\d+) requests, (\d+) failed\)`)
)

// reissueRows reads tools/reissueload's report.
func reissueRows(out string) []row {
	m := reReissued.FindStringSubmatch(out)
	if m == nil {
		return []row{{figure: "CA-distrust re-issue to another issuer", unit: "certificates/s", value: "–", target: "≥ 556 (100,000 in 3 min)",
			verdict: "not in reissueload's output"}}
	}
	count, _ := strconv.ParseFloat(m[1], 64)
	rate, _ := strconv.ParseFloat(m[2], 64)
	baseline := ""
	if base := match(reBaseline, out); !math.IsNaN(base) {
		baseline = fmt.Sprintf("%s in process (%.1f%% of it)", num(base), 100*rate/base)
	}
	// 100,000 in 3 minutes is 556 certificates/s.
	r := figure(fmt.Sprintf("CA-distrust re-issue: %s certificates moved to another issuer (P-256 CA) by one bulk operation", num(count)),
		"certificates/s", rate, baseline, atLeast(100000.0/180, "certificates/s"))
	r.target = "≥ 556 (100,000 in 3 min)"
	rows := []row{r}
	if cpu := match(reProduct, out); !math.IsNaN(cpu) {
		rows = append(rows, figure("CPU per re-issued certificate (server + PostgreSQL + plugins)", "ms", cpu, "", nil))
	}
	if a := reAPIAll.FindStringSubmatch(out); a != nil {
		p50, _ := strconv.ParseFloat(a[1], 64)
		p99, _ := strconv.ParseFloat(a[2], 64)
		x := row{figure: fmt.Sprintf("API latency during the re-issue (gets and lists, %s requests, %s failed)", a[3], a[4]),
			unit: "ms p50 / p99", value: num(p50) + " / " + num(p99), target: "p99 < 100", verdict: below(100, "ms").judge(p99)}
		rows = append(rows, x)
	}
	return rows
}
