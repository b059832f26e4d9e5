package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/certctl/certctl/sdk/api"
)

// refusedConnectError is what pgx returns when nothing listens where the
// database should be: a real connection attempt to a closed loopback port.
func refusedConnectError(t *testing.T) error {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, "postgres://certctl@"+addr+"/certctl?sslmode=disable&connect_timeout=5")
	if err == nil {
		conn.Close(ctx)
		t.Fatalf("connected to %s, where nothing should listen", addr)
	}
	return err
}

// While the database restarts, requests that need it used to be answered
// 500 "internal error" and logged as errors (make soak saw heartbeats and
// long polls fail so): they are 503 unavailable with Retry-After, which
// the SDK and the agent retry, and other errors stay 500.
func TestDatabaseUnavailableIs503(t *testing.T) {
	refused := refusedConnectError(t)
	for _, tc := range []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
	}{
		{"connection refused", fmt.Errorf("store: acquire a connection: %w", refused), http.StatusServiceUnavailable, "unavailable"},
		{"starting up", fmt.Errorf("store: agent credential: %w",
			&pgconn.PgError{Severity: "FATAL", Code: "57P03", Message: "the database system is starting up"}), http.StatusServiceUnavailable, "unavailable"},
		{"admin shutdown", fmt.Errorf("store: job: %w",
			&pgconn.PgError{Severity: "FATAL", Code: "57P01", Message: "terminating connection due to administrator command"}), http.StatusServiceUnavailable, "unavailable"},
		{"connection lost mid-query", fmt.Errorf("store: certificate version: %w", io.ErrUnexpectedEOF), http.StatusServiceUnavailable, "unavailable"},
		{"a statement the database refuses", fmt.Errorf("store: certificate: %w",
			&pgconn.PgError{Severity: "ERROR", Code: "42601", Message: "syntax error"}), http.StatusInternalServerError, "internal"},
		{"a fault of the server", errors.New("unexpected state"), http.StatusInternalServerError, "internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs strings.Builder
			logger := slog.New(slog.NewTextHandler(&logs, nil))
			w := httptest.NewRecorder()
			writeError(w, httptest.NewRequest(http.MethodGet, "/api/v1/agent/work", nil), logger, tc.err)
			if w.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d", w.Code, tc.wantStatus)
			}
			var body api.ErrorResponse
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", w.Body.String(), err)
			}
			if body.Error.Code != tc.wantCode {
				t.Errorf("code %q, want %q", body.Error.Code, tc.wantCode)
			}
			if tc.wantStatus == http.StatusServiceUnavailable {
				if w.Header().Get("Retry-After") == "" {
					t.Error("no Retry-After on a 503")
				}
				if strings.Contains(body.Error.Message, "127.0.0.1") || strings.Contains(body.Error.Message, "store:") {
					t.Errorf("the message shows the cause to the client: %q", body.Error.Message)
				}
				if strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "database unavailable") {
					t.Errorf("logged %q, want a warning that the database is unavailable", logs.String())
				}
			}
		})
	}
}
