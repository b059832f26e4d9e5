package client_test

import (
	"context"
	"errors"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/certctl/certctl/sdk/client"
)

// TestEveryIterator runs each All method against a server with two pages
// per list, and checks that the second request carries the first page's
// cursor and the same filters.
func TestEveryIterator(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.RequestURI())
		mu.Unlock()
		if r.URL.Query().Get("cursor") == "" {
			_, _ = io.WriteString(w, `{"items": [{}, {}], "next_cursor": "p2"}`)
			return
		}
		_, _ = io.WriteString(w, `{"items": [{}], "next_cursor": null}`)
	}))
	t.Cleanup(srv.Close)
	c := must(client.New(srv.URL))(t)
	ctx := context.Background()
	lo := client.ListOptions{Limit: 2}

	tests := []struct {
		name  string
		run   func() (int, error)
		first string
	}{
		{"issuers", func() (int, error) { return n(c.AllIssuers(ctx, client.IssuerListOptions{Type: "local", Limit: 2})) },
			"/api/v1/issuers?limit=2&type=local"},
		{"targets", func() (int, error) { return n(c.AllTargets(ctx, client.TargetListOptions{AgentID: "a", Limit: 2})) },
			"/api/v1/targets?agent_id=a&limit=2"},
		{"notifiers", func() (int, error) {
			return n(c.AllNotifiers(ctx, client.NotifierListOptions{Type: "webhook", Limit: 2}))
		},
			"/api/v1/notifiers?limit=2&type=webhook"},
		{"certificates", func() (int, error) {
			return n(c.AllCertificates(ctx, client.CertificateListOptions{Status: "active", Limit: 2}))
		},
			"/api/v1/certificates?limit=2&status=active"},
		{"versions", func() (int, error) { return n(c.AllCertificateVersions(ctx, "c1", lo)) },
			"/api/v1/certificates/c1/versions?limit=2"},
		{"deployments", func() (int, error) { return n(c.AllDeployments(ctx, "c1", lo)) },
			"/api/v1/certificates/c1/deployments?limit=2"},
		{"jobs", func() (int, error) {
			return n(c.AllJobs(ctx, client.JobListOptions{Kind: "issue", State: "failed", Limit: 2}))
		},
			"/api/v1/jobs?kind=issue&limit=2&state=failed"},
		{"policies", func() (int, error) { return n(c.AllRenewalPolicies(ctx, lo)) },
			"/api/v1/renewal-policies?limit=2"},
		{"rules", func() (int, error) { return n(c.AllNotificationRules(ctx, lo)) },
			"/api/v1/notification-rules?limit=2"},
		{"notifications", func() (int, error) {
			return n(c.AllNotifications(ctx, client.NotificationListOptions{Event: "certificate.issued", Limit: 2}))
		}, "/api/v1/notifications?event=certificate.issued&limit=2"},
		{"agents", func() (int, error) { return n(c.AllAgents(ctx, client.AgentListOptions{OS: "linux", Limit: 2})) },
			"/api/v1/agents?limit=2&os=linux"},
		{"enrollment tokens", func() (int, error) { return n(c.AllEnrollmentTokens(ctx, lo)) },
			"/api/v1/enrollment-tokens?limit=2"},
		{"api keys", func() (int, error) { return n(c.AllAPIKeys(ctx, lo)) },
			"/api/v1/api-keys?limit=2"},
		{"audit events", func() (int, error) {
			return n(c.AllAuditEvents(ctx, client.AuditEventListOptions{Outcome: "denied", Limit: 2}))
		},
			"/api/v1/audit-events?limit=2&outcome=denied"},
	}
	for _, tt := range tests {
		mu.Lock()
		seen = nil
		mu.Unlock()
		got, err := tt.run()
		if err != nil || got != 3 {
			t.Errorf("%s: %d items, %v; want 3", tt.name, got, err)
		}
		mu.Lock()
		want := []string{tt.first, tt.first + "&cursor=p2"}
		if len(seen) != 2 || seen[0] != tt.first || !sameQuery(t, seen[1], want[1]) {
			t.Errorf("%s: requests %q, want %q", tt.name, seen, want)
		}
		mu.Unlock()
	}
}

// n counts the items of an iterator, stopping at its first error.
func n[T any](seq iter.Seq2[T, error]) (int, error) {
	count := 0
	for _, err := range seq {
		if err != nil {
			return count, err
		}
		count++
	}
	return count, nil
}

// sameQuery compares two request URIs with their query parameters in any order.
func sameQuery(t *testing.T, a, b string) bool {
	t.Helper()
	ra, _ := http.NewRequest("GET", "http://x"+a, nil)
	rb, _ := http.NewRequest("GET", "http://x"+b, nil)
	return ra.URL.Path == rb.URL.Path && ra.URL.Query().Encode() == rb.URL.Query().Encode()
}

// TestAllStopsOnARepeatedCursor checks that a server handing out the same
// cursor again cannot make an iteration loop forever.
func TestAllStopsOnARepeatedCursor(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"items": [{}], "next_cursor": "same"}`)
	}))
	t.Cleanup(srv.Close)
	c := must(client.New(srv.URL))(t)
	items, err := client.Collect(c.AllIssuers(context.Background(), client.IssuerListOptions{}))
	if err == nil || len(items) != 2 {
		t.Errorf("%d items, error %v; want 2 and an error", len(items), err)
	}
}

// TestReadyNotReady checks that /readyz's 503 comes back at once as an
// unavailable error with the failed checks.
func TestReadyNotReady(t *testing.T) {
	t.Parallel()
	s := newScript(t, step{status: 503, body: `{"status": "unavailable", "checks": {"database": "connection refused"}}`})
	c := must(client.New(s.srv.URL))(t)
	h, err := c.Ready(context.Background())
	var e *client.Error
	if !errors.As(err, &e) || !client.IsUnavailable(err) || e.StatusCode != 503 || e.Message != "not ready; database: connection refused" {
		t.Errorf("Ready error = %#v", err)
	}
	if h == nil || h.Status != "unavailable" || h.Checks["database"] != "connection refused" {
		t.Errorf("Ready health = %+v", h)
	}
	if s.attempts() != 1 {
		t.Errorf("%d attempts, want 1", s.attempts())
	}
}
