//go:build unix && !linux

// This file holds the fallbacks for Unix systems other than Linux, which
// have neither the parent-death signal nor /proc.

package pgembed

import (
	"errors"
	"syscall"
)

// setParentDeathSignal does nothing here: if certctl-server dies, postgres
// keeps running until the next Start finds and stops it (or asks the
// operator to, see stopLeftovers).
func setParentDeathSignal(*syscall.SysProcAttr, syscall.Signal) {}

type procInfo struct{ pid, ppid int }

func clusterProcesses(string) ([]procInfo, error) { return nil, errNoProcessTable }

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
