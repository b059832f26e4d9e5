package agent_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/certctl/certctl/agent"
)

// signalHandler is a slog handler that reports each record's message.
type signalHandler struct{ msgs chan<- string }

func (h signalHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h signalHandler) Handle(_ context.Context, r slog.Record) error {
	select {
	case h.msgs <- r.Message:
	default:
	}
	return nil
}
func (h signalHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h signalHandler) WithGroup(string) slog.Handler      { return h }

// With a token, a server that cannot be reached is a passing condition:
// the agent keeps retrying rather than exiting, unlike an agent with
// nothing to enroll with (TestWithoutTokenOrCredential...).
func TestUnreachableServerIsRetriedWithAToken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now

	msgs := make(chan string, 16)
	state := t.TempDir()
	cfg := agent.Config{ServerURL: url, Token: "cce_some-token", StateDir: state,
		KeyDir: filepath.Join(state, "keys"), PluginDir: t.TempDir()}
	a, err := agent.New(t.Context(), cfg, slog.New(signalHandler{msgs}))
	if err != nil {
		t.Fatalf("New with a token: %v", err)
	}
	defer a.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()

	deadline := time.After(time.Minute) // stops a hang; never reached when correct
	for retrying := false; !retrying; {
		select {
		case m := <-msgs:
			retrying = m == "cannot reach the server to enroll; retrying"
		case err := <-done:
			t.Fatalf("Run returned with a token and an unreachable server: %v", err)
		case <-deadline:
			t.Fatal("no retry logged within a minute")
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run after cancel = %v, want context.Canceled", err)
	}
}

func TestNewWithoutTokenOrCredential(t *testing.T) {
	state := t.TempDir()
	_, err := agent.New(t.Context(), agent.Config{ServerURL: "http://127.0.0.1:1", StateDir: state,
		KeyDir: filepath.Join(state, "keys"), PluginDir: t.TempDir()}, slog.New(slog.DiscardHandler))
	if !errors.Is(err, agent.ErrNotEnrolled) {
		t.Fatalf("New = %v, want ErrNotEnrolled", err)
	}
}
