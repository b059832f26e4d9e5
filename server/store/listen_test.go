package store_test

import (
	"context"
	"testing"
	"time"
)

// TestListenFrom: listening is called once the connection listens, and
// from then on every notification on the channel reaches fn, in order;
// other channels' do not. Listen returns when its context ends.
func TestListenFrom(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	listening := make(chan struct{})
	got := make(chan string, 10)
	done := make(chan error, 1)
	go func() {
		done <- st.ListenFrom(ctx, "test_channel", func() { close(listening) }, func(p string) { got <- p })
	}()
	select {
	case <-listening:
	case err := <-done:
		t.Fatalf("ListenFrom ended before listening: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("ListenFrom did not start listening")
	}
	for _, n := range []struct{ channel, payload string }{{"other_channel", "x"}, {"test_channel", "one"}, {"test_channel", "two"}} {
		if _, err := st.Pool().Exec(context.Background(), `SELECT pg_notify($1, $2)`, n.channel, n.payload); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"one", "two"} {
		select {
		case p := <-got:
			if p != want {
				t.Errorf("payload %q, want %q", p, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no notification %q", want)
		}
	}
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("ListenFrom did not return when its context ended")
	}
	select {
	case p := <-got:
		t.Errorf("an unexpected payload %q", p)
	default:
	}
}
