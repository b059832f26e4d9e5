package housecheck

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

const module = "github.com/certctl/certctl/"

// TestDependencyDirection checks, with `go list`, the import rules that
// docs/architecture.md draws: core at the bottom, then store, service,
// httpapi and the console, app on top; the plugin host (and with it gRPC)
// only where plugins are run.
func TestDependencyDirection(t *testing.T) {
	root := repoRoot(t)

	// What a package may not depend on at all, directly or not.
	never := map[string][]string{
		"server/core":    {"google.golang.org/grpc", "sdk/plugin", "server/"},
		"server/store":   {"google.golang.org/grpc", "sdk/plugin", "server/service", "server/httpapi", "server/console", "server/app"},
		"server/service": {"server/httpapi", "server/console", "server/app"},
		"server/httpapi": {"server/app"},
		"server/console": {"server/httpapi", "server/app"},
	}
	for pkg, banned := range never {
		reported := map[string]bool{} // one line a rule, naming the first offender
		for _, dep := range goList(t, root, "-deps", "-f", "{{.ImportPath}}", "./"+pkg) {
			if dep == module+pkg {
				continue
			}
			for _, b := range banned {
				if matches(dep, b) && !reported[b] {
					reported[b] = true
					t.Errorf("%s depends on %s (through its imports): it must not depend on %s", pkg, dep, b)
				}
			}
		}
	}

	// What a package may not import itself (it may reach it through the
	// service, which runs plugins).
	direct := map[string][]string{
		"server/httpapi": {"google.golang.org/grpc", "sdk/plugin/host"},
		"server/console": {"google.golang.org/grpc", "sdk/plugin/host"},
	}
	imports := map[string][]string{}
	for _, line := range goList(t, root, "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...") {
		fields := strings.Fields(line)
		imports[strings.TrimPrefix(fields[0], module)] = fields[1:]
	}
	for pkg, banned := range direct {
		if _, ok := imports[pkg]; !ok {
			t.Fatalf("go list did not list %s", pkg)
		}
		for _, imp := range imports[pkg] {
			for _, b := range banned {
				if matches(imp, b) {
					t.Errorf("%s imports %s: it must not", pkg, imp)
				}
			}
		}
	}

	// The plugin host is used where plugins run: the server's wiring and
	// service, the agent, and the test harness that builds a server.
	hostUsers := []string{"server/app", "server/service", "agent", "server/apitest"}
	for pkg, imps := range imports {
		if slices.Contains(imps, module+"sdk/plugin/host") && !slices.Contains(hostUsers, pkg) {
			t.Errorf("%s imports sdk/plugin/host: only %v may", pkg, hostUsers)
		}
	}
}

// matches says whether the import path p is the package (or under the
// folder) named by rule, a module-relative path or a module path.
func matches(p, rule string) bool {
	if !strings.HasPrefix(rule, "google.golang.org/") {
		rule = module + rule
	}
	if strings.HasSuffix(rule, "/") {
		return strings.HasPrefix(p, rule)
	}
	return p == rule || strings.HasPrefix(p, rule+"/")
}

// goList runs `go list` in the main module and returns its lines.
func goList(t *testing.T, dir string, args ...string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", append([]string{"list"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list %v: %v\n%s", args, err, stderr)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// TestMatches: a rule names a package and what is under it, or a folder
// (ending in "/") and all under it, and no package that merely shares a
// prefix of its name.
func TestMatches(t *testing.T) {
	for _, tt := range []struct {
		p, rule string
		want    bool
	}{
		{module + "sdk/plugin", "sdk/plugin", true},
		{module + "sdk/plugin/host", "sdk/plugin", true},
		{module + "sdk/pluginx", "sdk/plugin", false},
		{module + "server/store", "server/", true},
		{module + "server", "server/", false},
		{"google.golang.org/grpc/codes", "google.golang.org/grpc", true},
		{"google.golang.org/grpcx", "google.golang.org/grpc", false},
		{module + "server/app", "server/service", false},
	} {
		if got := matches(tt.p, tt.rule); got != tt.want {
			t.Errorf("matches(%s, %s) = %v, want %v", tt.p, tt.rule, got, tt.want)
		}
	}
}
