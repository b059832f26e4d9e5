package pgembed

import (
	"log/slog"
	"testing"
)

// A failed statement is the client's to report; a session ended while the
// cluster stops is routine; anything else postgres warns about stays a
// warning.
func TestLogLevel(t *testing.T) {
	for _, tc := range []struct {
		line     string
		stopping bool
		want     slog.Level
	}{
		{`ERROR:  update or delete on table "issuers" violates foreign key constraint`, false, slog.LevelInfo},
		{`STATEMENT:  DELETE FROM issuers WHERE id = $1`, false, slog.LevelInfo},
		{`FATAL:  terminating connection due to administrator command`, true, slog.LevelInfo},
		{`FATAL:  terminating connection due to administrator command`, false, slog.LevelWarn},
		{`WARNING:  could not flush dirty data: No space left on device`, false, slog.LevelWarn},
		{`PANIC:  could not write to file "pg_wal/xlogtemp.123"`, true, slog.LevelWarn},
		{`LOG:  database system is ready to accept connections`, false, slog.LevelInfo},
	} {
		severity, _ := splitSeverity(tc.line)
		if got := logLevel(severity, tc.stopping); got != tc.want {
			t.Errorf("%q (stopping %v) at %v, want %v", tc.line, tc.stopping, got, tc.want)
		}
	}
}
