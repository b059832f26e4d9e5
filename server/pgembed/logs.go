// This file forwards PostgreSQL's log lines to slog and keeps the last few
// for error messages.

package pgembed

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// tailLines is how many of the latest output lines an error quotes.
const tailLines = 20

// tail remembers the last tailLines lines written through add.
type tail struct {
	mu    sync.Mutex
	lines []string
}

func (t *tail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == tailLines {
		t.lines = append(t.lines[:0], t.lines[1:]...)
	}
	t.lines = append(t.lines, line)
}

// String returns the remembered lines as a suffix for an error message, or
// "" when there are none.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return formatTail(t.lines)
}

func formatTail(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return "\n" + strings.Join(lines, "\n")
}

// outputTail returns the last tailLines lines of a command's output as an
// error message suffix.
func outputTail(out []byte) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return ""
	}
	if len(lines) > tailLines {
		lines = lines[len(lines)-tailLines:]
	}
	return formatTail(lines)
}

// forwardLogs reads postgres' stderr until every process holding it has
// exited, passing each line to logger and to t. The server runs with an
// empty log_line_prefix, so a line starts with its severity ("LOG:  ...").
// stopping says whether the cluster is being stopped.
func forwardLogs(r io.ReadCloser, logger *slog.Logger, t *tail, stopping func() bool) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		t.add(line)
		severity, msg := splitSeverity(line)
		level := logLevel(severity, stopping())
		attrs := []any{"component", "postgres"}
		if severity != "" {
			attrs = append(attrs, "severity", severity)
		}
		logger.Log(context.Background(), level, msg, attrs...)
	}
}

// logLevel is the slog level of a postgres line of severity. An ERROR is
// a statement that failed (a unique or foreign-key violation, a cancelled
// query): the client that sent it gets the error and reports it, so here
// it is detail. FATAL ends a session: routine while the cluster stops
// ("terminating connection due to administrator command"), worth a
// warning otherwise.
func logLevel(severity string, stopping bool) slog.Level {
	switch severity {
	case "WARNING", "PANIC":
		return slog.LevelWarn
	case "FATAL":
		if stopping {
			return slog.LevelInfo
		}
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

var severities = []string{
	"DEBUG1", "DEBUG2", "DEBUG3", "DEBUG4", "DEBUG5", "INFO", "NOTICE", "WARNING",
	"ERROR", "LOG", "FATAL", "PANIC", "DETAIL", "HINT", "QUERY", "CONTEXT",
	"LOCATION", "STATEMENT",
}

// splitSeverity splits "ERROR:  message" into "ERROR" and "message"; a line
// without a known severity comes back whole.
func splitSeverity(line string) (severity, msg string) {
	head, rest, ok := strings.Cut(line, ":")
	if ok {
		for _, s := range severities {
			if head == s {
				return s, strings.TrimLeft(rest, " ")
			}
		}
	}
	return "", line
}
