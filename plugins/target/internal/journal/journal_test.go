package journal

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// site is a deployment's files: a certificate that exists, a key that
// exists (0600), and a chain that does not exist yet.
type site struct {
	dir, cert, key, chain, journal string
}

const (
	oldCert, newCert   = "old certificate\n", "new certificate\n"
	oldKey, newKey     = "old key\n", "new key\n"
	newChain           = "new chain\n"
	certMode, keyMode  = fs.FileMode(0o644), fs.FileMode(0o600)
	errCrash           = crashError("crash")
	dataSerial, serial = "serial", "0a1b"
)

type crashError string

func (e crashError) Error() string { return string(e) }

func newSite(t *testing.T) site {
	t.Helper()
	dir := t.TempDir()
	s := site{dir: dir, cert: filepath.Join(dir, "site.crt"), key: filepath.Join(dir, "site.key"),
		chain: filepath.Join(dir, "chain.pem")}
	s.journal = PathFor(s.cert)
	write(t, s.cert, oldCert, certMode)
	write(t, s.key, oldKey, keyMode)
	return s
}

func (s site) files() []string { return []string{s.cert, s.key, s.chain} }

func write(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// writeNew replaces the first n files with the new content, as the
// deployment does between Begin and MarkWritten.
func (s site) writeNew(t *testing.T, n int) {
	t.Helper()
	for _, f := range []struct {
		path, content string
		mode          fs.FileMode
	}{{s.cert, newCert, certMode}, {s.key, newKey, keyMode}, {s.chain, newChain, certMode}}[:n] {
		write(t, f.path, f.content, f.mode)
	}
}

// written begins a deployment, writes every file and marks it written.
func (s site) written(t *testing.T) *Journal {
	t.Helper()
	j, err := Begin(s.journal, s.files(), map[string]string{dataSerial: serial})
	if err != nil {
		t.Fatal(err)
	}
	s.writeNew(t, 3)
	if err := j.MarkWritten(); err != nil {
		t.Fatal(err)
	}
	return j
}

// checkOld checks that the previous files are back, with their modes,
// the new file gone, and no journal or backup left.
func (s site) checkOld(t *testing.T) {
	t.Helper()
	s.checkFile(t, s.cert, oldCert, certMode)
	s.checkFile(t, s.key, oldKey, keyMode)
	if _, err := os.Lstat(s.chain); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s, which did not exist before, is still there (%v)", s.chain, err)
	}
	s.checkClean(t)
}

func (s site) checkFile(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != content {
		t.Errorf("%s holds %q, want %q", filepath.Base(path), b, content)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != mode {
		t.Errorf("%s has mode %v, want %v", filepath.Base(path), fi.Mode().Perm(), mode)
	}
}

// checkClean checks that nothing of the journal is left.
func (s site) checkClean(t *testing.T) {
	t.Helper()
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("%s is left over", e.Name())
		}
	}
}

// recoverSite does what a restarted process does with what it finds:
// complete a written deployment (when complete is true, standing for a
// reload and check that succeed) or roll back.
func recoverSite(t *testing.T, s site, complete bool) (rolledBack bool) {
	t.Helper()
	j, err := Load(s.journal)
	if err != nil {
		t.Fatal(err)
	}
	if j == nil {
		return false
	}
	var d map[string]string
	if err := j.Decode(&d); err != nil || d[dataSerial] != serial {
		t.Fatalf("journal data = %v, %v", d, err)
	}
	if j.Phase() == PhaseWritten && complete {
		if err := j.Finish(); err != nil {
			t.Fatal(err)
		}
		return false
	}
	if err := j.Restore("recovered after a crash"); err != nil {
		t.Fatal(err)
	}
	if err := j.Finish(); err != nil {
		t.Fatal(err)
	}
	return true
}

func TestDeploymentSteps(t *testing.T) {
	t.Run("finish", func(t *testing.T) {
		s := newSite(t)
		j, err := Begin(s.journal, s.files(), map[string]string{dataSerial: serial})
		if err != nil {
			t.Fatal(err)
		}
		// Backups are 0600 whatever the file's mode: they may hold a key.
		s.checkFile(t, BackupPath(s.cert), oldCert, 0o600)
		s.checkFile(t, BackupPath(s.key), oldKey, 0o600)
		if fi, err := os.Stat(s.journal); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("journal: %v, %v; want mode 0600", fi, err)
		}
		s.writeNew(t, 3)
		if err := j.MarkWritten(); err != nil {
			t.Fatal(err)
		}
		if err := j.Finish(); err != nil {
			t.Fatal(err)
		}
		s.checkFile(t, s.cert, newCert, certMode)
		s.checkFile(t, s.chain, newChain, certMode)
		s.checkClean(t)
	})
	t.Run("restore", func(t *testing.T) {
		s := newSite(t)
		// Mode and content of the previous files come back, whatever the
		// new ones have.
		j, err := Begin(s.journal, s.files(), map[string]string{dataSerial: serial})
		if err != nil {
			t.Fatal(err)
		}
		s.writeNew(t, 3)
		if err := os.Chmod(s.cert, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := j.Restore("reload_command failed"); err != nil {
			t.Fatal(err)
		}
		if got, err := Load(s.journal); err != nil || got.Phase() != PhaseRollingBack || got.Reason() != "reload_command failed" {
			t.Fatalf("journal after Restore: %+v, %v", got, err)
		}
		if err := j.Finish(); err != nil {
			t.Fatal(err)
		}
		s.checkOld(t)
	})
}

// TestCrashPoints stops a deployment at each point a process can die and
// checks that what the next process finds leads it back to a whole
// state: the old files, or the new ones once they were all written.
func TestCrashPoints(t *testing.T) {
	data := map[string]string{dataSerial: serial}
	crashAt := func(point string, n int) func(string) error {
		seen := 0
		return func(p string) error {
			if p == point {
				if seen++; seen == n {
					return errCrash
				}
			}
			return nil
		}
	}
	t.Run("during backups", func(t *testing.T) {
		// One backup taken, no journal yet: the files are untouched and
		// there is nothing to recover; the next deployment overwrites the
		// stray backup.
		s := newSite(t)
		if _, err := begin(s.journal, s.files(), data, crashAt("backup", 1)); !errors.Is(err, errCrash) {
			t.Fatal(err)
		}
		if Exists(s.journal) {
			t.Fatal("a journal exists before every backup was taken")
		}
		if recoverSite(t, s, true) {
			t.Fatal("recovered a deployment that had not begun")
		}
		write(t, s.cert, "changed by someone since\n", certMode)
		j, err := Begin(s.journal, s.files(), data)
		if err != nil {
			t.Fatal(err)
		}
		s.checkFile(t, BackupPath(s.cert), "changed by someone since\n", 0o600)
		if err := j.Restore("test"); err != nil {
			t.Fatal(err)
		}
		if err := j.Finish(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("while writing the journal", func(t *testing.T) {
		// A half-written journal is a temporary file that was never
		// renamed: not a journal.
		s := newSite(t)
		if err := os.WriteFile(filepath.Join(s.dir, "."+filepath.Base(s.journal)+".certctl-123"), []byte(`{"version":1,"ph`), 0o600); err != nil {
			t.Fatal(err)
		}
		if j, err := Load(s.journal); j != nil || err != nil {
			t.Fatalf("Load = %v, %v; want no journal", j, err)
		}
	})
	for n := 0; n <= 3; n++ {
		t.Run("while writing files", func(t *testing.T) {
			// Some new, some old, or all new but not marked written: only
			// a rollback is safe.
			s := newSite(t)
			if _, err := Begin(s.journal, s.files(), data); err != nil {
				t.Fatal(err)
			}
			s.writeNew(t, n)
			if !recoverSite(t, s, true) {
				t.Fatal("a deployment stopped while writing was not rolled back")
			}
			s.checkOld(t)
		})
	}
	t.Run("after writing, completed", func(t *testing.T) {
		s := newSite(t)
		s.written(t)
		if recoverSite(t, s, true) {
			t.Fatal("rolled back a written deployment that could complete")
		}
		s.checkFile(t, s.key, newKey, keyMode)
		s.checkClean(t)
	})
	t.Run("after writing, rolled back", func(t *testing.T) {
		s := newSite(t)
		s.written(t)
		if !recoverSite(t, s, false) {
			t.Fatal("not rolled back")
		}
		s.checkOld(t)
	})
	for n := 1; n <= 3; n++ {
		t.Run("while restoring", func(t *testing.T) {
			// Stopped after n files were put back: the next process rolls
			// back again, even though the deployment had been written, and
			// the first reason stays.
			s := newSite(t)
			j := s.written(t)
			j.crash = crashAt("restore", n)
			if err := j.Restore("validate_command failed"); !errors.Is(err, errCrash) {
				t.Fatal(err)
			}
			again, err := Load(s.journal)
			if err != nil || again.Phase() != PhaseRollingBack || again.Reason() != "validate_command failed" {
				t.Fatalf("journal: %+v, %v", again, err)
			}
			if !recoverSite(t, s, true) {
				t.Fatal("a rollback in progress was completed instead")
			}
			s.checkOld(t)
		})
	}
	t.Run("while finishing", func(t *testing.T) {
		// The journal is gone, the backups not: nothing to recover, and
		// the next deployment goes ahead.
		s := newSite(t)
		j := s.written(t)
		j.crash = crashAt("finish", 1)
		if err := j.Finish(); !errors.Is(err, errCrash) {
			t.Fatal(err)
		}
		if recoverSite(t, s, false) {
			t.Fatal("recovered a finished deployment")
		}
		if _, err := Begin(s.journal, s.files(), data); err != nil {
			t.Fatal(err)
		}
		s.checkFile(t, BackupPath(s.cert), newCert, 0o600)
	})
}

func TestLoadRefusesWhatItCannotTrust(t *testing.T) {
	s := newSite(t)
	for name, content := range map[string]string{
		"not JSON":      "{",
		"other version": `{"version": 2, "phase": "written"}`,
		"unknown phase": `{"version": 1, "phase": "half-done"}`,
	} {
		write(t, s.journal, content, 0o600)
		if j, err := Load(s.journal); err == nil {
			t.Errorf("%s: Load = %+v, want an error", name, j)
		}
	}
}

func TestLockKeepsProcessesApart(t *testing.T) {
	// Two calls in one process conflict as two processes' would: flock
	// belongs to the open file.
	s := newSite(t)
	unlock, err := Lock(t.Context(), s.journal)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	got := make(chan error, 1)
	go func() {
		u, err := Lock(ctx, s.journal)
		if err == nil {
			u()
		}
		got <- err
	}()
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Fatalf("second Lock while held = %v, want it to wait until cancelled", err)
	}
	unlock()
	u, err := Lock(t.Context(), s.journal)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	u()
}
