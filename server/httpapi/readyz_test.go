package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/httpapi"
)

// TestReadyzNamesTheFailedCheck: /readyz answers 200 only when the
// database and every plugin check say ok, and its JSON names each check,
// so that a 503 says which one failed.
func TestReadyzNamesTheFailedCheck(t *testing.T) {
	t.Parallel()
	dbDown := core.Errorf(core.EUNAVAILABLE, "database unreachable")
	cases := []struct {
		name    string
		db      error
		plugins map[string]string
		listErr error
		status  int
		checks  map[string]string
	}{
		{name: "all ok", plugins: map[string]string{"plugin/issuer/local": "ok", "plugin/notifier/webhook": "ok"}, status: 200,
			checks: map[string]string{"database": "ok", "plugin/issuer/local": "ok", "plugin/notifier/webhook": "ok"}},
		{name: "no plugin needed", plugins: map[string]string{}, status: 200, checks: map[string]string{"database": "ok"}},
		{name: "a plugin cannot serve", plugins: map[string]string{"plugin/issuer/local": "ok", "plugin/issuer/acme": "not installed"},
			status: 503, checks: map[string]string{"database": "ok", "plugin/issuer/local": "ok", "plugin/issuer/acme": "not installed"}},
		// Every replica would meet the same open circuit: reported, still ready.
		{name: "a plugin's circuit is open", plugins: map[string]string{"plugin/issuer/acme": httpapi.DegradedPrefix + "circuit_open: boom"},
			status: 200, checks: map[string]string{"database": "ok", "plugin/issuer/acme": "degraded: circuit_open: boom"}},
		{name: "plugins unknown", listErr: errors.New("list issuers: boom"), status: 503,
			checks: map[string]string{"database": "ok", "plugins": "internal error"}},
		// The plugins needed are read from the database: not asked.
		{name: "database down", db: dbDown, plugins: map[string]string{"plugin/issuer/local": "ok"}, status: 503,
			checks: map[string]string{"database": "database unreachable"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			asked := false
			h, err := httpapi.New(httpapi.Options{
				Ready: func(context.Context) error { return c.db },
				PluginsReady: func(context.Context) (map[string]string, error) {
					asked = true
					return c.plugins, c.listErr
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
			var got api.Health
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("%d %s: %v", rec.Code, rec.Body, err)
			}
			wantStatus := map[int]string{200: "ok", 503: "unavailable"}[c.status]
			if rec.Code != c.status || got.Status != wantStatus {
				t.Errorf("readyz = %d %q, want %d %q", rec.Code, got.Status, c.status, wantStatus)
			}
			if len(got.Checks) != len(c.checks) {
				t.Errorf("checks = %v, want %v", got.Checks, c.checks)
			}
			for k, v := range c.checks {
				if got.Checks[k] != v {
					t.Errorf("check %q = %q, want %q (all: %v)", k, got.Checks[k], v, got.Checks)
				}
			}
			if asked == (c.db != nil) {
				t.Errorf("plugins asked = %v with database error %v", asked, c.db)
			}
		})
	}
}
