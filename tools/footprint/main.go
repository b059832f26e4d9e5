// Command footprint prints the memory of a process tree, such as
// certctl-server with its embedded PostgreSQL and its plugin processes,
// summed by kind of process from /proc/<pid>/smaps_rollup (Linux only).
//
// PSS (proportional set size) divides each shared page among the processes
// that map it, so the PSS of a tree sums to what the tree costs the machine:
// PostgreSQL's shared buffers count once across the postmaster and its
// backends, not once per backend as RSS would.
//
// Usage:
//
//	go run ./tools/footprint -pid <server pid>           # a table, sizes in MiB
//	go run ./tools/footprint -pid <server pid> -tsv      # the same, tab-separated, sizes in KiB
//	go run ./tools/footprint -pid <server pid> -procs    # one line per process instead of per kind
//
// Flags:
//
//	-pid N     root of the tree (required): it and every descendant are counted.
//	-tsv       tab-separated output for other tools: a header line
//	           "kind<TAB>procs<TAB>pss_kib<TAB>rss_kib", one line per kind, and a
//	           last line of kind "total". Kinds, in this order when present:
//	           server (the root), postgres (the postmaster), postgres-aux
//	           (checkpointer, WAL writer, autovacuum launcher, ...),
//	           postgres-backend (one per client connection), plugin:<kind>-<name>
//	           (certctl-plugin-<kind>-<name>, sorted), other (anything else).
//	-procs     one line per process instead of per kind: pid, kind, PSS, RSS, and PSS
//	           split into anonymous (the process's own heap and stacks),
//	           file-backed (its binary and libraries) and shared memory
//	           (PostgreSQL's buffers) pages, in KiB, and the command.
//
// PSS counts a page of shared memory only in the processes that have it
// mapped now: PostgreSQL's buffers touched by a backend that has since
// exited stay in memory (up to shared_buffers) but count nowhere.
//
// The output's format is stable: make bench and the docs read it. A
// process that ends while it is read is left out. Exit status 2 when the
// root cannot be read.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

func main() {
	pid := flag.Int("pid", 0, "root of the process tree to measure (required)")
	tsv := flag.Bool("tsv", false, "tab-separated output, sizes in KiB")
	procs := flag.Bool("procs", false, "one line per process")
	flag.Parse()
	if *pid <= 0 {
		fmt.Fprintln(os.Stderr, "footprint: -pid is required")
		flag.Usage()
		os.Exit(2)
	}
	ps, err := measureTree("/proc", *pid)
	if err != nil {
		fmt.Fprintln(os.Stderr, "footprint:", err)
		os.Exit(2)
	}
	switch {
	case *procs:
		writeProcs(os.Stdout, ps)
	case *tsv:
		writeTSV(os.Stdout, summarize(ps))
	default:
		writeTable(os.Stdout, summarize(ps))
	}
}

// proc is one measured process.
type proc struct {
	pid      int
	kind     string
	cmd      string
	pss, rss int64 // KiB
	// PSS by kind of page, KiB.
	anon, file, shmem int64
}

// measureTree measures root and its descendants, read from procDir.
func measureTree(procDir string, root int) ([]proc, error) {
	entries, err := os.ReadDir(procDir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", procDir, err)
	}
	children := map[int][]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, err := parentOf(procDir, pid)
		if err != nil {
			continue // ended meanwhile
		}
		children[ppid] = append(children[ppid], pid)
	}
	var out []proc
	var walk func(pid, depth int) error
	walk = func(pid, depth int) error {
		p, err := measure(procDir, pid, depth == 0)
		if err != nil {
			if depth == 0 {
				return fmt.Errorf("process %d: %w", pid, err)
			}
		} else {
			out = append(out, p)
		}
		for _, c := range children[pid] {
			if err := walk(c, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// parentOf reads the parent's pid from /proc/<pid>/stat.
func parentOf(procDir string, pid int) (int, error) {
	data, err := os.ReadFile(filepath.Join(procDir, strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	// The command name is in parentheses and may hold either itself.
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return 0, errors.New("unexpected stat format")
	}
	f := strings.Fields(string(data[end+1:]))
	if len(f) < 2 {
		return 0, errors.New("unexpected stat format")
	}
	return strconv.Atoi(f[1])
}

func measure(procDir string, pid int, root bool) (proc, error) {
	dir := filepath.Join(procDir, strconv.Itoa(pid))
	raw, err := os.ReadFile(filepath.Join(dir, "cmdline"))
	if err != nil {
		return proc{}, err
	}
	args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
	cmd := strings.Join(args, " ")
	f, err := os.Open(filepath.Join(dir, "smaps_rollup"))
	if err != nil {
		return proc{}, err
	}
	defer f.Close()
	p := proc{pid: pid, cmd: cmd, kind: "server"}
	if !root {
		p.kind = kindOf(args)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch name {
		case "Pss":
			p.pss = kib(val)
		case "Rss":
			p.rss = kib(val)
		case "Pss_Anon":
			p.anon = kib(val)
		case "Pss_File":
			p.file = kib(val)
		case "Pss_Shmem":
			p.shmem = kib(val)
		}
	}
	return p, sc.Err()
}

// auxiliary are PostgreSQL's own processes, by the title it gives them
// ("postgres: <cluster>: checkpointer").
var auxiliary = []string{"checkpointer", "background writer", "walwriter", "autovacuum launcher",
	"autovacuum worker", "logical replication launcher", "stats collector", "archiver", "walsender",
	"walreceiver", "startup", "parallel worker", "logical replication worker", "io worker"}

// kindOf classifies a descendant of the root by its command line.
func kindOf(args []string) string {
	base := filepath.Base(args[0])
	if name, ok := strings.CutPrefix(base, "certctl-plugin-"); ok {
		return "plugin:" + name
	}
	if base == "postgres" {
		return "postgres" // the postmaster keeps its command line
	}
	// Its children set their title: "postgres: certctl: checkpointer",
	// "postgres: certctl: certctl certctl [local] idle".
	if title, ok := strings.CutPrefix(strings.Join(args, " "), "postgres:"); ok {
		if i := strings.Index(title, ": "); i >= 0 {
			title = title[i+2:] // after the cluster name
		}
		for _, a := range auxiliary {
			if strings.HasPrefix(strings.TrimSpace(title), a) {
				return "postgres-aux"
			}
		}
		return "postgres-backend"
	}
	return "other"
}

func kib(v string) int64 {
	f := strings.Fields(v)
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.ParseInt(f[0], 10, 64)
	return n
}

// group is the processes of one kind.
type group struct {
	kind     string
	procs    int
	pss, rss int64 // KiB
}

// summarize sums ps by kind, in the documented order, and appends the total.
func summarize(ps []proc) []group {
	byKind := map[string]*group{}
	total := group{kind: "total"}
	for _, p := range ps {
		g := byKind[p.kind]
		if g == nil {
			g = &group{kind: p.kind}
			byKind[p.kind] = g
		}
		g.procs++
		g.pss += p.pss
		g.rss += p.rss
		total.procs++
		total.pss += p.pss
		total.rss += p.rss
	}
	var out []group
	for _, k := range []string{"server", "postgres", "postgres-aux", "postgres-backend"} {
		if g := byKind[k]; g != nil {
			out = append(out, *g)
		}
	}
	var plugins []string
	for k := range byKind {
		if strings.HasPrefix(k, "plugin:") {
			plugins = append(plugins, k)
		}
	}
	slices.Sort(plugins)
	for _, k := range plugins {
		out = append(out, *byKind[k])
	}
	if g := byKind["other"]; g != nil {
		out = append(out, *g)
	}
	return append(out, total)
}

func writeTSV(w io.Writer, gs []group) {
	fmt.Fprintln(w, "kind\tprocs\tpss_kib\trss_kib")
	for _, g := range gs {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\n", g.kind, g.procs, g.pss, g.rss)
	}
}

func writeTable(w io.Writer, gs []group) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\tprocs\tPSS MiB\tRSS MiB\t")
	for _, g := range gs {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t\n", g.kind, g.procs, float64(g.pss)/1024, float64(g.rss)/1024)
	}
	tw.Flush()
}

func writeProcs(w io.Writer, ps []proc) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "pid\tkind\tPSS KiB\tRSS KiB\tanon\tfile\tshmem\tcommand")
	for _, p := range ps {
		cmd := p.cmd
		if len(cmd) > 80 {
			cmd = cmd[:77] + "..."
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%d\t%d\t%s\n", p.pid, p.kind, p.pss, p.rss, p.anon, p.file, p.shmem, cmd)
	}
	tw.Flush()
}
