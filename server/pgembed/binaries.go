// This file finds the PostgreSQL server binaries installed on the machine.

package pgembed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrNoBinaries is returned (wrapped) by FindBinaries and Start when no
// PostgreSQL server binaries are installed where they were looked for.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries (initdb, postgres) found; " +
	"install them (Debian/Ubuntu: apt-get install postgresql; RHEL/Fedora: dnf install postgresql-server; " +
	"macOS: brew install postgresql@16) or set CERTCTL_DATABASE_URL to use an existing server")

// serverBinaries are the programs a cluster needs; a directory qualifies only
// when it holds all of them.
var serverBinaries = []string{"initdb", "postgres"}

// defaultLocations are searched after pg_config and PATH, in this order. A
// pattern matching several directories yields the highest version first.
var defaultLocations = []string{
	"/usr/lib/postgresql/*/bin",         // Debian, Ubuntu
	"/usr/local/opt/postgresql*/bin",    // Homebrew on Intel macOS
	"/opt/homebrew/opt/postgresql*/bin", // Homebrew on Apple silicon
	"/usr/local/pgsql/bin",              // built from source
	"/usr/pgsql-*/bin",                  // PGDG packages on RHEL and Fedora
}

// FindBinaries returns the directory holding the PostgreSQL server binaries
// (initdb and postgres).
//
// When explicit is not empty it is the only candidate. Otherwise the search
// order is: `pg_config --bindir` (only if initdb and postgres are there),
// PATH, /usr/lib/postgresql/<highest version>/bin, /usr/local/opt/postgresql*/bin,
// /opt/homebrew/opt/postgresql*/bin, /usr/local/pgsql/bin, /usr/pgsql-*/bin.
// When nothing qualifies the error wraps ErrNoBinaries, which says what to
// install.
func FindBinaries(explicit string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return systemFinder().find(ctx, explicit)
}

// finder is the search FindBinaries performs, with its inputs as fields so
// tests can point it at directories of their own.
type finder struct {
	path      string   // a PATH-style list of directories
	locations []string // fixed directories or glob patterns, searched last
}

func systemFinder() finder {
	return finder{path: os.Getenv("PATH"), locations: defaultLocations}
}

func (f finder) find(ctx context.Context, explicit string) (string, error) {
	if explicit != "" {
		if !hasServerBinaries(explicit) {
			return "", fmt.Errorf("pgembed: %s does not hold the PostgreSQL server binaries (%s)",
				explicit, strings.Join(serverBinaries, ", "))
		}
		return explicit, nil
	}
	if dir := f.pgConfigBinDir(ctx); dir != "" && hasServerBinaries(dir) {
		return dir, nil
	}
	for _, dir := range filepath.SplitList(f.path) {
		if dir != "" && hasServerBinaries(dir) {
			return dir, nil
		}
	}
	for _, pattern := range f.locations {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			return "", fmt.Errorf("pgembed: bad search pattern %q: %w", pattern, err)
		}
		sortByVersionDesc(matches)
		for _, dir := range matches {
			if hasServerBinaries(dir) {
				return dir, nil
			}
		}
	}
	return "", fmt.Errorf("pgembed: %w", ErrNoBinaries)
}

// pgConfigBinDir asks the pg_config found on f.path where the binaries are;
// it returns "" when there is no pg_config or it fails.
func (f finder) pgConfigBinDir(ctx context.Context) string {
	var pgConfig string
	for _, dir := range filepath.SplitList(f.path) {
		if dir != "" && isExecutable(filepath.Join(dir, "pg_config")) {
			pgConfig = filepath.Join(dir, "pg_config")
			break
		}
	}
	if pgConfig == "" {
		return ""
	}
	cmd := exec.CommandContext(ctx, pgConfig, "--bindir")
	cmd.Env = childEnv(os.Environ())
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func hasServerBinaries(dir string) bool {
	for _, name := range serverBinaries {
		if !isExecutable(filepath.Join(dir, name)) {
			return false
		}
	}
	return true
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

var digitRuns = regexp.MustCompile(`[0-9]+`)

// sortByVersionDesc orders paths such as /usr/lib/postgresql/9.6/bin and
// /usr/lib/postgresql/16/bin by the numbers in them, highest first.
func sortByVersionDesc(paths []string) {
	version := func(p string) []int {
		var v []int
		for _, run := range digitRuns.FindAllString(p, -1) {
			n, _ := strconv.Atoi(run)
			v = append(v, n)
		}
		return v
	}
	slices.SortStableFunc(paths, func(a, b string) int {
		return slices.Compare(version(b), version(a))
	})
}
