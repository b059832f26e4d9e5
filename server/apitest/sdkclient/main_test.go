// Package sdkclient_test tests the Go SDK's client (sdk/client) against a
// real certctl API of its own for each test: a fresh database, the
// built-in plugins, jobs run when the test says (apitest.Start). They live
// in the root module, not beside the client, because apitest and the
// service are the server's internals, and the sdk module requires nothing
// of the root module, not even for its tests. The client's tests that need
// no server, and its runnable examples (against a real certctl-server
// process), stay in sdk/client.
package sdkclient_test

import (
	"os"
	"testing"

	"github.com/certctl/certctl/sdk/client"
	"github.com/certctl/certctl/server/apitest"
)

// pluginDir holds the built-in plugins the tests' servers run.
var pluginDir string

func TestMain(m *testing.M) {
	os.Exit(apitest.MainWithPlugins(m, &pluginDir, "issuer/local", "notifier/webhook"))
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
