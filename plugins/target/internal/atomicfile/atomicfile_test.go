package atomicfile

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func writeFile(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func wantFile(t *testing.T, path, content string, mode fs.FileMode) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != content || fi.Mode().Perm() != mode {
		t.Errorf("%s = %q mode %v, want %q mode %v", path, data, fi.Mode().Perm(), content, mode)
	}
}

func ownerOf(t *testing.T, path string) (uint32, uint32) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid
}

func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".certctl-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestWriteAndRollback(t *testing.T) {
	dir := t.TempDir()
	cert, key, fresh, freshKey := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"),
		filepath.Join(dir, "new.pem"), filepath.Join(dir, "new.key")
	writeFile(t, cert, "old cert", 0o640)
	writeFile(t, key, "old key", 0o604)
	rootOwned := os.Geteuid() == 0
	if rootOwned {
		if err := os.Chown(cert, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}

	tx := &Txn{}
	for _, s := range []Spec{
		{Path: cert, Content: []byte("new cert"), UID: Keep, GID: Keep},
		{Path: key, Content: []byte("new key"), Secret: true, UID: Keep, GID: Keep},
		{Path: fresh, Content: []byte("fresh"), UID: Keep, GID: Keep},
		{Path: freshKey, Content: []byte("fresh key"), Secret: true, UID: Keep, GID: Keep},
	} {
		if err := tx.Write(s); err != nil {
			t.Fatalf("Write %s: %v", s.Path, err)
		}
	}
	wantFile(t, cert, "new cert", 0o640) // mode kept
	wantFile(t, key, "new key", 0o600)   // no permission for others on a key
	wantFile(t, fresh, "fresh", 0o644)   // new file
	wantFile(t, freshKey, "fresh key", 0o600)
	if rootOwned {
		if uid, gid := ownerOf(t, cert); uid != 65534 || gid != 65534 {
			t.Errorf("owner of the replaced file %d:%d, want kept 65534:65534", uid, gid)
		}
	}
	if len(tx.Paths()) != 4 {
		t.Errorf("Paths = %v", tx.Paths())
	}
	noTempFiles(t, dir)

	if err := tx.Rollback(); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	wantFile(t, cert, "old cert", 0o640)
	wantFile(t, key, "old key", 0o604)
	for _, p := range []string{fresh, freshKey} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s still exists after rollback (%v)", p, err)
		}
	}
	if rootOwned {
		if uid, _ := ownerOf(t, cert); uid != 65534 {
			t.Errorf("owner after rollback %d, want 65534", uid)
		}
	}
	noTempFiles(t, dir)
	if err := tx.Rollback(); err != nil {
		t.Errorf("second Rollback: %v", err)
	}
}

func TestCommitKeepsNewFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cert.pem")
	tx := &Txn{}
	if err := tx.Write(Spec{Path: p, Content: []byte("x"), UID: Keep, GID: Keep}); err != nil {
		t.Fatal(err)
	}
	tx.Commit()
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	wantFile(t, p, "x", 0o644)
}

func TestSetOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Log("not root: checking that a change of owner is refused")
	}
	p := filepath.Join(t.TempDir(), "cert.pem")
	err := (&Txn{}).Write(Spec{Path: p, Content: []byte("x"), UID: 65534, GID: 65534})
	if os.Geteuid() != 0 {
		if err == nil {
			t.Error("a non-root process gave a file away")
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if uid, gid := ownerOf(t, p); uid != 65534 || gid != 65534 {
		t.Errorf("owner %d:%d, want 65534:65534", uid, gid)
	}
}

func TestSymlinkIsFollowed(t *testing.T) {
	dir := t.TempDir()
	real, link := filepath.Join(dir, "real.pem"), filepath.Join(dir, "live.pem")
	writeFile(t, real, "old", 0o644)
	if err := os.Symlink("real.pem", link); err != nil {
		t.Fatal(err)
	}
	tx := &Txn{}
	if err := tx.Write(Spec{Path: link, Content: []byte("new"), UID: Keep, GID: Keep}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("the link was replaced by a file (%v)", err)
	}
	wantFile(t, real, "new", 0o644)
	if ok, err := Holds(link, []byte("new")); !ok || err != nil {
		t.Errorf("Holds through the link = %v, %v", ok, err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	wantFile(t, real, "old", 0o644)

	dangling := filepath.Join(dir, "dangling.pem")
	if err := os.Symlink("nowhere.pem", dangling); err != nil {
		t.Fatal(err)
	}
	if err := (&Txn{}).Write(Spec{Path: dangling, Content: []byte("x"), UID: Keep, GID: Keep}); err == nil {
		t.Error("writing through a dangling link succeeded")
	}
}

func TestHoldsAndCheckDir(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cert.pem")
	if ok, err := Holds(p, []byte("x")); ok || err != nil {
		t.Errorf("Holds of a missing file = %v, %v", ok, err)
	}
	writeFile(t, p, "x", 0o644)
	if ok, _ := Holds(p, []byte("x")); !ok {
		t.Error("Holds of the same content = false")
	}
	if ok, _ := Holds(p, []byte("y")); ok {
		t.Error("Holds of other content = true")
	}

	if err := CheckDir(p, true); err != nil {
		t.Errorf("CheckDir of a file in a writable directory: %v", err)
	}
	noTempFiles(t, dir)
	for _, bad := range []string{filepath.Join(dir, "missing", "cert.pem"), filepath.Join(p, "cert.pem"), dir} {
		if err := CheckDir(bad, false); err == nil {
			t.Errorf("CheckDir(%s) succeeded", bad)
		}
	}
}
