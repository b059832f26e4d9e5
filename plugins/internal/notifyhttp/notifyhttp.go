// Package notifyhttp delivers a notification to an HTTP service (webhook,
// Slack, Teams, PagerDuty, Opsgenie) the same way for every notifier
// plugin: one POST per attempt with its own timeout, retries on network
// errors, timeouts, 429 and 5xx answers with backoff (honouring
// Retry-After), an immediate permanent failure on other answers, response
// bodies read up to a limit, redirects not followed, and no URL, header
// or body in any message or log line, since they may hold secrets.
package notifyhttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/certctl/certctl/plugins/internal/notifyconf"
	"github.com/certctl/certctl/plugins/internal/retry"
	"github.com/certctl/certctl/sdk/plugin"

	"github.com/certctl/certctl/sdk/backoff"
)

// MaxResponseBytes is how much of a response body is read; the rest is
// dropped.
const MaxResponseBytes = 64 << 10

// maxSnippet is how much of an error response body goes into an error
// message.
const maxSnippet = 200

// Sender posts requests. One Sender serves every call of a plugin, so
// connections are reused.
type Sender struct {
	client *http.Client
	log    *slog.Logger
}

// NewSender returns a Sender that logs retries to log (nil discards).
// It uses the environment's proxy settings and never follows redirects:
// a redirect would carry the body, and headers holding credentials, to
// another address.
func NewSender(log *slog.Logger) *Sender {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	return &Sender{
		client: &http.Client{
			Transport: transport,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		log: log,
	}
}

// Request is one delivery.
type Request struct {
	// Service names the receiver in messages and logs, e.g. "slack".
	Service string
	URL     string
	Header  http.Header
	Body    []byte
	// Prepare, if set, is called before each attempt with that attempt's
	// headers, e.g. to sign the body with a fresh timestamp.
	Prepare func(h http.Header)
}

// Response is a successful (2xx) answer.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte // at most MaxResponseBytes
}

// Post delivers req under the delivery settings d. See retry.Do for what
// the error can be; a non-retryable answer is a *plugin.Error with
// CodePermanent.
func (s *Sender) Post(ctx context.Context, d notifyconf.Delivery, req Request) (*Response, error) {
	where := req.Service + " at " + notifyconf.RedactURL(req.URL)
	policy := d.Retry
	policy.OnRetry = func(attempt int, err error, wait time.Duration) {
		s.log.Warn("delivery attempt failed, retrying", "service", req.Service,
			"endpoint", notifyconf.RedactURL(req.URL), "attempt", attempt, "wait", wait.String(), "err", err.Error())
	}
	var resp *Response
	err := retry.Do(ctx, policy, func(ctx context.Context, attempt int) error {
		r, err := s.attempt(ctx, d.Timeout, req)
		if err != nil {
			return err
		}
		resp = r
		return nil
	})
	if err != nil {
		var pe *plugin.Error
		if errors.As(err, &pe) {
			return nil, &plugin.Error{Code: pe.Code, Message: where + ": " + pe.Message, Field: pe.Field}
		}
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return resp, nil
}

// attempt makes one POST with its own timeout.
func (s *Sender) attempt(ctx context.Context, timeout time.Duration, req Request) (*Response, error) {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(actx, http.MethodPost, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return nil, plugin.Errorf(plugin.CodePermanent, "cannot build the request: invalid URL")
	}
	for k, v := range req.Header {
		hreq.Header[k] = append([]string(nil), v...)
	}
	if req.Prepare != nil {
		req.Prepare(hreq.Header)
	}
	hresp, err := s.client.Do(hreq)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, retry.Again(transportError(err, actx, timeout))
	}
	defer hresp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(hresp.Body, MaxResponseBytes))
	if err != nil && ctx.Err() == nil && hresp.StatusCode/100 != 2 {
		return nil, retry.Again(fmt.Errorf("HTTP %d, reading the answer failed: %v", hresp.StatusCode, transportError(err, actx, timeout)))
	}
	// Drain a little more so the connection can be reused.
	_, _ = io.CopyN(io.Discard, hresp.Body, MaxResponseBytes)
	return classify(hresp, body)
}

// classify turns an answer into a Response or an error saying whether to
// try again.
func classify(hresp *http.Response, body []byte) (*Response, error) {
	code := hresp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return &Response{StatusCode: code, Header: hresp.Header, Body: body}, nil
	case code == http.StatusTooManyRequests || code >= 500:
		err := fmt.Errorf("HTTP %d%s", code, Snippet(body))
		if after, ok := backoff.ParseRetryAfter(hresp.Header.Get("Retry-After"), time.Now()); ok {
			return nil, retry.AgainAfter(err, after)
		}
		return nil, retry.Again(err)
	case code >= 300 && code < 400:
		return nil, plugin.Errorf(plugin.CodePermanent, "HTTP %d: redirects are not followed; configure the final URL", code)
	default:
		return nil, plugin.Errorf(plugin.CodePermanent, "HTTP %d%s", code, Snippet(body))
	}
}

// transportError describes a failed round trip without the URL (which
// *url.Error would print, token and all).
func transportError(err error, actx context.Context, timeout time.Duration) error {
	if errors.Is(actx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %s", timeout)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		return fmt.Errorf("no answer within %s", timeout)
	}
	return fmt.Errorf("request failed: %v", err)
}

// Snippet returns ": " and the start of an answer's body, printable
// characters only, for error messages; "" for an empty body. Services'
// error bodies ("invalid_payload", {"message": "..."}) say what is wrong
// and do not echo credentials.
func Snippet(body []byte) string {
	s := strings.TrimSpace(string(body))
	if s == "" {
		return ""
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, s)
	if r := []rune(s); len(r) > maxSnippet {
		s = string(r[:maxSnippet]) + "..."
	}
	return ": " + s
}

// JSONHeader returns the headers of a JSON POST from a plugin called
// name, e.g. "slack" gives User-Agent certctl-notifier-slack/1.0.
func JSONHeader(name string) http.Header {
	return http.Header{
		"Content-Type": {"application/json"},
		"User-Agent":   {"certctl-notifier-" + name + "/1.0"},
		"Accept":       {"application/json, text/plain;q=0.9, */*;q=0.1"},
	}
}
