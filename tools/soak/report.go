// This file writes a soak's summary: what ran, the faults and when, the
// throughput, the errors clients saw and how they were retried, and the
// invariants; as text for the terminal and as Markdown for
// docs/reliability.md.

package main

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"
)

type faultRecord struct {
	at           time.Duration
	what, result string
}

type sample struct {
	at       time.Duration
	versions int64
}

type report struct {
	cfg                                   config
	loadStart                             string
	start, end, workStart                 time.Time
	enrollTime, declareTime               time.Duration
	faultsDone, settleTime                time.Duration
	settled                               bool
	settleWhy                             string
	targets                               int
	failingTarget                         string
	partitioned                           *group
	partitionSize                         int
	faults                                []faultRecord
	samples                               []sample
	certs, versions, renewJobs, issueJobs int64
	deployments                           map[string]int
	applications                          int
	audit                                 []string
	violations                            []invariant
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// throughput is the versions issued per second over the whole work
// period and the best 30 s stretch.
func (r *report) throughput() (overall, peak float64) {
	if len(r.samples) < 2 {
		return 0, 0
	}
	first, last := r.samples[0], r.samples[len(r.samples)-1]
	if d := (last.at - first.at).Seconds(); d > 0 {
		overall = float64(last.versions) / last.at.Seconds()
	}
	for i := range r.samples {
		for j := i + 1; j < len(r.samples); j++ {
			if r.samples[j].at-r.samples[i].at >= 30*time.Second {
				peak = max(peak, float64(r.samples[j].versions-r.samples[i].versions)/(r.samples[j].at-r.samples[i].at).Seconds())
				break
			}
		}
	}
	return overall, peak
}

// lines is the summary, one fact a line, shared by both renderings.
func (r *report) lines(s *soak) (head []string, faults []string, errs []string, inv []string) {
	c := r.cfg
	overall, peak := r.throughput()
	f := s.fleet
	head = []string{
		fmt.Sprintf("run: %s, %d replicas on one PostgreSQL (durable commits), %d CPUs shared with other work: load average %s at the start, %s at the end",
			r.start.UTC().Format("2006-01-02 15:04 MST"), c.replicas, runtime.NumCPU(), r.loadStart, loadAverage()),
		fmt.Sprintf("fleet: %d agents enrolled in %s, heartbeat every %s, long polls of %s; %d own a target (%d targets), one more target fails its reload",
			len(f.agents), r.enrollTime.Round(time.Second), c.heartbeat, c.pollWait, c.owners, r.targets),
		fmt.Sprintf("certificates: %d declared in %s (%d agent-key on the owners' targets, %d on the failing target, the rest server-key), then %d renewed in bulk",
			s.declared.Load(), r.declareTime.Round(time.Second), c.agentCerts, c.failingCerts, r.renewJobs),
		fmt.Sprintf("issuance: %d versions from %d issue and %d renew jobs; %.0f versions/s over the run, %.0f/s at best over 30 s",
			r.versions, r.issueJobs, r.renewJobs, overall, peak),
		fmt.Sprintf("agents: %d work items received, %d CSRs sent, %d deployments done (%d recorded applications), %d deliveries retried, %d requests failed over to another replica",
			f.work.Load(), f.csrs.Load(), f.deploys.Load(), r.applications, f.retries.Load(), s.bal.failovers.Load()),
		fmt.Sprintf("deployments on the server: %s", mapLine(r.deployments)),
		fmt.Sprintf("requests that succeeded: %s", s.tally.okLine()),
		fmt.Sprintf("faults over %s; settled %v at %s (%s); whole run %s",
			r.faultsDone.Round(time.Second), r.settled, r.settleTime.Round(time.Second), r.settleWhy, r.end.Sub(r.start).Round(time.Second)),
	}
	// Faults end in any order (a restart takes longer than a kill): list
	// them by when they began.
	sort.SliceStable(r.faults, func(i, j int) bool { return r.faults[i].at < r.faults[j].at })
	for _, fr := range r.faults {
		faults = append(faults, fmt.Sprintf("%6.1fs  %s: %s", fr.at.Seconds(), fr.what, fr.result))
	}
	errs = s.tally.lines()
	errs = append(errs, r.audit...)
	for _, i := range r.violations {
		if len(i.violations) == 0 {
			inv = append(inv, "ok    "+i.name)
			continue
		}
		inv = append(inv, fmt.Sprintf("FAIL  %s (%d):", i.name, len(i.violations)))
		for _, v := range i.violations {
			inv = append(inv, "        "+v)
		}
	}
	return head, faults, errs, inv
}

func mapLine(m map[string]int) string {
	var parts []string
	for _, k := range []string{"succeeded", "failed", "superseded", "pending", "in_progress"} {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func (r *report) failedCount() int {
	n := 0
	for _, i := range r.violations {
		if len(i.violations) > 0 {
			n++
		}
	}
	return n
}

func (r *report) text(s *soak) string {
	head, faults, errs, inv := r.lines(s)
	var b strings.Builder
	fmt.Fprintf(&b, "\n== soak\n")
	for _, l := range head {
		fmt.Fprintf(&b, "%s\n", l)
	}
	fmt.Fprintf(&b, "\nfaults (time since the first declaration):\n")
	for _, l := range faults {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	fmt.Fprintf(&b, "\nerrors clients saw, and how they ended; audit events of retries and failures:\n")
	for _, l := range errs {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	fmt.Fprintf(&b, "\ninvariants:\n")
	for _, l := range inv {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	if n := r.failedCount(); n > 0 {
		fmt.Fprintf(&b, "\nFAIL: %d invariants violated\n", n)
	} else {
		fmt.Fprintf(&b, "\nPASS: every invariant holds\n")
	}
	return b.String()
}

func (r *report) markdown(s *soak) string {
	head, faults, errs, inv := r.lines(s)
	var b strings.Builder
	verdict := "**PASS**: every invariant holds."
	if n := r.failedCount(); n > 0 {
		verdict = fmt.Sprintf("**FAIL**: %d invariants violated (listed below).", n)
	}
	fmt.Fprintf(&b, "%s Written by `make soak SOAKFLAGS=-write-doc`; the figures are from a busy VM (see the load average).\n\n", verdict)
	for _, l := range head {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	fmt.Fprintf(&b, "\nFaults (seconds since the first declaration):\n\n```\n%s\n```\n", strings.Join(faults, "\n"))
	fmt.Fprintf(&b, "\nErrors clients saw, by operation and how they ended; audit events of retries and failures:\n\n```\n%s\n```\n", strings.Join(errs, "\n"))
	fmt.Fprintf(&b, "\nInvariants:\n\n```\n%s\n```\n", strings.Join(inv, "\n"))
	return b.String()
}

const (
	docBegin = "<!-- soak:begin -->"
	docEnd   = "<!-- soak:end -->"
)

// writeDoc replaces what lies between the markers in path with body.
func writeDoc(path, body string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	i := bytes.Index(old, []byte(docBegin))
	j := bytes.Index(old, []byte(docEnd))
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %s ... %s markers", path, docBegin, docEnd)
	}
	var out bytes.Buffer
	out.Write(old[:i+len(docBegin)])
	out.WriteString("\n")
	out.WriteString(body)
	out.Write(old[j:])
	return os.WriteFile(path, out.Bytes(), 0o644)
}
