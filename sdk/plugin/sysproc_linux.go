package plugin

import "syscall"

// sysProcAttr makes the kernel kill the plugin when its host dies, even
// by SIGKILL, so that no plugin outlives its host.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
