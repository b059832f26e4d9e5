// Package backoff is how every part of certctl waits before trying again:
// the exponential delay after a failed attempt, its jitter, and the
// Retry-After a server asks for. The server's job retries, the agent's
// work loop, the plugin host's restarts, the SDK's API client and the
// plugins' own retries all use it, so they back off alike.
package backoff

import "time"

// Exponential is the delay after the given failed attempt (1 for the
// first): base, doubled for each attempt after the first, at most
// ceiling. A base of 0 or less is no delay.
func Exponential(attempt int, base, ceiling time.Duration) time.Duration {
	if base <= 0 {
		return 0
	}
	d := base
	for i := 1; i < attempt && d < ceiling; i++ {
		d *= 2
	}
	return min(d, ceiling)
}

// Jitter spreads d over [d/2, d] by r, a number in [0, 1), so that many
// clients failing at once do not all retry in step.
func Jitter(d time.Duration, r float64) time.Duration {
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + time.Duration(r*float64(d-half))
}
