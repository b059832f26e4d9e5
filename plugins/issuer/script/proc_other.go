//go:build !unix

package main

import "os/exec"

// ownProcessGroup leaves cmd as it is where there are no Unix process
// groups: a timeout kills the command itself (exec's default), and
// waitDelay bounds the wait for anything it started.
func ownProcessGroup(*exec.Cmd) {}
