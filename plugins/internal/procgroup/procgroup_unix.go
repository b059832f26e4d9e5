//go:build unix

// Package procgroup runs a plugin's child command in a process group of
// its own, so that cancelling it (a timeout) ends everything it started.
package procgroup

import (
	"os/exec"
	"syscall"
)

// Own starts cmd in a process group of its own and has its cancellation
// kill the whole group, so that a timeout also ends what a shell script
// started (an nsupdate, a curl) rather than leaving it running and holding
// the output pipes open. Call it before cmd.Start.
func Own(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
