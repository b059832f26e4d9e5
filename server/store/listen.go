package store

import (
	"context"
	"fmt"
)

// Listen delivers the payloads of notifications on channel to fn until ctx
// ends or the connection fails (the caller reconnects).
func (s *Store) Listen(ctx context.Context, channel string, fn func(payload string)) error {
	return s.ListenFrom(ctx, channel, nil, fn)
}

// ListenFrom is Listen that calls listening, when not nil, once the
// connection listens: whatever was announced before then was not heard,
// so that is when a listener catches up.
func (s *Store) ListenFrom(ctx context.Context, channel string, listening func(), fn func(payload string)) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("listen %s: %w", channel, err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `LISTEN `+channel); err != nil {
		return fmt.Errorf("listen %s: %w", channel, err)
	}
	if listening != nil {
		listening()
	}
	defer func() {
		// A connection that was listening goes back to the pool clean, or not at all.
		if ctx.Err() != nil {
			_ = conn.Conn().Close(context.Background())
		}
	}()
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			_ = conn.Conn().Close(context.Background())
			return err
		}
		fn(n.Payload)
	}
}
