package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// TestNotifiers: notifiers read back with their sealed fields and enabled
// flag (also locked for update), list by type, names unique, update keeps
// the type, delete once.
func TestNotifiers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newStore(t)
	q := st.Q()
	mk := func(name, typ string, enabled bool) core.Notifier {
		t.Helper()
		n := core.Notifier{ID: newID(t), Name: name, Type: typ, Config: map[string]any{"url": "https://" + name},
			Secret: core.Sealed{Fields: []string{"token"}, Ciphertext: []byte("s-" + name)}, Enabled: enabled,
			CreatedAt: at(0), UpdatedAt: at(0)}
		if err := q.CreateNotifier(ctx, n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	hook, slack, off := mk("hook", "webhook", true), mk("chat", "slack", true), mk("off", "webhook", false)

	got, err := q.GetNotifier(ctx, hook.ID)
	if err != nil || got.Type != "webhook" || !got.Enabled || got.Config["url"] != "https://hook" ||
		!slices.Equal(got.Secret.Fields, []string{"token"}) || string(got.Secret.Ciphertext) != "s-hook" {
		t.Errorf("GetNotifier = %+v, %v", got, err)
	}
	if got, err := q.GetNotifier(ctx, off.ID); err != nil || got.Enabled {
		t.Errorf("a disabled notifier = %+v, %v", got, err)
	}
	err = st.InTx(ctx, func(tx *store.Queries) error {
		got, err := tx.GetNotifierForUpdate(ctx, slack.ID)
		if err == nil && got.Name != "chat" {
			t.Errorf("GetNotifierForUpdate = %+v", got)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = q.GetNotifier(ctx, uuid.New())
	wantCode(t, "an unknown notifier", err, core.ENOTFOUND)
	wantCode(t, "a taken name", q.CreateNotifier(ctx, core.Notifier{ID: newID(t), Name: "hook", Type: "slack",
		Config: map[string]any{}, CreatedAt: at(0), UpdatedAt: at(0)}), core.ECONFLICT)

	items, _, err := q.ListNotifiers(ctx, core.NotifierFilter{Type: "webhook", Page: core.Page{Limit: 10}})
	if err != nil || len(items) != 2 || items[0].ID != hook.ID || items[1].ID != off.ID {
		t.Errorf("webhook notifiers = %+v, %v", items, err)
	}
	items, more, err := q.ListNotifiers(ctx, core.NotifierFilter{Page: core.Page{Limit: 2}})
	if err != nil || !more || len(items) != 2 {
		t.Errorf("first page = %d items, more %v, %v", len(items), more, err)
	}

	off.Name, off.Type, off.Enabled, off.Config, off.UpdatedAt = "on", "slack", true, map[string]any{"url": "https://on"}, at(4)
	if err := q.UpdateNotifier(ctx, off); err != nil {
		t.Fatal(err)
	}
	if got, err := q.GetNotifier(ctx, off.ID); err != nil || got.Name != "on" || got.Type != "webhook" || !got.Enabled ||
		got.Config["url"] != "https://on" || !got.UpdatedAt.Equal(at(4)) {
		t.Errorf("after UpdateNotifier = %+v, %v", got, err)
	}
	wantCode(t, "updating an unknown notifier", q.UpdateNotifier(ctx, core.Notifier{ID: uuid.New(), Name: "x",
		Config: map[string]any{}}), core.ENOTFOUND)
	if err := q.DeleteNotifier(ctx, hook.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "deleting twice", q.DeleteNotifier(ctx, hook.ID), core.ENOTFOUND)
}
