package apitest

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// InstallPlugin puts the binary read from content into the plugin
// directory dir as the file name, the way an operator upgrades a plugin:
// written beside it, made executable, then renamed over it, so that a
// process running the old binary keeps its file.
func InstallPlugin(t testing.TB, dir, name string, content io.Reader) {
	t.Helper()
	tmp, err := os.CreateTemp(dir, ".install-*")
	if err != nil {
		t.Fatalf("apitest: install plugin %s: %v", name, err)
	}
	_, err = io.Copy(tmp, content)
	if err == nil {
		err = tmp.Chmod(0o755)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp.Name())
		t.Fatalf("apitest: install plugin %s: %v", name, err)
	}
}
