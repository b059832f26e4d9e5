package service

import (
	"testing"
	"time"
)

// TestTokenBucketPacesToItsRate: an operation's max_per_second lets one
// second's worth start at once (a rate under one a second: the first after
// half of its period), then as many as the rate allows for the time that
// passed, never more than a second's worth (or one) banked.
func TestTokenBucketPacesToItsRate(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		rate  float64
		steps []struct {
			after time.Duration
			take  int
			want  int // available before taking
		}
	}{
		{rate: 10, steps: []struct {
			after time.Duration
			take  int
			want  int
		}{{0, 1, 1}, {100 * time.Millisecond, 1, 1}, {time.Second, 10, 10}, {0, 0, 0}, {10 * time.Second, 10, 10}}},
		{rate: 0.5, steps: []struct {
			after time.Duration
			take  int
			want  int
		}{{0, 0, 0}, {time.Second, 1, 1}, {time.Second, 0, 0}, {time.Second, 1, 1}, {time.Minute, 1, 1}, {0, 0, 0}}},
	} {
		b := newTokenBucket(tc.rate, t0)
		now := t0
		for i, s := range tc.steps {
			now = now.Add(s.after)
			if got := b.available(now); got != s.want {
				t.Errorf("rate %v, step %d: %d available, want %d", tc.rate, i, got, s.want)
			}
			b.take(s.take)
		}
	}
}
