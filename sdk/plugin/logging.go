package plugin

import (
	"context"
	"io"
	"log"
	"log/slog"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// hclogTimeLayout is the timestamp layout go-plugin's host parses in a
// plugin's JSON log lines.
const hclogTimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// Logger returns the logger a plugin should use. It writes JSON lines to
// stderr in the shape go-plugin hosts parse, so that each line reaches the
// host's log with its level, message and attributes, tagged with the
// plugin's name. Never log configuration values marked sensitive, keys or
// certificates' private parts.
func Logger() *slog.Logger {
	return newPluginLogger(stderr, slog.LevelDebug)
}

// stderr is the process's standard error as it was at start. go-plugin's
// Serve later points os.Stderr at a pipe that its host may discard; log
// lines must go to the real one, which the host parses.
var stderr = os.Stderr

func newPluginLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				return slog.String("@timestamp", a.Value.Time().Format(hclogTimeLayout))
			case slog.LevelKey:
				return slog.String("@level", strings.ToLower(a.Value.String()))
			case slog.MessageKey:
				return slog.String("@message", a.Value.String())
			}
			return a
		},
	}))
}

// slogHCLogger adapts a *slog.Logger to the hclog.Logger go-plugin writes
// to, so that plugin logs land in the host's slog with the plugin's name.
type slogHCLogger struct {
	l      *slog.Logger
	plugin string // the plugin's name, which l's records carry as "plugin"
	name   string
	level  hclog.Level
	args   []any
}

// newHCLogger returns an hclog.Logger writing to l, its records tagged
// plugin=<plugin> when plugin is not empty.
func newHCLogger(l *slog.Logger, level hclog.Level, plugin string) hclog.Logger {
	if plugin != "" {
		l = l.With("plugin", plugin)
	}
	return &slogHCLogger{l: l, plugin: plugin, level: level}
}

// goPluginCleanExit is what go-plugin logs at info whenever a plugin
// process ends with status 0, which is nearly always because the host
// stopped it (after reading its Info at start, when idle, at shutdown).
// It is demoted to debug; an exit with an error go-plugin logs at error,
// and the host itself warns when a process it still needed is gone
// ("plugin crashed"), so nothing unexpected is hidden.
const goPluginCleanExit = "plugin process exited"

var hclogToSlog = map[hclog.Level]slog.Level{
	hclog.Trace: slog.LevelDebug - 4,
	hclog.Debug: slog.LevelDebug,
	hclog.Info:  slog.LevelInfo,
	hclog.Warn:  slog.LevelWarn,
	hclog.Error: slog.LevelError,
}

func (h *slogHCLogger) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off || level < h.level {
		return
	}
	sl, ok := hclogToSlog[level]
	if !ok {
		sl = slog.LevelInfo
	}
	if level == hclog.Info && msg == goPluginCleanExit {
		sl = slog.LevelDebug
	}
	// go-plugin ends each line it relays from a plugin with the plugin's
	// own "timestamp"; the host's record has its time already.
	if n := len(args); n >= 2 && args[n-2] == "timestamp" {
		args = args[:n-2]
	}
	all := append(append([]any{}, h.args...), args...)
	// go-plugin names its logger after the binary, which the host's
	// "plugin" attribute names already: say it only when it says more.
	if h.name != "" && h.name != h.plugin {
		all = append(all, "plugin_logger", h.name)
	}
	h.l.Log(context.Background(), sl, msg, all...)
}

func (h *slogHCLogger) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *slogHCLogger) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *slogHCLogger) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *slogHCLogger) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *slogHCLogger) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }
func (h *slogHCLogger) IsTrace() bool                 { return h.level <= hclog.Trace }
func (h *slogHCLogger) IsDebug() bool                 { return h.level <= hclog.Debug }
func (h *slogHCLogger) IsInfo() bool                  { return h.level <= hclog.Info }
func (h *slogHCLogger) IsWarn() bool                  { return h.level <= hclog.Warn }
func (h *slogHCLogger) IsError() bool                 { return h.level <= hclog.Error }
func (h *slogHCLogger) ImpliedArgs() []any            { return h.args }
func (h *slogHCLogger) Name() string                  { return h.name }
func (h *slogHCLogger) SetLevel(level hclog.Level)    { h.level = level }
func (h *slogHCLogger) GetLevel() hclog.Level         { return h.level }

func (h *slogHCLogger) With(args ...any) hclog.Logger {
	c := *h
	c.args = append(append([]any{}, h.args...), args...)
	return &c
}

func (h *slogHCLogger) Named(name string) hclog.Logger {
	c := *h
	if c.name != "" {
		name = c.name + "." + name
	}
	c.name = name
	return &c
}

func (h *slogHCLogger) ResetNamed(name string) hclog.Logger {
	c := *h
	c.name = name
	return &c
}

func (h *slogHCLogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(h.StandardWriter(opts), "", 0)
}

func (h *slogHCLogger) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		h.Info(strings.TrimSpace(string(p)))
		return len(p), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
