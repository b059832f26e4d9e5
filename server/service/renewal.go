package service

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"

	"github.com/certctl/certctl/sdk/backoff"
)

// shortLifetime is the lifetime under which certificates renew at half
// their life rather than at the policy's fraction: short-lived
// certificates need more room for a failed renewal to be retried.
const shortLifetime = 10 * 24 * time.Hour

// RenewalPlan is when a certificate version will be renewed, and why.
type RenewalPlan struct {
	At     time.Time     // when the renewal job is due
	Base   time.Time     // the point the policy gives, before jitter
	Jitter time.Duration // how much earlier than Base, to spread renewals
	Reason string        // in plain words
}

// Window is a renewal window suggested by the CA (ACME ARI).
type Window struct {
	Start, End time.Time
}

// PlanRenewal computes when a version valid from notBefore to notAfter is
// renewed under policy p. The policy gives a point (its last safe moment),
// moved earlier by up to JitterFraction of the lifetime, picked from the
// certificate's id (stable across restarts and replicas), so that
// certificates issued together do not all renew at the same instant. A CA
// window (ACME ARI), when given and the policy follows it, is honoured at a
// point inside it picked from the id, but never later than the policy's
// point: a window that opens after it (or runs past it) does not postpone
// a renewal the policy needs.
func PlanRenewal(p core.RenewalPolicy, certID uuid.UUID, notBefore, notAfter time.Time, window *Window) RenewalPlan {
	lifetime := notAfter.Sub(notBefore)
	spread := unitFromID(certID)
	var base time.Time
	var reason string
	switch {
	case p.Mode == core.PolicyDaysBefore:
		before := time.Duration(p.DaysBeforeExpiry) * 24 * time.Hour
		base = notAfter.Add(-before)
		reason = fmt.Sprintf("%d days before expiry (policy %q)", p.DaysBeforeExpiry, p.Name)
		if before >= lifetime {
			base = notBefore.Add(lifetime / 2)
			reason = fmt.Sprintf("at half its lifetime: policy %q asks for %d days before expiry, more than the %s lifetime",
				p.Name, p.DaysBeforeExpiry, roundDuration(lifetime))
		}
	case lifetime < shortLifetime:
		base = notAfter.Add(-lifetime / 2)
		reason = fmt.Sprintf("when half of its %s lifetime remains (lifetimes under 10 days)", roundDuration(lifetime))
	default:
		fraction := p.RenewFraction
		if fraction <= 0 || fraction >= 1 {
			fraction = 1.0 / 3
		}
		base = notAfter.Add(-time.Duration(fraction * float64(lifetime)))
		reason = fmt.Sprintf("when %.0f%% of its %s lifetime remains (policy %q)", fraction*100, roundDuration(lifetime), p.Name)
	}
	if window != nil && p.UseIssuerWindow && window.End.After(window.Start) {
		at := window.Start.Add(time.Duration(spread * float64(window.End.Sub(window.Start))))
		wreason := fmt.Sprintf("inside the renewal window the CA suggested (%s to %s)",
			window.Start.UTC().Format(time.RFC3339), window.End.UTC().Format(time.RFC3339))
		if !at.After(base) {
			return RenewalPlan{At: at, Base: window.Start, Jitter: 0, Reason: wreason}
		}
		// The CA's window (or the point picked in it) comes after the
		// policy's last safe moment: the policy wins.
		if base.Before(notBefore) {
			base = notBefore
		}
		return RenewalPlan{At: base, Base: base, Jitter: 0, Reason: reason + fmt.Sprintf(
			"; the renewal window the CA suggested (%s to %s) would be later", window.Start.UTC().Format(time.RFC3339),
			window.End.UTC().Format(time.RFC3339))}
	}
	jitter := time.Duration(spread * p.JitterFraction * float64(lifetime)).Truncate(time.Second)
	at := base.Add(-jitter)
	if at.Before(notBefore) {
		at = notBefore
	}
	if jitter > 0 {
		reason += fmt.Sprintf(", %s early to spread renewals", jitter.Round(time.Minute))
	}
	return RenewalPlan{At: at, Base: base, Jitter: jitter, Reason: reason}
}

// unitFromID maps an id to a number in [0, 1), the same every time.
func unitFromID(id uuid.UUID) float64 {
	h := sha256.Sum256(id[:])
	return float64(binary.BigEndian.Uint64(h[:8])>>11) / (1 << 53)
}

func roundDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%.0f-day", d.Hours()/24)
	case d >= time.Hour:
		return fmt.Sprintf("%.0f-hour", d.Hours())
	default:
		return d.Round(time.Second).String()
	}
}

// retryDelay is the wait before attempt n+1 of a job that failed attempt n:
// exponential from base, capped, with the upper half jittered so that
// failures that happened together do not retry together.
func retryDelay(attempt int, base, ceiling time.Duration, rnd float64) time.Duration {
	return backoff.Jitter(backoff.Exponential(attempt, base, ceiling), rnd)
}
