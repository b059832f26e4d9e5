package app

import (
	"context"
	"log/slog"
)

// quieter returns a logger that writes through l's handler with info
// records lowered to debug. The server hands it to parts whose routine
// progress is detail to an operator (the embedded PostgreSQL's own log,
// each migration applied), so that a normal start stays a few lines at
// info; their warnings and errors keep their level.
func quieter(l *slog.Logger) *slog.Logger {
	return slog.New(demoteInfo{l.Handler()})
}

// demoteInfo is a slog.Handler that passes info records on as debug.
type demoteInfo struct{ next slog.Handler }

func demote(l slog.Level) slog.Level {
	if l >= slog.LevelInfo && l < slog.LevelWarn {
		return slog.LevelDebug
	}
	return l
}

func (h demoteInfo) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, demote(l))
}

func (h demoteInfo) Handle(ctx context.Context, r slog.Record) error {
	r.Level = demote(r.Level)
	return h.next.Handle(ctx, r)
}

func (h demoteInfo) WithAttrs(attrs []slog.Attr) slog.Handler {
	return demoteInfo{h.next.WithAttrs(attrs)}
}

func (h demoteInfo) WithGroup(name string) slog.Handler {
	return demoteInfo{h.next.WithGroup(name)}
}
