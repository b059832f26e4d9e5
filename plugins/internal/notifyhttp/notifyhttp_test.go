package notifyhttp

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/plugins/internal/notifyconf"
	"github.com/certctl/certctl/plugins/internal/plugintesting"
	"github.com/certctl/certctl/plugins/internal/retry"
	"github.com/certctl/certctl/sdk/plugin"
)

// secretPath stands for the token a Slack or Teams webhook URL carries.
const secretPath = "/services/T000/B000/SECRETTOKEN"

func delivery(attempts int, backoff, timeout time.Duration) notifyconf.Delivery {
	return notifyconf.Delivery{Timeout: timeout, Retry: retry.Policy{MaxAttempts: attempts, Backoff: backoff}}
}

func TestPost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		replies  []plugintesting.Reply
		delivery notifyconf.Delivery
		wantCode string // "" for success
		wantMsg  string // in the error message
		wantReqs int
		maxTime  time.Duration
	}{
		{
			name:     "success at once",
			replies:  []plugintesting.Reply{{Status: 202, Body: `{"ok":true}`}},
			delivery: delivery(3, time.Millisecond, 5*time.Second),
			wantReqs: 1,
		},
		{
			name:     "503 twice then 200",
			replies:  []plugintesting.Reply{{Status: 503}, {Status: 503}, {Status: 200, Body: "ok"}},
			delivery: delivery(3, time.Millisecond, 5*time.Second),
			wantReqs: 3,
		},
		{
			name:     "400 fails at once",
			replies:  []plugintesting.Reply{{Status: 400, Body: "invalid_payload"}},
			delivery: delivery(3, time.Millisecond, 5*time.Second),
			wantCode: plugin.CodePermanent,
			wantMsg:  "HTTP 400: invalid_payload",
			wantReqs: 1,
		},
		{
			name:     "404 fails at once",
			replies:  []plugintesting.Reply{{Status: 404, Body: "no_service"}},
			delivery: delivery(3, time.Millisecond, 5*time.Second),
			wantCode: plugin.CodePermanent,
			wantMsg:  "no_service",
			wantReqs: 1,
		},
		{
			// A backoff of a minute proves that Retry-After: 0 is honoured.
			name:     "429 with Retry-After 0 then 200",
			replies:  []plugintesting.Reply{{Status: 429, Header: map[string]string{"Retry-After": "0"}}, {Status: 200}},
			delivery: delivery(3, time.Minute, 5*time.Second),
			wantReqs: 2,
			maxTime:  5 * time.Second,
		},
		{
			name:     "5xx until the attempts run out",
			replies:  []plugintesting.Reply{{Status: 500, Body: "boom"}},
			delivery: delivery(2, time.Millisecond, 5*time.Second),
			wantCode: plugin.CodeTransient,
			wantMsg:  "gave up after 2 attempt(s): HTTP 500: boom",
			wantReqs: 2,
		},
		{
			name:     "Retry-After longer than the cap ends the call",
			replies:  []plugintesting.Reply{{Status: 503, Header: map[string]string{"Retry-After": "3600"}}},
			delivery: delivery(3, time.Millisecond, 5*time.Second),
			wantCode: plugin.CodeTransient,
			wantMsg:  "try again later",
			wantReqs: 1,
		},
		{
			name:     "redirect is not followed",
			replies:  []plugintesting.Reply{{Status: 302, Header: map[string]string{"Location": "http://127.0.0.1:1/elsewhere"}}},
			delivery: delivery(3, time.Millisecond, 5*time.Second),
			wantCode: plugin.CodePermanent,
			wantMsg:  "redirects are not followed",
			wantReqs: 1,
		},
		{
			name:     "no answer within the timeout",
			replies:  []plugintesting.Reply{{Hang: time.Minute}},
			delivery: delivery(2, time.Millisecond, 100*time.Millisecond),
			wantCode: plugin.CodeTransient,
			wantMsg:  "no answer within 100ms",
			wantReqs: 2,
			maxTime:  5 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := plugintesting.NewHTTPServer(t, tt.replies...)
			var logs bytes.Buffer
			s := NewSender(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			start := time.Now()
			resp, err := s.Post(context.Background(), tt.delivery, Request{
				Service: "test", URL: srv.URL + secretPath, Header: JSONHeader("test"), Body: []byte(`{"a":1}`),
			})
			elapsed := time.Since(start)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("Post: %v", err)
				}
				if resp.StatusCode/100 != 2 {
					t.Errorf("status %d", resp.StatusCode)
				}
			} else {
				if got := plugin.ErrorCode(err); got != tt.wantCode {
					t.Fatalf("error %v: code %q, want %q", err, got, tt.wantCode)
				}
				if !strings.Contains(err.Error(), tt.wantMsg) {
					t.Errorf("error %q does not say %q", err, tt.wantMsg)
				}
				if strings.Contains(err.Error(), "SECRETTOKEN") {
					t.Errorf("error reveals the URL's token: %v", err)
				}
			}
			if got := len(srv.Requests()); got != tt.wantReqs {
				t.Errorf("%d requests, want %d", got, tt.wantReqs)
			}
			if tt.maxTime > 0 && elapsed > tt.maxTime {
				t.Errorf("took %s, want at most %s", elapsed, tt.maxTime)
			}
			if strings.Contains(logs.String(), "SECRETTOKEN") {
				t.Errorf("logs reveal the URL's token:\n%s", logs.String())
			}
			for _, r := range srv.Requests() {
				if r.Method != http.MethodPost || r.Path != secretPath || string(r.Body) != `{"a":1}` {
					t.Errorf("request %s %s %q", r.Method, r.Path, r.Body)
				}
				if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("User-Agent") != "certctl-notifier-test/1.0" {
					t.Errorf("headers %v", r.Header)
				}
			}
		})
	}
}

func TestPostEndsWithContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		ctx      func() (context.Context, context.CancelFunc)
		wantCode string
	}{
		{"canceled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			return ctx, cancel
		}, plugin.CodeCanceled},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}, plugin.CodeDeadline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := plugintesting.NewHTTPServer(t, plugintesting.Reply{Hang: time.Minute})
			ctx, cancel := tt.ctx()
			defer cancel()
			start := time.Now()
			_, err := NewSender(nil).Post(ctx, delivery(3, time.Second, 30*time.Second), Request{Service: "test", URL: srv.URL, Body: []byte("{}")})
			if got := plugin.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("error %v: code %q, want %q", err, got, tt.wantCode)
			}
			if elapsed := time.Since(start); elapsed > 2*time.Second {
				t.Errorf("returned after %s", elapsed)
			}
		})
	}
}

func TestPostConnectionRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = NewSender(nil).Post(context.Background(), delivery(2, time.Millisecond, time.Second),
		Request{Service: "test", URL: "http://" + addr + secretPath, Body: []byte("{}")})
	if plugin.ErrorCode(err) != plugin.CodeTransient {
		t.Fatalf("error %v: want transient", err)
	}
	if strings.Contains(err.Error(), "SECRETTOKEN") {
		t.Errorf("error reveals the URL's token: %v", err)
	}
}

func TestPostPreparesEachAttempt(t *testing.T) {
	t.Parallel()
	srv := plugintesting.NewHTTPServer(t, plugintesting.Reply{Status: 503}, plugintesting.Reply{Status: 200})
	n := 0
	_, err := NewSender(nil).Post(context.Background(), delivery(2, time.Millisecond, time.Second), Request{
		Service: "test", URL: srv.URL, Body: []byte("{}"),
		Prepare: func(h http.Header) { n++; h.Set("X-Attempt", strings.Repeat("a", n)) },
	})
	if err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Header.Get("X-Attempt") != "a" || reqs[1].Header.Get("X-Attempt") != "aa" {
		t.Errorf("Prepare was not called per attempt: %d requests", len(reqs))
	}
}

func TestSnippet(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"  \n", ""},
		{"no_service", ": no_service"},
		{"a\x00b\nc", ": a b c"},
		{strings.Repeat("x", 300), ": " + strings.Repeat("x", 200) + "..."},
	}
	for _, tt := range tests {
		if got := Snippet([]byte(tt.in)); got != tt.want {
			t.Errorf("Snippet(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
