// Package plugintesting helps plugins' tests: it starts a plugin's binary
// (built with plugintest.Build) through plugin.Open, the way a certctl
// host does (so that the tests prove main and the Serve wiring, not only
// the Go type), and runs scripted loopback HTTP servers that record what
// they receive.
package plugintesting

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// Open starts the plugin binary bin as a host would and stops it when the
// test ends.
func Open(t testing.TB, bin string, kind plugin.Kind) *plugin.Process {
	t.Helper()
	// Unix socket paths must stay short; t.TempDir() can be long.
	sockDir, err := os.MkdirTemp("", "cpl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := plugin.Open(ctx, plugin.OpenOptions{Path: bin, Kind: kind, SocketDir: sockDir})
	if err != nil {
		t.Fatalf("open plugin %s: %v", bin, err)
	}
	t.Cleanup(p.Kill)
	return p
}

// OpenNotifier builds the notifier plugin in dir ("." or a path starting
// with "./" or "../"), starts it, checks that
// it reports the expected name and kind, and returns it.
func OpenNotifier(t testing.TB, dir, name string) plugin.Notifier {
	t.Helper()
	n := Open(t, plugintest.Build(t, dir), plugin.KindNotifier).Notifier()
	if n == nil {
		t.Fatal("plugin process is not a notifier")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := n.Info(ctx)
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	if info.Name != name || info.Kind != plugin.KindNotifier {
		t.Fatalf("Info = %q %q, want %q notifier", info.Name, info.Kind, name)
	}
	if err := info.Schema.Check(); err != nil {
		t.Fatalf("schema: %v", err)
	}
	return n
}

// WantInvalidField fails the test unless err is a CodeInvalidConfig
// *plugin.Error naming field; with field "" it fails unless err is nil.
func WantInvalidField(t testing.TB, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var pe *plugin.Error
	if !errors.As(err, &pe) || pe.Code != plugin.CodeInvalidConfig || pe.Field != field {
		t.Fatalf("error %v, want invalid_config on %q", err, field)
	}
}

// WantSensitive fails the test unless p's schema marks exactly the given
// fields sensitive.
func WantSensitive(t testing.TB, p plugin.Plugin, fields ...string) {
	t.Helper()
	info, err := p.Info(context.Background())
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	got := info.Schema.SensitiveFields()
	slices.Sort(got)
	want := slices.Sorted(slices.Values(fields))
	if !slices.Equal(got, want) {
		t.Errorf("sensitive fields %v, want %v", got, want)
	}
}
