package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// TestNonJSONError checks replies that are not the API's JSON, as a proxy
// in front of the server might send.
func TestNonJSONError(t *testing.T) {
	t.Parallel()
	body := "<html><body><h1>413 Request Entity Too Large</h1>" + strings.Repeat("padding ", 100) + "</body></html>"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("X-Request-ID", "proxy-1")
		switch r.URL.Path {
		case "/api/v1/issuers":
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			_, _ = w.Write([]byte(body))
		case "/healthz":
			w.WriteHeader(http.StatusNotFound)
		default:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error": "not the API's shape"}`))
		}
	}))
	t.Cleanup(srv.Close)
	c := must(client.New(srv.URL, client.WithRetry(1, 0, 0)))(t)
	ctx := context.Background()

	_, err := c.CreateIssuer(ctx, api.IssuerRequest{Name: "x", Type: "local"})
	e, ok := client.AsError(err)
	if !ok || e.StatusCode != 413 || e.Code != "http_413" || e.RequestID != "proxy-1" ||
		!strings.HasPrefix(e.Message, "<html><body><h1>413 Request Entity Too Large</h1>") || len([]rune(e.Message)) > 201 {
		t.Errorf("413 from a proxy = %#v", err)
	}
	_, err = c.Health(ctx)
	if e, ok := client.AsError(err); !ok || e.Code != "http_404" || e.Message != "Not Found" || client.IsNotFound(err) {
		t.Errorf("empty 404 = %#v (a reply that is not the API's must not pass for its not_found)", err)
	}
	_, err = c.GetIssuer(ctx, "x")
	if e, ok := client.AsError(err); !ok || e.Code != "http_400" || client.IsInvalid(err) {
		t.Errorf("JSON of another shape = %#v", err)
	}
}
