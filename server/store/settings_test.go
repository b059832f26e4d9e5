package store_test

import (
	"context"
	"testing"
)

// TestSettings: a setting round-trips as JSON, a second put replaces it,
// a missing one is reported as missing, and a value that does not decode
// into the caller's type is an error.
func TestSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	type marker struct {
		KeyID string `json:"key_id"`
		N     int    `json:"n"`
	}
	var m marker
	if found, err := q.GetSetting(ctx, "marker", &m); err != nil || found {
		t.Fatalf("GetSetting of nothing = %v, %v", found, err)
	}
	if err := q.PutSetting(ctx, "marker", marker{KeyID: "k1", N: 1}, at(1)); err != nil {
		t.Fatal(err)
	}
	if found, err := q.GetSetting(ctx, "marker", &m); err != nil || !found || m != (marker{KeyID: "k1", N: 1}) {
		t.Errorf("GetSetting = %+v, %v, %v", m, found, err)
	}
	if err := q.PutSetting(ctx, "marker", marker{KeyID: "k2", N: 2}, at(2)); err != nil {
		t.Fatal(err)
	}
	if _, err := q.GetSetting(ctx, "marker", &m); err != nil || m != (marker{KeyID: "k2", N: 2}) {
		t.Errorf("after replacing: %+v, %v", m, err)
	}
	var wrong []string
	if _, err := q.GetSetting(ctx, "marker", &wrong); err == nil {
		t.Error("an object read into a slice is not an error")
	}
}
