package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
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

// runReissue runs the CA-distrust bulk re-issue (helper tools/reissueload,
// `make load-reissue`) with a modest -reissue-n, when the tool exists.
func runReissue(ctx context.Context, e *env) ([]row, error) {
	if _, err := os.Stat(filepath.Join(e.root, "tools", "reissueload")); err != nil {
		fmt.Fprintf(e.out, "bench: tools/reissueload does not exist in this tree: the re-issue is not measured\n")
		return []row{{figure: "CA-distrust re-issue", unit: "certificates/s", value: "–", target: "100,000 in < 3 min",
			verdict: "not measured: tools/reissueload does not exist yet"}}, nil
	}
	out, err := command(ctx, e, []string{"LOAD_BIN_DIR=" + e.bin, "LOAD_TOOL=reissueload"}, "./tools/agentload/run.sh",
		"-n", strconv.Itoa(e.cfg.reissueN))
	return reissueRows(out), err
}

var (
	reReissueRate = regexp.MustCompile(`(?i)re-?issued?\D*?([\d,]+) certificates? in ([\d.]+)\s*(ms|s|m)\b`)
	reAPIp99      = regexp.MustCompile(`(?i)API p99\D*?([\d.]+) ms`)
)

// reissueRows reads tools/reissueload's report.
func reissueRows(out string) []row {
	m := reReissueRate.FindStringSubmatch(out)
	if m == nil {
		return []row{{figure: "CA-distrust re-issue", unit: "certificates/s", value: "–", target: "100,000 in < 3 min",
			verdict: "not in reissueload's output"}}
	}
	count, _ := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
	secs, _ := strconv.ParseFloat(m[2], 64)
	switch m[3] {
	case "ms":
		secs /= 1000
	case "m":
		secs *= 60
	}
	rate := count / secs
	// 100,000 in 3 minutes is 556 certificates/s.
	r := figure(fmt.Sprintf("CA-distrust re-issue of %s certificates to another issuer", num(count)), "certificates/s", rate,
		"", atLeast(100000.0/180, "certificates/s"))
	r.target = "≥ 556 (100,000 in 3 min)"
	rows := []row{r}
	if p99 := match(reAPIp99, out); !math.IsNaN(p99) {
		rows = append(rows, figure("API p99 during the re-issue", "ms", p99, "", below(100, "ms")))
	}
	return rows
}
