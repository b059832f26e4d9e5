// Package atomicfile replaces files so that a reader (a server reloading
// its configuration) sees either the old or the new content, never a mix,
// and so that the old content can be put back: each file is written to a
// temporary file in the same directory, synced, and renamed over the old
// one; a Txn keeps what it replaced, in memory, until it is committed.
package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
)

// Modes of files that did not exist before.
const (
	NewFileMode   fs.FileMode = 0o644
	NewSecretMode fs.FileMode = 0o600
)

// Keep, as a user or group id, keeps the existing file's owner, or for a
// new file the one the process creates files with.
const Keep = -1

// Spec is a file to write.
type Spec struct {
	Path    string
	Content []byte
	// Secret files hold a private key: new ones get NewSecretMode, and an
	// existing one keeps its mode without any permission for others.
	Secret bool
	// UID and GID to give the file, or Keep.
	UID, GID int
}

// Resolve returns the path that writing to path changes: the target of a
// symbolic link (so that the link stays in place, as certbot-style
// layouts expect), or path itself when it does not exist yet.
func Resolve(path string) (string, error) {
	real, err := filepath.EvalSymlinks(path)
	if errors.Is(err, fs.ErrNotExist) {
		// Only a link that is there, pointing nowhere, is an error: a
		// regular file that appeared since (another deployment's first
		// write) is no link at all.
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return "", fmt.Errorf("%s is a symbolic link to a file that does not exist", path)
		}
		return path, nil
	}
	return real, err
}

// Holds reports whether the file at path exists with exactly content.
func Holds(path string, content []byte) (bool, error) {
	real, err := Resolve(path)
	if err != nil {
		return false, err
	}
	data, err := os.ReadFile(real)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return bytes.Equal(data, content), nil
}

// CheckDir checks that the directory path would be written into exists.
// With probe it also creates and removes a temporary file there, to prove
// that it is writable.
func CheckDir(path string, probe bool) error {
	real, err := Resolve(path)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(real); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	dir := filepath.Dir(real)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if !probe {
		return nil
	}
	f, err := os.CreateTemp(dir, ".certctl-probe-*")
	if err != nil {
		return fmt.Errorf("directory %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// previous is what a Txn replaced.
type previous struct {
	path     string // resolved
	existed  bool
	content  []byte
	mode     fs.FileMode
	uid, gid int
}

// Txn replaces files one by one and can put them all back.
type Txn struct {
	mu   sync.Mutex
	done []previous
}

// Write replaces the file s.Path with s.Content, atomically, keeping its
// previous state for Rollback. An existing file keeps its mode and, unless
// s says otherwise, its owner.
func (tx *Txn) Write(s Spec) error {
	real, err := Resolve(s.Path)
	if err != nil {
		return err
	}
	prev := previous{path: real, uid: Keep, gid: Keep}
	mode := NewFileMode
	if s.Secret {
		mode = NewSecretMode
	}
	if fi, err := os.Lstat(real); err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", s.Path)
		}
		if prev.content, err = os.ReadFile(real); err != nil {
			return err
		}
		prev.existed = true
		prev.mode = fi.Mode().Perm()
		prev.uid, prev.gid = owner(fi)
		mode = prev.mode
		if s.Secret {
			mode &^= 0o007
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	uid, gid := s.UID, s.GID
	if uid == Keep {
		uid = prev.uid
	}
	if gid == Keep {
		gid = prev.gid
	}
	if err := write(real, s.Content, mode, uid, gid); err != nil {
		return err
	}
	tx.mu.Lock()
	tx.done = append(tx.done, prev)
	tx.mu.Unlock()
	return nil
}

// Paths lists the files written so far (symbolic links resolved).
func (tx *Txn) Paths() []string {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	out := make([]string, len(tx.done))
	for i, p := range tx.done {
		out[i] = p.path
	}
	return out
}

// Rollback puts back every file written, last first: the old content,
// mode and owner, atomically too; a file that did not exist is removed.
// It tries every file and reports all that failed.
func (tx *Txn) Rollback() error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	var errs []error
	for _, p := range slices.Backward(tx.done) {
		var err error
		if p.existed {
			err = write(p.path, p.content, p.mode, p.uid, p.gid)
		} else if err = os.Remove(p.path); errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("restore %s: %w", p.path, err))
		}
	}
	tx.done = nil
	return errors.Join(errs...)
}

// Commit forgets the previous contents: the new files stay.
func (tx *Txn) Commit() {
	tx.mu.Lock()
	tx.done = nil
	tx.mu.Unlock()
}

// Replace replaces path (not following a symbolic link: resolve it
// first) with content, mode and owner (or Keep) through a synced
// temporary file renamed over it, then syncs the directory: after a
// crash, path holds either its old content or content, durably.
func Replace(path string, content []byte, mode fs.FileMode, uid, gid int) error {
	return write(path, content, mode, uid, gid)
}

// Owner returns the user and group ids of a file, or Keep where the
// system has none.
func Owner(fi fs.FileInfo) (uid, gid int) { return owner(fi) }

// SyncDir makes the creation, rename or removal of a file in dir durable.
func SyncDir(dir string) error { return syncDir(dir) }

// write replaces path with content through a temporary file in the same
// directory, so that the rename is atomic.
func write(path string, content []byte, mode fs.FileMode, uid, gid int) (err error) {
	dir, base := filepath.Split(path)
	f, err := os.CreateTemp(dir, "."+base+".certctl-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if uid != Keep || gid != Keep {
		if err := f.Chown(uid, gid); err != nil {
			return fmt.Errorf("set owner of %s: %w", path, err)
		}
	}
	// Chmod after Chown: a change of owner may clear mode bits.
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if _, err := f.Write(content); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	// Some file systems cannot sync a directory; the rename stands.
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
