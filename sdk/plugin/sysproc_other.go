//go:build !linux

package plugin

import "syscall"

// sysProcAttr has nothing to add where the kernel cannot tie a child's life
// to its parent; the plugin's own parent watch (Serve) ends it instead.
func sysProcAttr() *syscall.SysProcAttr { return nil }
