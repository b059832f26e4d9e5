// Package retry runs one delivery attempt after another, with exponential
// backoff and jitter between them, until one succeeds, one fails for good,
// the attempts run out or the caller's context ends.
//
// Notifier plugins use it for every delivery: the operation says, for each
// failure, whether another attempt may help (by wrapping the error with
// Again) and how long the service asked to wait.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/certctl/certctl/sdk/plugin"

	"github.com/certctl/certctl/sdk/backoff"
)

// Defaults of a Policy's caps.
const (
	DefaultMaxBackoff    = 30 * time.Second
	DefaultMaxRetryAfter = time.Minute
)

// Policy says how often and how patiently to try.
type Policy struct {
	// MaxAttempts is the number of attempts in all; below 1 means 1.
	MaxAttempts int
	// Backoff is the delay before the second attempt; it doubles before
	// each further attempt, up to MaxBackoff, and is jittered.
	Backoff time.Duration
	// MaxBackoff caps the computed delay (DefaultMaxBackoff when zero).
	MaxBackoff time.Duration
	// MaxRetryAfter is the longest wait a service may ask for (Retry-After)
	// that is still worth waiting out within one call; a longer one ends
	// the call with a transient error so the host retries later
	// (DefaultMaxRetryAfter when zero).
	MaxRetryAfter time.Duration
	// OnRetry, if set, is told about each failed attempt that will be
	// retried and how long the wait is; plugins log it.
	OnRetry func(attempt int, err error, wait time.Duration)
}

// AgainError marks a failure that another attempt may fix: a network
// error, a timeout, a 5xx or 429 answer, a 4xx SMTP reply.
type AgainError struct {
	Err error
	// After is the wait the service asked for (Retry-After), if HasAfter.
	After    time.Duration
	HasAfter bool
}

func (e *AgainError) Error() string { return e.Err.Error() }
func (e *AgainError) Unwrap() error { return e.Err }

// Again marks err as worth another attempt.
func Again(err error) error { return &AgainError{Err: err} }

// AgainAfter marks err as worth another attempt after the wait the
// service asked for.
func AgainAfter(err error, after time.Duration) error {
	return &AgainError{Err: err, After: after, HasAfter: true}
}

// Do calls op until it returns nil or an error not marked with Again, or
// the attempts run out, waiting between attempts. It returns:
//   - nil when an attempt succeeded;
//   - op's error unchanged when it was not marked with Again (the
//     operation decides its code, usually plugin.CodePermanent);
//   - an error wrapping ctx's error when ctx ended (plugin.ErrorCode maps
//     it to CodeCanceled or CodeDeadline), as soon as it ends;
//   - a *plugin.Error with CodeTransient when the attempts ran out, a
//     service asked for a longer wait than MaxRetryAfter, or ctx's
//     deadline would pass during the wait: the host should try later.
func Do(ctx context.Context, p Policy, op func(ctx context.Context, attempt int) error) error {
	attempts := max(p.MaxAttempts, 1)
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("delivery stopped: %w", err)
		}
		err := op(ctx, attempt)
		if err == nil {
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("delivery stopped: %w", ctxErr)
		}
		var again *AgainError
		if !errors.As(err, &again) {
			return err
		}
		if attempt >= attempts {
			return plugin.Errorf(plugin.CodeTransient, "gave up after %d attempt(s): %v", attempt, err)
		}
		wait := p.Delay(attempt, rand.Float64())
		if again.HasAfter {
			if again.After > p.maxRetryAfter() {
				return plugin.Errorf(plugin.CodeTransient, "%v (the service asked to wait %s; try again later)",
					err, again.After.Round(time.Second))
			}
			wait = max(again.After, 0)
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return plugin.Errorf(plugin.CodeTransient, "gave up after %d attempt(s), no time left to wait %s: %v",
				attempt, wait.Round(time.Millisecond), err)
		}
		if p.OnRetry != nil {
			p.OnRetry(attempt, err, wait)
		}
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("delivery stopped: %w", err)
		}
	}
}

// Delay is the wait after the given failed attempt (1 for the first):
// Backoff doubled per attempt, capped at MaxBackoff, then jittered into
// [d/2, d) by r, a number in [0, 1), so that many plugins failing at once
// do not retry in step.
func (p Policy) Delay(attempt int, r float64) time.Duration {
	if p.Backoff <= 0 {
		return 0
	}
	limit := p.MaxBackoff
	if limit <= 0 {
		limit = DefaultMaxBackoff
	}
	return backoff.Jitter(backoff.Exponential(attempt, p.Backoff, limit), r)
}

func (p Policy) maxRetryAfter() time.Duration {
	if p.MaxRetryAfter <= 0 {
		return DefaultMaxRetryAfter
	}
	return p.MaxRetryAfter
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
