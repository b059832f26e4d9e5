//go:build unix

package runcmd

import (
	"os/exec"
	"syscall"
)

// inOwnGroup starts cmd in a process group of its own and kills the whole
// group when its context ends, so that the children of a shell command
// die with it. Daemons that a command starts leave the group (setsid) and
// live on, as they should.
func inOwnGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
