package backoff

import (
	"testing"
	"time"
)

func TestExponential(t *testing.T) {
	for _, tc := range []struct {
		attempt       int
		base, ceiling time.Duration
		want          time.Duration
	}{
		{1, time.Second, time.Minute, time.Second},
		{2, time.Second, time.Minute, 2 * time.Second},
		{4, time.Second, time.Minute, 8 * time.Second},
		{7, time.Second, time.Minute, time.Minute},
		{1000, time.Second, time.Minute, time.Minute},
		{0, time.Second, time.Minute, time.Second},
		{3, 0, time.Minute, 0},
		{3, time.Minute, time.Second, time.Second},
	} {
		if got := Exponential(tc.attempt, tc.base, tc.ceiling); got != tc.want {
			t.Errorf("Exponential(%d, %s, %s) = %s, want %s", tc.attempt, tc.base, tc.ceiling, got, tc.want)
		}
	}
}

func TestJitter(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		r    float64
		want time.Duration
	}{
		{10 * time.Second, 0, 5 * time.Second},
		{10 * time.Second, 0.5, 7500 * time.Millisecond},
		{10 * time.Second, 0.999999, 9999995 * time.Microsecond},
		{0, 0.5, 0},
	} {
		if got := Jitter(tc.d, tc.r); got != tc.want {
			t.Errorf("Jitter(%s, %v) = %s, want %s", tc.d, tc.r, got, tc.want)
		}
	}
}
