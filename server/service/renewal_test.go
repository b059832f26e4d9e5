package service

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
)

func TestPlanRenewal(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	id := uuid.MustParse("01900000-0000-7000-8000-0000000000aa")
	def := core.RenewalPolicy{Name: "default", Mode: core.PolicyFraction, RenewFraction: 1.0 / 3}
	cases := []struct {
		name     string
		p        core.RenewalPolicy
		lifetime time.Duration
		window   *Window
		wantBase time.Duration // after notBefore
		reason   string
	}{
		{"90 days renews with 30 left", def, 90 * 24 * time.Hour, nil, 60 * 24 * time.Hour, "33% of its 90-day"},
		{"6 days renews at half", def, 6 * 24 * time.Hour, nil, 3 * 24 * time.Hour, "half of its 6-day"},
		{"days before", core.RenewalPolicy{Name: "d", Mode: core.PolicyDaysBefore, DaysBeforeExpiry: 14}, 90 * 24 * time.Hour, nil, 76 * 24 * time.Hour, "14 days before"},
		{"days before longer than lifetime", core.RenewalPolicy{Name: "d", Mode: core.PolicyDaysBefore, DaysBeforeExpiry: 30}, 20 * 24 * time.Hour, nil, 10 * 24 * time.Hour, "half its lifetime"},
		{"issuer window", core.RenewalPolicy{Name: "w", Mode: core.PolicyFraction, RenewFraction: 0.3, UseIssuerWindow: true}, 90 * 24 * time.Hour,
			&Window{Start: t0.Add(50 * 24 * time.Hour), End: t0.Add(52 * 24 * time.Hour)}, 50 * 24 * time.Hour, "window the CA suggested"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plan := PlanRenewal(c.p, id, t0, t0.Add(c.lifetime), c.window)
			if !plan.Base.Equal(t0.Add(c.wantBase)) {
				t.Errorf("base = %s, want %s", plan.Base, t0.Add(c.wantBase))
			}
			if !strings.Contains(plan.Reason, c.reason) {
				t.Errorf("reason %q lacks %q", plan.Reason, c.reason)
			}
			if c.window != nil && (plan.At.Before(c.window.Start) || plan.At.After(c.window.End)) {
				t.Errorf("at %s outside the window", plan.At)
			}
		})
	}
	// A CA window (ARI) is followed inside it, but never past the policy's
	// own point: a window later than the policy's last safe moment, or
	// running past it, renews at that moment.
	w := core.RenewalPolicy{Name: "w", Mode: core.PolicyFraction, RenewFraction: 0.3, UseIssuerWindow: true}
	policyPoint := t0.Add(63 * 24 * time.Hour) // 30% of 90 days left
	for _, win := range []Window{
		{Start: t0.Add(80 * 24 * time.Hour), End: t0.Add(85 * 24 * time.Hour)}, // wholly later
		{Start: t0.Add(62 * 24 * time.Hour), End: t0.Add(89 * 24 * time.Hour)}, // straddles it
	} {
		for range 20 {
			plan := PlanRenewal(w, uuid.New(), t0, t0.Add(90*24*time.Hour), &win)
			if plan.At.After(policyPoint) {
				t.Errorf("window %s..%s: renews at %s, after the policy's point %s", win.Start, win.End, plan.At, policyPoint)
			}
			if plan.At.Before(win.Start) && !plan.At.Equal(policyPoint) {
				t.Errorf("window %s..%s: renews at %s, before the window and not at the policy's point", win.Start, win.End, plan.At)
			}
		}
	}
	if plan := PlanRenewal(w, id, t0, t0.Add(90*24*time.Hour), &Window{Start: t0.Add(80 * 24 * time.Hour), End: t0.Add(85 * 24 * time.Hour)}); !plan.At.Equal(policyPoint) ||
		!strings.Contains(plan.Reason, "would be later") {
		t.Errorf("a window after the policy's point: at %s (%s), want %s", plan.At, plan.Reason, policyPoint)
	}
	// An earlier window is followed: the renewal happens inside it.
	early := Window{Start: t0.Add(40 * 24 * time.Hour), End: t0.Add(41 * 24 * time.Hour)}
	if plan := PlanRenewal(w, id, t0, t0.Add(90*24*time.Hour), &early); plan.At.Before(early.Start) || plan.At.After(early.End) {
		t.Errorf("an earlier window: renews at %s, outside %s..%s", plan.At, early.Start, early.End)
	}

	// Jitter moves renewal earlier, by at most the fraction, the same for one id.
	j := def
	j.JitterFraction = 0.05
	a := PlanRenewal(j, id, t0, t0.Add(90*24*time.Hour), nil)
	b := PlanRenewal(j, id, t0, t0.Add(90*24*time.Hour), nil)
	if a.At != b.At || a.At.After(a.Base) || a.Base.Sub(a.At) > time.Duration(0.05*90*24*float64(time.Hour)) {
		t.Errorf("jitter: at %s base %s", a.At, a.Base)
	}
	// Different ids spread out.
	spread := map[time.Time]bool{}
	for range 20 {
		spread[PlanRenewal(j, uuid.New(), t0, t0.Add(90*24*time.Hour), nil).At] = true
	}
	if len(spread) < 15 {
		t.Errorf("20 certificates renew at only %d distinct times", len(spread))
	}
}

func TestRetryDelay(t *testing.T) {
	for attempt, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second, 30: time.Hour} {
		lo := retryDelay(attempt, 10*time.Second, time.Hour, 0)
		hi := retryDelay(attempt, 10*time.Second, time.Hour, 0.999999)
		if lo != want/2 || hi > want || hi < want*99/100 {
			t.Errorf("attempt %d: delay in [%s, %s], want [%s, %s]", attempt, lo, hi, want/2, want)
		}
	}
}
