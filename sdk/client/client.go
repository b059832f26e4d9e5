package client

// client.go holds the Client, its options and the one function every call
// goes through: it builds the request, sends it with retries and turns the
// reply into a value or an *Error.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultUserAgent is the User-Agent of requests unless WithUserAgent
// changes it.
const DefaultUserAgent = "certctl-go-client/1"

// Default retry settings (see WithRetry).
const (
	DefaultMaxAttempts = 4
	DefaultBaseDelay   = 200 * time.Millisecond
	DefaultMaxDelay    = 5 * time.Second
)

// Client calls a certctl server. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	apiKey    string
	http      *http.Client
	userAgent string
	retry     retryPolicy
	logger    *slog.Logger
}

// Option configures a Client.
type Option func(*Client)

// WithAPIKey authenticates every /api/v1 request with key, sent as
// "Authorization: Bearer <key>".
func WithAPIKey(key string) Option {
	return func(c *Client) { c.apiKey = key }
}

// WithHTTPClient sends requests through hc (for its transport, TLS settings,
// proxy or timeout). The default is a client of its own with a 60 s timeout
// per attempt.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.http = hc }
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(s string) Option {
	return func(c *Client) { c.userAgent = s }
}

// WithRetry sets how often and how patiently a call is retried:
// maxAttempts counts every attempt, the first included (1 turns retries
// off); the n-th retry waits about baseDelay·2^(n-1) with jitter, never more
// than maxDelay, which also caps what a Retry-After header can ask for. The
// defaults are 4 attempts, 200 ms and 5 s.
func WithRetry(maxAttempts int, baseDelay, maxDelay time.Duration) Option {
	return func(c *Client) {
		c.retry = retryPolicy{maxAttempts: maxAttempts, baseDelay: baseDelay, maxDelay: maxDelay}
	}
}

// WithLogger logs each attempt at debug level, and each retry, to logger.
// Nothing is logged by default. Keys, bodies and passwords are never logged.
func WithLogger(logger *slog.Logger) Option {
	return func(c *Client) { c.logger = logger }
}

// New returns a client of the server at baseURL, such as
// "https://certctl.example.com" or "http://127.0.0.1:8443". A path in
// baseURL is kept as a prefix (for a server behind a reverse proxy under
// /certctl, say).
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil {
		return nil, fmt.Errorf("certctl client: base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("certctl client: base URL %q must be an http or https URL with a host", baseURL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("certctl client: base URL %q must not hold credentials, a query or a fragment", u.Redacted())
	}
	u.Path, u.RawPath = strings.TrimRight(u.Path, "/"), strings.TrimRight(u.RawPath, "/")
	c := &Client{
		base:      u,
		http:      &http.Client{Timeout: 60 * time.Second},
		userAgent: DefaultUserAgent,
		retry:     retryPolicy{maxAttempts: DefaultMaxAttempts, baseDelay: DefaultBaseDelay, maxDelay: DefaultMaxDelay},
		logger:    slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(c)
	}
	if c.http == nil {
		return nil, errors.New("certctl client: WithHTTPClient(nil)")
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if strings.ContainsAny(c.apiKey, "\r\n") {
		return nil, errors.New("certctl client: the API key holds a line break")
	}
	if err := c.retry.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// BaseURL returns the server's base URL the client was made with.
func (c *Client) BaseURL() string { return c.base.String() }

type requestIDKey struct{}

// WithRequestID returns a context whose requests carry id as X-Request-ID.
// The server accepts 1-128 letters, digits and . _ : - and replaces anything
// else with an ID of its own.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFromContext returns the request ID set by WithRequestID, or "".
func RequestIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// request is one API call.
type request struct {
	method string
	path   string // escaped, below the base URL
	query  url.Values
	body   any // encoded as JSON; nil sends no body
	accept string
	// noRetry answers at once whatever the status (readiness probes).
	noRetry bool
	// wait is how long the server may hold the reply (?wait=): each attempt
	// is given at least that long plus waitSlack, whatever the HTTP
	// client's own timeout.
	wait time.Duration
}

// waitSlack is what a reply to a waiting read may take beyond the wait.
const waitSlack = 30 * time.Second

// httpClient returns the HTTP client for r: the client's own, or a copy of
// it whose timeout leaves room for the server to wait.
func (c *Client) httpClient(r request) *http.Client {
	if r.wait <= 0 || c.http.Timeout == 0 || c.http.Timeout >= r.wait+waitSlack {
		return c.http
	}
	hc := *c.http
	hc.Timeout = r.wait + waitSlack
	return &hc
}

// send makes the call, retrying as the policy allows, and returns the
// successful (2xx) reply with its body to be read and closed by the caller.
// Any other status is an *Error.
func (c *Client) send(ctx context.Context, r request) (*http.Response, error) {
	if ctx == nil {
		return nil, errors.New("certctl client: nil context")
	}
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return nil, fmt.Errorf("certctl client: encode %s %s body: %w", r.method, r.path, err)
		}
	}
	// r.path is escaped already (an id may hold "/" or "?"), so the URL
	// gets it as its raw path.
	u := *c.base
	u.RawPath = c.base.EscapedPath() + r.path
	p, err := url.PathUnescape(u.RawPath)
	if err != nil {
		return nil, fmt.Errorf("certctl client: %s %s: %w", r.method, r.path, err)
	}
	u.Path = p
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}
	target := u.String()
	maxAttempts := c.retry.maxAttempts
	if r.noRetry {
		maxAttempts = 1
	}

	hc := c.httpClient(r)
	for attempt := 1; ; attempt++ {
		req, err := c.newHTTPRequest(ctx, r, target, body)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		resp, err := hc.Do(req)
		elapsed := time.Since(start)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, fmt.Errorf("certctl client: %s %s: %w", r.method, r.path, ctxErr)
			}
			err = fmt.Errorf("certctl client: %s %s: %w", r.method, r.path, err)
			c.logger.DebugContext(ctx, "certctl request failed", "method", r.method, "path", r.path, "attempt", attempt,
				"duration", elapsed, "err", err)
			if attempt >= maxAttempts || !retryableNetError(r.method, err) {
				return nil, err
			}
			if werr := c.wait(ctx, r, attempt, c.retry.backoff(attempt), err); werr != nil {
				return nil, werr
			}
			continue
		}
		c.logger.DebugContext(ctx, "certctl request", "method", r.method, "path", r.path, "status", resp.StatusCode,
			"attempt", attempt, "duration", elapsed, "request_id", resp.Header.Get("X-Request-ID"))
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return resp, nil
		}
		apiErr := readError(resp)
		if attempt >= maxAttempts {
			return nil, apiErr
		}
		delay, retry := c.retry.decide(r.method, resp.StatusCode, resp.Header.Get("Retry-After"), attempt, time.Now())
		if !retry {
			return nil, apiErr
		}
		if werr := c.wait(ctx, r, attempt, delay, apiErr); werr != nil {
			return nil, werr
		}
	}
}

// newHTTPRequest builds one attempt, with a fresh reader over the body.
func (c *Client) newHTTPRequest(ctx context.Context, r request, target string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, rd)
	if err != nil {
		return nil, fmt.Errorf("certctl client: %s %s: %w", r.method, r.path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	accept := r.accept
	if accept == "" {
		accept = "application/json"
	}
	req.Header.Set("Accept", accept)
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	if id := RequestIDFromContext(ctx); id != "" {
		req.Header.Set("X-Request-ID", id)
	}
	return req, nil
}

// wait sleeps before the next attempt, or returns early when ctx ends.
func (c *Client) wait(ctx context.Context, r request, attempt int, delay time.Duration, last error) error {
	c.logger.DebugContext(ctx, "certctl request retrying", "method", r.method, "path", r.path, "attempt", attempt,
		"delay", delay, "err", last)
	if delay <= 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("certctl client: %s %s: %w (last attempt: %v)", r.method, r.path, err, last)
		}
		return nil
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("certctl client: %s %s: %w (last attempt: %v)", r.method, r.path, ctx.Err(), last)
	case <-t.C:
		return nil
	}
}

// do makes a JSON call and decodes a successful reply into out (unless out
// is nil or the reply has no content).
func (c *Client) do(ctx context.Context, r request, out any) error {
	resp, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("certctl client: %s %s: decode %d reply: %w", r.method, r.path, resp.StatusCode, err)
	}
	return nil
}

// doRaw makes a call whose successful reply is not JSON, and returns its
// body (at most max bytes) and headers.
func (c *Client) doRaw(ctx context.Context, r request, max int64) ([]byte, http.Header, error) {
	resp, err := c.send(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, nil, fmt.Errorf("certctl client: %s %s: read reply: %w", r.method, r.path, err)
	}
	if int64(len(data)) > max {
		return nil, nil, fmt.Errorf("certctl client: %s %s: reply is larger than %d bytes", r.method, r.path, max)
	}
	return data, resp.Header, nil
}

// seg escapes one path segment that names a resource. An empty id would
// address another route (the list, or none), so it is refused here.
func seg(what, v string) (string, error) {
	if v == "" || v == "." || v == ".." {
		return "", fmt.Errorf("certctl client: %s %q is not valid", what, v)
	}
	return url.PathEscape(v), nil
}

// path joins the escaped segments of a path below /api/v1, checking each
// named variable (name, value pairs after the fixed parts).
func apiPath(format string, vars ...string) (string, error) {
	args := make([]any, 0, len(vars)/2)
	for i := 0; i+1 < len(vars); i += 2 {
		s, err := seg(vars[i], vars[i+1])
		if err != nil {
			return "", err
		}
		args = append(args, s)
	}
	return "/api/v1" + fmt.Sprintf(format, args...), nil
}
