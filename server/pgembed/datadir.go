//go:build unix

// This file prepares the data directory: its layout, the user the cluster
// runs as, ownership and permissions, the lock and the superuser password.

package pgembed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// layout names the files of a cluster inside its data directory.
type layout struct {
	dir          string // Options.DataDir, absolute
	pgdata       string // PostgreSQL's data directory
	initTemp     string // where initdb works before the result is renamed to pgdata
	lockFile     string
	passwordFile string
	runDir       string // preferred socket directory
}

func newLayout(dir string) layout {
	return layout{
		dir:          dir,
		pgdata:       filepath.Join(dir, "pgdata"),
		initTemp:     filepath.Join(dir, "pgdata.initdb"),
		lockFile:     filepath.Join(dir, "pgembed.lock"),
		passwordFile: filepath.Join(dir, "superuser-password"),
		runDir:       filepath.Join(dir, "run"),
	}
}

// account is the OS user initdb and postgres run as.
type account struct {
	name     string
	uid, gid int
	switched bool // true when it differs from this process' user (we are root)
}

// runAccount picks the cluster's user: this process' own user, or, when we
// are root, the first of override, "postgres" and "nobody" that exists and is
// not root.
func runAccount(override string) (account, error) {
	if os.Geteuid() != 0 {
		name := strconv.Itoa(os.Geteuid())
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
		return account{name: name, uid: os.Geteuid(), gid: os.Getegid()}, nil
	}
	candidates := []string{"postgres", "nobody"}
	if override != "" {
		candidates = []string{override}
	}
	for _, name := range candidates {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err1 != nil || err2 != nil || uid == 0 {
			continue
		}
		return account{name: name, uid: uid, gid: gid, switched: true}, nil
	}
	return account{}, fmt.Errorf("pgembed: PostgreSQL cannot run as root and none of the users %s exists; "+
		"create one (useradd --system postgres) or run certctl-server as an unprivileged user",
		strings.Join(candidates, ", "))
}

// command returns a command that runs as a, in dir, with only childEnv's
// environment: C locale messages (the log parser expects them) and none of
// this process' secrets.
func (a account) command(ctx context.Context, dir, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = childEnv(os.Environ())
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if a.switched {
		// Groups empty: the child drops root's supplementary groups.
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(a.uid), Gid: uint32(a.gid)}
	}
	return cmd
}

// own makes path belong to a when the cluster runs as another user.
func (a account) own(path string) error {
	if !a.switched {
		return nil
	}
	return os.Chown(path, a.uid, a.gid)
}

// prepareDataDir creates l.dir (0700, owned by a) and checks that a can
// reach it by running `postgres --version` there as a. It returns that
// version line.
func prepareDataDir(ctx context.Context, l layout, a account, binDir string) (string, error) {
	if err := mkdirTraversable(filepath.Dir(l.dir)); err != nil {
		return "", fmt.Errorf("pgembed: create data directory: %w", err)
	}
	if err := os.Mkdir(l.dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("pgembed: create data directory: %w", err)
	}
	if err := a.own(l.dir); err != nil {
		return "", fmt.Errorf("pgembed: data directory: %w", err)
	}
	if err := os.Chmod(l.dir, 0o700); err != nil {
		return "", fmt.Errorf("pgembed: data directory: %w", err)
	}
	out, err := a.command(ctx, l.dir, filepath.Join(binDir, "postgres"), "--version").CombinedOutput()
	if err != nil {
		if errors.Is(err, fs.ErrPermission) && a.switched {
			return "", traversalError(l.dir, a)
		}
		if ctx.Err() != nil { // killed because time ran out
			return "", fmt.Errorf("pgembed: run postgres --version: %w", ctx.Err())
		}
		return "", fmt.Errorf("pgembed: run postgres --version as user %s: %w%s", a.name, err, outputTail(out))
	}
	return strings.TrimSpace(string(out)), nil
}

// mkdirTraversable creates dir and its missing parents with mode 0711, so
// that the cluster's user can pass through the directories Start creates.
func mkdirTraversable(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if parent := filepath.Dir(dir); parent != dir {
		if err := mkdirTraversable(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o711); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return os.Chmod(dir, 0o711) // the umask may have taken bits away
}

// traversalError explains which parent of dir keeps a out.
func traversalError(dir string, a account) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok && !canTraverse(fi.Mode(), st, a) {
				return fmt.Errorf("pgembed: PostgreSQL runs as user %s (uid %d), which cannot reach %s: "+
					"%s has mode %04o and owner uid %d; make it traversable (chmod o+x %s) or choose another data directory",
					a.name, a.uid, dir, p, fi.Mode().Perm(), st.Uid, p)
			}
		}
		if p == filepath.Dir(p) {
			break
		}
	}
	return fmt.Errorf("pgembed: PostgreSQL runs as user %s (uid %d), which cannot reach %s; "+
		"make every parent directory traversable for it or choose another data directory", a.name, a.uid, dir)
}

// canTraverse applies the classic permission bits (ACLs aside) for a.
func canTraverse(mode fs.FileMode, st *syscall.Stat_t, a account) bool {
	switch {
	case int(st.Uid) == a.uid:
		return mode&0o100 != 0
	case int(st.Gid) == a.gid:
		return mode&0o010 != 0
	default:
		return mode&0o001 != 0
	}
}

// lockDataDir takes the data directory's lock without waiting. The kernel
// drops it when the file is closed or this process dies.
func lockDataDir(l layout) (*os.File, error) {
	f, err := os.OpenFile(l.lockFile, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pgembed: lock data directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(l.lockFile)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("pgembed: data directory %s is in use by another process (pid %s)",
				l.dir, strings.TrimSpace(string(holder)))
		}
		return nil, fmt.Errorf("pgembed: lock data directory: %w", err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// newPassword returns a random superuser password.
func newPassword() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // never fails on supported platforms
	return hex.EncodeToString(b)
}

// writeFileAtomic writes data to path (mode 0600) through a rename, so a
// crash leaves either the old or the new content.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// fixDataPermissions gives pgdata the owner and mode postgres insists on:
// owned by the user it runs as, 0700 or 0750.
func fixDataPermissions(l layout, a account) error {
	fi, err := os.Stat(l.pgdata)
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && a.switched && (int(st.Uid) != a.uid || int(st.Gid) != a.gid) {
		err := filepath.WalkDir(l.pgdata, func(path string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(path, a.uid, a.gid) // not through symlinks such as pg_wal
		})
		if err != nil {
			return err
		}
	}
	if perm := fi.Mode().Perm(); perm != 0o700 && perm != 0o750 {
		return os.Chmod(l.pgdata, 0o700)
	}
	return nil
}

// maxSocketPath keeps the socket's path ("<dir>/.s.PGSQL.5432") clear of the
// kernel's limit (sun_path holds 108 bytes on Linux, 104 on macOS).
const maxSocketPath = 100

// socketDir returns the directory for the cluster's socket, 0700 and owned
// by a: l.runDir when its path is short and plain, else a new temporary
// directory (temp is then true and the caller removes it when done).
func socketDir(l layout, a account) (dir string, temp bool, err error) {
	socketName := "/.s.PGSQL." + strconv.Itoa(socketPort)
	dir = l.runDir
	// unix_socket_directories is a comma-separated list that may quote, so
	// unusual characters also send the socket elsewhere.
	if len(dir)+len(socketName) > maxSocketPath || strings.ContainsAny(dir, ",\"' \t\n\\") {
		if dir, err = os.MkdirTemp("", "certctl-pg-"); err != nil {
			return "", false, fmt.Errorf("pgembed: socket directory: %w", err)
		}
		temp = true
		if len(dir)+len(socketName) > maxSocketPath {
			os.Remove(dir)
			return "", false, fmt.Errorf("pgembed: socket directory: both %s and %s are too long for a Unix socket path; set TMPDIR to a short directory", l.runDir, dir)
		}
	} else if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", false, fmt.Errorf("pgembed: socket directory: %w", err)
	}
	err = a.own(dir)
	if err == nil {
		err = os.Chmod(dir, 0o700)
	}
	if err != nil {
		if temp {
			os.Remove(dir)
		}
		return "", false, fmt.Errorf("pgembed: socket directory: %w", err)
	}
	return dir, temp, nil
}
