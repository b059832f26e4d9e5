package store_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/certctl/certctl/server/core"
)

// TestPluginCatalogue: a record comes back as it was put, its schema the
// same JSON; a second put for the kind and name replaces it; kinds keep
// their own names; the database refuses a kind it does not know.
func TestPluginCatalogue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newStore(t).Plugins()
	if _, found, err := c.GetPlugin(ctx, "issuer", "local"); err != nil || found {
		t.Fatalf("GetPlugin of an empty catalogue = %v, %v", found, err)
	}
	schema := json.RawMessage(`{"fields": [{"name": "ttl", "type": "duration", "default": "90d", "required": false}]}`)
	r := core.PluginRecord{Kind: "issuer", Name: "local", Version: "1.0.0", Description: "a CA", Path: "/plugins/x",
		SHA256: "ab12", Schema: schema, RegisteredAt: at(1)}
	if err := c.PutPlugin(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, found, err := c.GetPlugin(ctx, "issuer", "local")
	if err != nil || !found {
		t.Fatalf("GetPlugin = %v, %v", found, err)
	}
	var want, have any
	_ = json.Unmarshal(schema, &want)
	if err := json.Unmarshal(got.Schema, &have); err != nil || !jsonEqual(want, have) {
		t.Errorf("schema = %s, want %s (%v)", got.Schema, schema, err)
	}
	if !got.RegisteredAt.Equal(r.RegisteredAt) {
		t.Errorf("registered at %s, want %s", got.RegisteredAt, r.RegisteredAt)
	}
	if got.Kind != r.Kind || got.Name != r.Name || got.Version != r.Version || got.Description != r.Description ||
		got.Path != r.Path || got.SHA256 != r.SHA256 {
		t.Errorf("GetPlugin = %+v, want %+v", got, r)
	}

	// Re-registering replaces every column; no schema stores the empty one.
	if err := c.PutPlugin(ctx, core.PluginRecord{Kind: "issuer", Name: "local", Version: "2.0.0", Path: "/plugins/y",
		SHA256: "cd34", RegisteredAt: at(2)}); err != nil {
		t.Fatal(err)
	}
	got, _, err = c.GetPlugin(ctx, "issuer", "local")
	if err != nil || got.Version != "2.0.0" || got.Path != "/plugins/y" || got.SHA256 != "cd34" || got.Description != "" ||
		!got.RegisteredAt.Equal(at(2)) || string(got.Schema) != "{}" {
		t.Errorf("after re-registering: %+v, %v", got, err)
	}

	// The same name as another kind is another plugin.
	if _, found, _ := c.GetPlugin(ctx, "notifier", "local"); found {
		t.Error("an issuer's record is found as a notifier's")
	}
	err = c.PutPlugin(ctx, core.PluginRecord{Kind: "gadget", Name: "x", Path: "/p", SHA256: "00", RegisteredAt: at(3)})
	wantCode(t, "a kind the table does not know", err, core.EINVALID)
}

// jsonEqual compares decoded JSON values.
func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
