package keylock

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Holders of one key never overlap; the count of holders inside is
// checked by each, not the time they take.
func TestLockSerialisesOneKey(t *testing.T) {
	var l Locks
	var inside, overlaps atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			unlock, err := l.Lock(context.Background(), "a")
			if err != nil {
				t.Error(err)
				return
			}
			if inside.Add(1) > 1 {
				overlaps.Add(1)
			}
			time.Sleep(time.Millisecond)
			inside.Add(-1)
			unlock()
		})
	}
	wg.Wait()
	if n := overlaps.Load(); n > 0 {
		t.Fatalf("%d holders of key a overlapped", n)
	}
}

// Different keys do not wait for each other, and keys given in opposite
// orders cannot deadlock.
func TestLockKeysAreIndependentAndOrdered(t *testing.T) {
	var l Locks
	unlockA, err := l.Lock(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	unlockB, err := l.Lock(ctx, "b")
	if err != nil {
		t.Fatalf("key b waited for key a: %v", err)
	}
	unlockB()
	unlockA()

	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			keys := []string{"x", "y", "z", "x"}
			if i%2 == 1 {
				keys = []string{"z", "y", "x"}
			}
			unlock, err := l.Lock(ctx, keys...)
			if err != nil {
				t.Errorf("Lock(%v): %v (deadlock?)", keys, err)
				return
			}
			unlock()
		})
	}
	wg.Wait()
}

// A waiter whose context ends gets its error and holds nothing: the key
// it partly took is free again.
func TestLockGivesUpWithItsContext(t *testing.T) {
	var l Locks
	unlock, err := l.Lock(context.Background(), "b")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := l.Lock(ctx, "a", "b") // takes a, then waits for b
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock after cancel = %v, want context.Canceled", err)
	}
	unlock()
	again, err := l.Lock(context.Background(), "a", "b")
	if err != nil {
		t.Fatalf("a and b after the cancelled waiter: %v", err)
	}
	again()
}
