package client_test

// main_test.go gives the tests their servers: each test starts a real
// certctl API of its own on a fresh database (start, through apitest), and
// the Example functions, which read like user code, reach one real
// certctl-server process started here as `make run` starts it (its
// embedded PostgreSQL, its job worker, the built plugins next to it),
// through CERTCTL_URL and CERTCTL_API_KEY.

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/client"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/pgtest"
	"github.com/certctl/certctl/tools/doctest"
)

// pluginDir holds the built-in plugins the real server runs in these tests.
var pluginDir string

// testPlugins are the plugins the tests and examples use.
var testPlugins = []string{"issuer/local", "notifier/webhook"}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	if !examplesWanted() {
		return apitest.MainWithPlugins(m, &pluginDir, testPlugins...)
	}
	tmp, err := os.MkdirTemp("", "certctl-sdk-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	srv, err := startExampleServer(tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sdk/client examples:", err)
		if srv != nil {
			fmt.Fprintln(os.Stderr, srv.Log(60))
		}
		return 1
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "sdk/client examples: stop certctl-server:", err)
		}
	}()
	// The tests' own servers run the plugins built for this one.
	pluginDir = filepath.Join(tmp, "plugins")
	code := pgtest.Main(m)
	if code != 0 {
		fmt.Fprintln(os.Stderr, "--- certctl-server of the examples (log tail)\n"+srv.Log(40))
	}
	return code
}

// examplesWanted says whether this run runs any Example (go test -run
// selects tests and examples alike), so that a run of a few tests does
// not pay for building and starting the server.
func examplesWanted() bool {
	f := flag.Lookup("test.run")
	if f == nil || f.Value.String() == "" {
		return true
	}
	re, err := regexp.Compile(f.Value.String())
	return err != nil || re.MatchString("Example") || re.MatchString("ExampleClient_WaitForCertificate")
}

// startExampleServer builds certctl-server with the plugins beside it (in
// tmp/plugins, where the server looks by itself), starts it on a fresh
// data directory and sets CERTCTL_URL and CERTCTL_API_KEY for the examples.
func startExampleServer(tmp string) (*doctest.Server, error) {
	root, err := doctest.FindRepoRoot()
	if err != nil {
		return nil, err
	}
	if err := apitest.BuildPlugins(filepath.Join(tmp, "plugins"), testPlugins...); err != nil {
		return nil, err
	}
	bin := filepath.Join(tmp, "certctl-server")
	build := exec.Command("go", "build", "-o", bin, "./server/cmd/certctl-server")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build certctl-server: %v\n%s", err, out)
	}
	// As root the embedded PostgreSQL runs as the postgres user, which
	// must be able to traverse the data directory and its parents.
	data := filepath.Join(tmp, "data")
	if err := os.Mkdir(data, 0o711); err != nil {
		return nil, err
	}
	if err := os.Chmod(tmp, 0o711); err != nil {
		return nil, err
	}
	srv := &doctest.Server{Bin: bin, DataDir: data, Addr: "127.0.0.1:0"}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		return srv, err
	}
	os.Setenv("CERTCTL_URL", srv.URL())
	os.Setenv("CERTCTL_API_KEY", srv.Key)
	return srv, nil
}

// start runs a real certctl API on a fresh database and returns it with a
// client holding its admin key.
func start(t *testing.T) (*apitest.Env, *client.Client) {
	t.Helper()
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir})
	c, err := client.New(env.URL, client.WithAPIKey(env.AdminKey))
	if err != nil {
		t.Fatal(err)
	}
	return env, c
}

func ptr[T any](v T) *T { return &v }

// must takes a call's results and returns a function that fails the test
// on its error, or returns its value: v := must(c.GetIssuer(ctx, id))(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }
