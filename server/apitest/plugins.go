package apitest

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/server/pgtest"
)

// BuildPlugins builds the named built-in plugins ("issuer/local",
// "notifier/webhook", ...) into dir as certctl-plugin-<kind>-<name>, the
// way make build lays out bin/plugins. Builds are cached by the go command,
// so this is quick after the first time.
func BuildPlugins(dir string, plugins ...string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	for _, p := range plugins {
		out := filepath.Join(dir, "certctl-plugin-"+strings.ReplaceAll(p, "/", "-"))
		cmd := exec.Command("go", "build", "-o", out, "./plugins/"+p)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build plugin %s: %v\n%s", p, err, b)
		}
	}
	return nil
}

func flagIs(name, value string) bool {
	f := flag.Lookup(name)
	return f != nil && f.Value.String() == value
}

// moduleRoot finds the directory of go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// MainWithPlugins is a TestMain for packages whose tests run real plugins:
// it builds the named plugins into a temporary directory, stores its path
// in *dir, runs the tests with pgtest's cluster, and cleans up.
func MainWithPlugins(m *testing.M, dir *string, plugins ...string) int {
	// A fuzz run that runs no test (make fuzz: -run '^$' -fuzz X, and its
	// worker processes) calls only a fuzz target's function, which starts
	// no plugin: building them (seconds) in each process would eat a short
	// fuzz run's time.
	flag.Parse()
	if flagIs("test.fuzzworker", "true") || flagIs("test.run", "^$") && !flagIs("test.fuzz", "") {
		return pgtest.Main(m)
	}
	d, err := os.MkdirTemp("", "certctl-test-plugins-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(d)
	if err := BuildPlugins(d, plugins...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	*dir = d
	return pgtest.Main(m)
}
