package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// mem is the memory of one process or a group of them, from
// /proc/<pid>/smaps_rollup: RSS counts shared pages in full for every
// process, PSS divides them among the processes that share them, so the
// PSS of a group sums fairly.
type mem struct {
	rss, pss int64
	procs    int
}

func (m *mem) add(o mem) { m.rss += o.rss; m.pss += o.pss; m.procs += o.procs }

func (m mem) String() string {
	return fmt.Sprintf("PSS %s, RSS %s (%d processes)", mib(m.pss), mib(m.rss), m.procs)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func toMiB(b int64) float64 { return float64(b) / (1 << 20) }

// procMem reads one process's smaps_rollup.
func procMem(pid int) (mem, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "smaps_rollup"))
	if err != nil {
		return mem{}, err
	}
	defer f.Close()
	m := mem{procs: 1}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "Rss:"); ok {
			m.rss = kbField(v)
		} else if v, ok := strings.CutPrefix(line, "Pss:"); ok {
			m.pss = kbField(v)
		}
	}
	return m, sc.Err()
}

// kbField parses "   1234 kB" into bytes.
func kbField(v string) int64 {
	f := strings.Fields(v)
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.ParseInt(f[0], 10, 64)
	return n * 1024
}

// children maps each process to its children, with each one's command name.
type procInfo struct {
	pid  int
	comm string
}

func processTree() map[int][]procInfo {
	out := map[int][]procInfo{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// comm is in parentheses and may hold spaces or parentheses itself.
		open, end := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
		if open < 0 || end < open {
			continue
		}
		f := strings.Fields(string(data[end+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		out[ppid] = append(out[ppid], procInfo{pid: pid, comm: string(data[open+1 : end])})
	}
	return out
}

// treeMem is the memory of a process and of its descendants: those named
// postgres (and theirs) apart from the others (plugins).
type treeMem struct {
	self, postgres, others mem
}

func (t treeMem) total() mem {
	var m mem
	m.add(t.self)
	m.add(t.postgres)
	m.add(t.others)
	return m
}

func readTreeMem(pid int) (treeMem, error) {
	var t treeMem
	self, err := procMem(pid)
	if err != nil {
		return t, fmt.Errorf("memory of process %d: %w", pid, err)
	}
	t.self = self
	tree := processTree()
	var walk func(pid int, pg bool)
	walk = func(pid int, pg bool) {
		for _, ch := range tree[pid] {
			isPG := pg || ch.comm == "postgres"
			m, err := procMem(ch.pid)
			if err == nil { // a process that just ended has no memory to count
				if isPG {
					t.postgres.add(m)
				} else {
					t.others.add(m)
				}
			}
			walk(ch.pid, isPG)
		}
	}
	walk(pid, false)
	return t, nil
}

// command runs a program of a step: its output goes to the step's output
// and is returned too, for parsing. It runs in a process group of its
// own, which is sent SIGTERM when ctx ends (the scripts stop their servers
// on TERM) and SIGKILL a minute later if still running.
func command(ctx context.Context, e *env, extraEnv []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = e.root
	cmd.Env = append(os.Environ(), extraEnv...)
	var buf bytes.Buffer
	w := io.MultiWriter(e.out, &buf)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 75 * time.Second
	fmt.Fprintf(e.out, "$ %s %s\n", name, strings.Join(args, " "))
	err := cmd.Run()
	if cmd.Process != nil {
		// Whatever of the group is left (a child the program did not
		// wait for) goes with it.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		return buf.String(), fmt.Errorf("%s: %w", filepath.Base(name), err)
	}
	return buf.String(), nil
}
