//go:build unix

package atomicfile

import (
	"io/fs"
	"syscall"
)

// owner returns the user and group ids of a file.
func owner(fi fs.FileInfo) (uid, gid int) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return Keep, Keep
}
