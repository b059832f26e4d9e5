package plugin

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// levelRecorder is a slog handler that keeps each record's level by message.
type levelRecorder map[string]slog.Level

func (r levelRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r levelRecorder) Handle(_ context.Context, rec slog.Record) error {
	r[rec.Message] = rec.Level
	return nil
}
func (r levelRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r levelRecorder) WithGroup(string) slog.Handler      { return r }

// go-plugin reports every process end as "plugin process exited": at info
// when the process exited cleanly (the host stopped it), at error when it
// failed. Only the first is routine.
func TestPluginExitLevels(t *testing.T) {
	for _, tc := range []struct {
		name  string
		level hclog.Level
		msg   string
		want  slog.Level
	}{
		{"clean exit", hclog.Info, "plugin process exited", slog.LevelDebug},
		{"failed exit", hclog.Error, "plugin process exited", slog.LevelError},
		{"other info", hclog.Info, "starting plugin", slog.LevelInfo},
		{"warning", hclog.Warn, "plugin failed to exit gracefully", slog.LevelWarn},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := levelRecorder{}
			newHCLogger(slog.New(got), hclog.Info, "").Log(tc.level, tc.msg)
			if level, ok := got[tc.msg]; !ok || level != tc.want {
				t.Errorf("%s at hclog %s logged at %v (logged: %v), want %v", tc.msg, tc.level, level, ok, tc.want)
			}
		})
	}
}

// A line relayed from a plugin carries the host's time and the plugin's
// name once: go-plugin's trailing "timestamp" and its logger name, which
// repeats the "plugin" attribute, are left out.
func TestRelayedPluginLineAttributes(t *testing.T) {
	var buf strings.Builder
	l := slog.New(slog.NewTextHandler(&buf, nil))
	newHCLogger(l, hclog.Info, "certctl-plugin-issuer-local").Named("certctl-plugin-issuer-local").
		Info("generated local CA", "key_type", "ecdsa-p384", "timestamp", "2026-12-05T19:56:09.341Z")
	line := buf.String()
	for _, unwanted := range []string{"timestamp=", "plugin_logger="} {
		if strings.Contains(line, unwanted) {
			t.Errorf("line has %s: %s", unwanted, line)
		}
	}
	for _, wanted := range []string{"plugin=certctl-plugin-issuer-local", "key_type=ecdsa-p384"} {
		if !strings.Contains(line, wanted) {
			t.Errorf("line lacks %s: %s", wanted, line)
		}
	}
	buf.Reset()
	newHCLogger(l, hclog.Info, "certctl-plugin-issuer-local").Named("other").Info("x")
	if !strings.Contains(buf.String(), "plugin_logger=other") {
		t.Errorf("a logger name that says more is dropped: %s", buf.String())
	}
}
