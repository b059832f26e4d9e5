package client

// retry.go decides whether and when a failed attempt is tried again. The
// rule: retry only when doing so cannot do the work twice.

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	"github.com/certctl/certctl/sdk/backoff"
)

type retryPolicy struct {
	maxAttempts int
	baseDelay   time.Duration
	maxDelay    time.Duration
}

func (p retryPolicy) validate() error {
	switch {
	case p.maxAttempts < 1:
		return fmt.Errorf("certctl client: WithRetry: maxAttempts %d must be at least 1", p.maxAttempts)
	case p.baseDelay < 0 || p.maxDelay < 0:
		return errors.New("certctl client: WithRetry: delays must not be negative")
	case p.maxDelay < p.baseDelay:
		return fmt.Errorf("certctl client: WithRetry: maxDelay %s is shorter than baseDelay %s", p.maxDelay, p.baseDelay)
	}
	return nil
}

// backoff is the wait after the given (failed) attempt: baseDelay doubled
// for each further attempt, capped by maxDelay, then drawn at random from
// its upper half so that many clients failing together do not come back
// together.
func (p retryPolicy) backoff(attempt int) time.Duration {
	return backoff.Jitter(backoff.Exponential(attempt, p.baseDelay, p.maxDelay), rand.Float64())
}

// idempotent methods may be sent twice with the effect of once.
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// decide says whether a reply with status is retried, and after how long.
//
//   - 429: any method; the server refused the request before doing anything.
//   - 502, 503, 504: idempotent methods only; a POST may have done part of
//     its work before failing.
//
// A Retry-After header (seconds or an HTTP date) sets the wait, capped by
// maxDelay; otherwise the wait is the exponential backoff.
func (p retryPolicy) decide(method string, status int, retryAfter string, attempt int, now time.Time) (time.Duration, bool) {
	switch status {
	case http.StatusTooManyRequests:
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if !idempotent(method) {
			return 0, false
		}
	default:
		return 0, false
	}
	if d, ok := backoff.ParseRetryAfter(retryAfter, now); ok {
		return min(d, p.maxDelay), true
	}
	return p.backoff(attempt), true
}

// retryableNetError says whether a transport error is worth another
// attempt: for idempotent methods any error but a refused certificate (which
// will be refused again); for other methods only a connection that could not
// be made, since the request then never reached the server.
func retryableNetError(method string, err error) bool {
	var (
		verifyErr   *tls.CertificateVerificationError
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidErr  x509.CertificateInvalidError
	)
	if errors.As(err, &verifyErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) || errors.As(err, &invalidErr) {
		return false
	}
	if idempotent(method) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}
