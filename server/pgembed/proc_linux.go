// This file holds the Linux process facilities: the parent-death signal and
// finding a cluster's processes through /proc.

package pgembed

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// setParentDeathSignal asks the kernel to send sig to the child when the
// thread that started it exits. Go sets it after switching credentials
// (which would clear it), so it survives the switch to the cluster's user.
func setParentDeathSignal(attr *syscall.SysProcAttr, sig syscall.Signal) {
	attr.Pdeathsig = sig
}

// procInfo identifies a process and its parent.
type procInfo struct{ pid, ppid int }

// clusterProcesses lists the live postgres processes whose working directory
// is pgdata. Postgres changes into its data directory at startup, so this
// finds the postmaster and all its backends, also orphaned ones.
func clusterProcesses(pgdata string) ([]procInfo, error) {
	want, err := filepath.EvalSymlinks(pgdata)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var procs []procInfo
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cwd, err := os.Readlink("/proc/" + e.Name() + "/cwd")
		if err != nil || cwd != want {
			continue
		}
		st, ok := readStat(pid)
		if !ok || !st.alive() || (st.comm != "postgres" && st.comm != "postmaster") {
			continue
		}
		procs = append(procs, procInfo{pid: pid, ppid: st.ppid})
	}
	return procs, nil
}

// processAlive reports whether pid names a process that has not exited (a
// zombie waiting to be reaped counts as exited).
func processAlive(pid int) bool {
	st, ok := readStat(pid)
	return ok && st.alive()
}

type procStat struct {
	comm  string
	state byte
	ppid  int
}

func (s procStat) alive() bool { return s.state != 'Z' && s.state != 'X' }

// readStat parses /proc/<pid>/stat: "pid (comm) state ppid ...".
func readStat(pid int) (procStat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return procStat{}, false
	}
	fields := strings.Fields(string(b[end+1:]))
	if len(fields) < 2 || fields[0] == "" {
		return procStat{}, false
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return procStat{}, false
	}
	return procStat{comm: string(b[open+1 : end]), state: fields[0][0], ppid: ppid}, true
}
