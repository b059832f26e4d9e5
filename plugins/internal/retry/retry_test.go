package retry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

func TestDelay(t *testing.T) {
	t.Parallel()
	p := Policy{Backoff: time.Second, MaxBackoff: 10 * time.Second}
	tests := []struct {
		attempt int
		r       float64
		want    time.Duration
	}{
		{1, 0, 500 * time.Millisecond},
		{1, 0.999999, time.Second - time.Microsecond},
		{2, 0, time.Second},
		{3, 0.5, 3 * time.Second},
		{4, 0, 4 * time.Second},
		{5, 0, 5 * time.Second},  // capped at 10s, then jittered
		{50, 0, 5 * time.Second}, // no overflow
	}
	for _, tt := range tests {
		got := p.Delay(tt.attempt, tt.r)
		if d := got - tt.want; d > time.Millisecond || d < -time.Millisecond {
			t.Errorf("Delay(%d, %v) = %s, want %s", tt.attempt, tt.r, got, tt.want)
		}
	}
	if got := (Policy{}).Delay(3, 0.5); got != 0 {
		t.Errorf("zero backoff: %s", got)
	}
}

func TestDo(t *testing.T) {
	t.Parallel()
	permanent := plugin.Errorf(plugin.CodePermanent, "refused")
	tests := []struct {
		name      string
		policy    Policy
		results   []error // per attempt; the last repeats
		timeout   time.Duration
		wantCode  string
		wantCalls int
	}{
		{"success", Policy{MaxAttempts: 3}, []error{nil}, 0, "", 1},
		{"again then success", Policy{MaxAttempts: 3, Backoff: time.Millisecond}, []error{Again(errors.New("x")), nil}, 0, "", 2},
		{"permanent stops", Policy{MaxAttempts: 3}, []error{permanent}, 0, plugin.CodePermanent, 1},
		{"exhausted", Policy{MaxAttempts: 3, Backoff: time.Millisecond}, []error{Again(errors.New("x"))}, 0, plugin.CodeTransient, 3},
		{"zero attempts means one", Policy{}, []error{Again(errors.New("x"))}, 0, plugin.CodeTransient, 1},
		{"no time left for the wait", Policy{MaxAttempts: 3, Backoff: time.Hour}, []error{Again(errors.New("x"))}, time.Second, plugin.CodeTransient, 1},
		{"retry-after over the cap", Policy{MaxAttempts: 3, MaxRetryAfter: time.Second}, []error{AgainAfter(errors.New("x"), time.Hour)}, 0, plugin.CodeTransient, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			calls := 0
			start := time.Now()
			err := Do(ctx, tt.policy, func(context.Context, int) error {
				calls++
				return tt.results[min(calls, len(tt.results))-1]
			})
			if got := plugin.ErrorCode(err); got != tt.wantCode {
				t.Errorf("code %q (%v), want %q", got, err, tt.wantCode)
			}
			if calls != tt.wantCalls {
				t.Errorf("%d calls, want %d", calls, tt.wantCalls)
			}
			if time.Since(start) > 5*time.Second {
				t.Errorf("took %s", time.Since(start))
			}
		})
	}
}

func TestDoStopsWaitingWhenCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := Do(ctx, Policy{MaxAttempts: 5, Backoff: time.Minute}, func(context.Context, int) error {
		return Again(errors.New("x"))
	})
	if plugin.ErrorCode(err) != plugin.CodeCanceled {
		t.Fatalf("error %v, want canceled", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
}
