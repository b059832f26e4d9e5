// Package retryafter reads HTTP Retry-After headers (RFC 9110 §10.2.3),
// for every certctl client that backs off when a server asks: the SDK's
// API client, the HTTP notifiers, and the ACME and Vault issuers.
package retryafter

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Max bounds what a header can ask for: a day. A longer wait is more
// likely a mistake (or a hostile server) than a plan.
const Max = 24 * time.Hour

// Parse reads a Retry-After value, either delay-seconds or an HTTP date
// (relative to now; a date in the past is no wait). It reports false for
// an empty, negative or unreadable value. Waits beyond Max are cut to it.
func Parse(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, int64(Max/time.Second))) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), Max), true
	}
	return 0, false
}
