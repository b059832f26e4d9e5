// Package procstat reads what Linux tells about processes in /proc for the
// load tools (tools/agentload, tools/issueload): memory of the server and
// its PostgreSQL, and the CPU time of the server, its children
// (PostgreSQL, plugins), this process and the whole machine. Outside Linux
// every reading is simply missing.
package procstat

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ClockTick is USER_HZ, the unit of the CPU times in /proc: 100 on every
// Linux architecture Go runs on.
const ClockTick = 100

// MemStatus returns VmRSS and VmHWM of pid in bytes.
func MemStatus(pid int) (rss, hwm int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch name {
		case "VmRSS":
			rss = kbField(val)
		case "VmHWM":
			hwm = kbField(val)
		}
	}
	return rss, hwm, nil
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

// procStat is what /proc/<pid>/stat says of one process.
type procStat struct {
	pid, ppid int
	comm      string
	ticks     int64 // utime + stime + cutime + cstime
}

func readProcStat(pid int) (procStat, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// comm is in parentheses and may hold spaces or parentheses itself.
	open, end := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
	if open < 0 || end < open {
		return procStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(data[end+1:]))
	// f[0] is field 3 (state); utime..cstime are fields 14..17.
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	s := procStat{pid: pid, comm: string(data[open+1 : end])}
	s.ppid, _ = strconv.Atoi(f[1])
	for _, i := range []int{11, 12, 13, 14} {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		s.ticks += n
	}
	return s, nil
}

// allProcs reads the stat of every process.
func allProcs() []procStat {
	entries, _ := os.ReadDir("/proc")
	var out []procStat
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if s, err := readProcStat(pid); err == nil {
			out = append(out, s)
		}
	}
	return out
}

// CPUSample is the CPU time used so far, in clock ticks.
type CPUSample struct {
	Server   int64 // the server process itself (its Go code)
	Postgres int64 // its PostgreSQL processes, with the children they reaped
	Plugins  int64 // its other children (plugin processes)
	Self     int64 // this load generator
	Machine  int64 // every CPU of the machine, busy
	Total    int64 // every CPU of the machine, busy or idle
	OK       bool  // the server process was found
}

func SampleCPU(serverPID int) CPUSample {
	var c CPUSample
	if serverPID > 0 {
		procs := allProcs()
		children := map[int][]procStat{}
		for _, p := range procs {
			children[p.ppid] = append(children[p.ppid], p)
			if p.pid == serverPID {
				c.Server = p.ticks
				c.OK = true
			}
		}
		var walk func(pid int, pg bool)
		walk = func(pid int, pg bool) {
			for _, ch := range children[pid] {
				isPG := pg || ch.comm == "postgres"
				if isPG {
					c.Postgres += ch.ticks
				} else {
					c.Plugins += ch.ticks
				}
				walk(ch.pid, isPG)
			}
		}
		walk(serverPID, false)
	}
	if s, err := readProcStat(os.Getpid()); err == nil {
		c.Self = s.ticks
	}
	if data, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(data), "\n")
		f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
		for i, v := range f[1:] {
			n, _ := strconv.ParseInt(v, 10, 64)
			if i >= 8 { // guest times are counted in user already
				break
			}
			c.Total += n
			if i != 3 && i != 4 { // idle, iowait
				c.Machine += n
			}
		}
	}
	return c
}

// PostgresPSS sums the proportional set size of the server's PostgreSQL
// processes (shared memory divided among them, so the sum is fair).
func PostgresPSS(serverPID int) (int64, int) {
	if serverPID <= 0 {
		return 0, 0
	}
	procs := allProcs()
	children := map[int][]procStat{}
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p)
	}
	var total int64
	var n int
	var walk func(pid int)
	walk = func(pid int) {
		for _, ch := range children[pid] {
			if ch.comm == "postgres" {
				if pss, ok := smapsPSS(ch.pid); ok {
					total += pss
					n++
				}
			}
			walk(ch.pid)
		}
	}
	walk(serverPID)
	return total, n
}

func smapsPSS(pid int) (int64, bool) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "smaps_rollup"))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Pss:"); ok {
			return kbField(v), true
		}
	}
	return 0, false
}

// OpenFDs counts the open file descriptors of pid.
func OpenFDs(pid int) int {
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(entries)
}
