package doctest

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestFrontDoor starts bin/certctl-server as `make run` does (embedded
// database, a fresh data directory, a loopback port), reads the URL and
// admin key it prints, waits for /readyz, calls the API with the key and
// without, then stops it with SIGINT: it must exit 0. CI runs it on a fresh
// clone after `make build`, so a front door that breaks fails CI.
func TestFrontDoor(t *testing.T) {
	ctx := context.Background()
	s := NewServer(t)
	if err := s.Start(ctx); err != nil {
		t.Fatalf("%v\n%s", err, s.Log(0))
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = s.Stop()
		}
	})
	if !strings.Contains(s.Stdout(), "listening on "+s.URL()) {
		t.Errorf("stdout does not say where the server listens:\n%s", s.Stdout())
	}

	get := func(path, key string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(body)
	}
	// The default local CA issuer exists only when the built-in plugins
	// were found next to the binary, as make build lays them out.
	if code, body := get("/api/v1/issuers", s.Key); code != http.StatusOK || !strings.Contains(body, `"name":"local"`) {
		t.Errorf("GET /api/v1/issuers with the printed key: %d %s", code, body)
	}
	if code, body := get("/api/v1/issuers", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/issuers without a key: %d %s, want 401", code, body)
	}

	stopped = true
	if err := s.Stop(); err != nil {
		t.Fatalf("%v\n%s", err, s.Log(40))
	}
}
