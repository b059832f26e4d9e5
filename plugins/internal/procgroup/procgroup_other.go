//go:build !unix

// Package procgroup runs a plugin's child command in a process group of
// its own, so that cancelling it (a timeout) ends everything it started.
package procgroup

import "os/exec"

// Own leaves cmd as it is where there are no Unix process groups: a
// timeout kills the command itself (exec's default), and the caller's
// exec.Cmd.WaitDelay bounds the wait for anything it started.
func Own(*exec.Cmd) {}
