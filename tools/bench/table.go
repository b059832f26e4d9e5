package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/certctl/certctl/server/pgembed"
)

// row is one line of the table: one figure.
type row struct {
	figure   string
	unit     string
	value    string // as shown, e.g. "1.9 / 4.9" for p50 / p99
	baseline string // the same run's baseline, or ""
	target   string // e.g. "< 100", or "" when none is set
	verdict  string // "met", "missed by …", "failed: …" or a note
}

// result is what one step gave.
type result struct {
	step string
	rows []row
	took time.Duration
	err  error
}

// goal is a target: the figure must stay below limit (less) or reach it.
type goal struct {
	less  bool
	limit float64
	unit  string
}

func below(limit float64, unit string) *goal   { return &goal{less: true, limit: limit, unit: unit} }
func atLeast(limit float64, unit string) *goal { return &goal{limit: limit, unit: unit} }

func (g *goal) String() string {
	if g == nil {
		return ""
	}
	if g.less {
		return "< " + num(g.limit)
	}
	return "≥ " + num(g.limit)
}

// judge says whether v meets g, and by how much it misses (in the unit
// and in percent of the target).
func (g *goal) judge(v float64) string {
	if g == nil {
		return ""
	}
	if math.IsNaN(v) {
		return "not measured"
	}
	if g.less && v < g.limit || !g.less && v >= g.limit {
		return "met"
	}
	d := math.Abs(v - g.limit)
	return fmt.Sprintf("**missed by %s %s (%.0f%%)**", num(d), g.unit, 100*d/g.limit)
}

// figure makes a row of a measured value against an optional goal.
func figure(name, unit string, v float64, baseline string, g *goal) row {
	return row{figure: name, unit: unit, value: num(v), baseline: baseline, target: g.String(), verdict: g.judge(v)}
}

// num formats a figure with a sensible precision and thousands separators.
func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case math.Abs(v) >= 100:
		return commas(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case math.Abs(v) >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v == 0:
		return "0"
	default:
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
}

func commas(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// facts describes the machine and the build a run measured.
type facts struct {
	cpu, os, kernel, postgres, goVersion, commit string
	cores                                        int
	memory                                       int64
	date                                         time.Time
	loadStart, loadEnd                           string
}

func machineFacts(ctx context.Context, root string) facts {
	f := facts{cores: runtime.NumCPU(), goVersion: runtime.Version(), date: time.Now().UTC(), loadStart: loadAvg()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				f.cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				f.memory = kbField(v)
			}
		}
	}
	if data, err := os.ReadFile("/etc/os-release"); err == nil {
		for line := range strings.SplitSeq(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				f.os = strings.Trim(v, `"`)
			}
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		f.kernel = strings.TrimSpace(string(data))
	}
	f.postgres = "unknown"
	if dir, err := pgembed.FindBinaries(os.Getenv("CERTCTL_POSTGRES_BIN_DIR")); err == nil {
		if out, err := exec.CommandContext(ctx, dir+"/postgres", "--version").Output(); err == nil {
			f.postgres = strings.TrimPrefix(strings.TrimSpace(string(out)), "postgres (PostgreSQL) ")
		}
	}
	f.commit = "unknown"
	if out, err := exec.CommandContext(ctx, "git", "-C", root, "describe", "--always", "--dirty").Output(); err == nil {
		f.commit = strings.TrimSpace(string(out))
	}
	return f
}

func (f facts) line() string {
	return fmt.Sprintf("%s, %d cores, %s memory, %s, Linux %s, PostgreSQL %s, %s; commit %s; %s; load average %s",
		orUnknown(f.cpu), f.cores, gib(f.memory), orUnknown(f.os), orUnknown(f.kernel), f.postgres, f.goVersion, f.commit,
		f.date.Format("2006-01-02 15:04 UTC"), f.loadStart)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func gib(b int64) string {
	if b <= 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
}

// loadAvg is the 1-minute load average, as /proc/loadavg has it.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return "unknown"
	}
	return f[0]
}

// render writes the table with the machine facts and each step's time.
func render(f facts, results []result, total time.Duration) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Generated by `make bench` (tools/bench) on %s in %s, commit `%s`.\n", f.date.Format("2006-01-02 15:04 UTC"),
		total.Round(time.Second), f.commit)
	fmt.Fprintf(&b, "Machine: %s, %d cores, %s of memory, %s, Linux %s, PostgreSQL %s, Go %s; load average %s at the start, %s at the end.\n\n",
		orUnknown(f.cpu), f.cores, gib(f.memory), orUnknown(f.os), orUnknown(f.kernel), f.postgres, strings.TrimPrefix(f.goVersion, "go"),
		f.loadStart, f.loadEnd)
	b.WriteString("| figure | unit | value | same-run baseline | target | met / missed by |\n|---|---|---|---|---|---|\n")
	for _, r := range results {
		for _, x := range r.rows {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", cell(x.figure), cell(x.unit), cell(x.value), cell(x.baseline),
				cell(x.target), cell(x.verdict))
		}
		if r.err != nil {
			fmt.Fprintf(&b, "| %s | | | | | **failed**: %s |\n", r.step, cell(oneLine(r.err.Error())))
		}
	}
	b.WriteString("\nTime of each step:")
	for i, r := range results {
		sep := ","
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(&b, "%s %s %s", sep, r.step, r.took.Round(time.Second))
	}
	b.WriteString(".\n")
	return b.String()
}

// cell keeps a value from breaking the Markdown table.
func cell(s string) string {
	if s == "" {
		return "–"
	}
	return strings.ReplaceAll(s, "|", "\\|")
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

const (
	beginMarker = "<!-- bench:begin -->"
	endMarker   = "<!-- bench:end -->"
)

// writeDoc replaces what is between the markers of the document at path
// with table, leaving the rest of it as it is.
func writeDoc(path, table string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("write the table: %w", err)
	}
	updated, err := replaceBlock(string(data), table)
	if err != nil {
		return fmt.Errorf("write the table into %s: %w", path, err)
	}
	return os.WriteFile(path, []byte(updated), 0o644)
}

func replaceBlock(doc, table string) (string, error) {
	i := strings.Index(doc, beginMarker)
	j := strings.Index(doc, endMarker)
	if i < 0 || j < i {
		return "", fmt.Errorf("the markers %s and %s are missing or out of order", beginMarker, endMarker)
	}
	if strings.Count(doc, beginMarker) != 1 || strings.Count(doc, endMarker) != 1 {
		return "", fmt.Errorf("the markers %s and %s must appear once each", beginMarker, endMarker)
	}
	return doc[:i+len(beginMarker)] + "\n" + strings.TrimRight(table, "\n") + "\n" + doc[j:], nil
}
