package provider

// common.go holds what every resource and data source shares: getting the
// SDK client from Configure, reporting SDK errors, and converting times,
// maps and lists between the API's Go types and Terraform values.

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// base is embedded by every resource, data source and ephemeral resource:
// it keeps the client Configure hands over. The client is nil when the
// provider is not configured yet (Terraform validates configurations
// before it configures providers).
type base struct {
	data *providerData
}

// configure takes the provider's data; anything else is a bug of ours.
func (b *base) configure(pd any, diags *diag.Diagnostics) {
	if pd == nil {
		return
	}
	d, ok := pd.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("got %T, want *providerData: a bug in the provider", pd))
		return
	}
	b.data = d
}

func (b *base) client() *client.Client {
	if b.data == nil {
		return nil
	}
	return b.data.client
}

// pluginCatalogue caches the server's plugin list for one provider process
// (one Terraform command): plan-time checks of many connectors ask once.
type pluginCatalogue struct {
	once    sync.Once
	plugins []api.Plugin
	err     error
}

func (d *providerData) catalogue(ctx context.Context) ([]api.Plugin, error) {
	d.plugins.once.Do(func() {
		l, err := d.client.ListPlugins(ctx)
		d.plugins.plugins, d.plugins.err = l.Items, err
		if err != nil {
			d.plugins.err = fmt.Errorf("list the server's plugins: %w", err)
		}
	})
	return d.plugins.plugins, d.plugins.err
}

// findPlugin returns the plugin of kind and name from the catalogue.
func findPlugin(plugins []api.Plugin, kind, name string) (api.Plugin, bool) {
	for _, p := range plugins {
		if p.Kind == kind && p.Name == name {
			return p, true
		}
	}
	return api.Plugin{}, false
}

// diagsT is short for the diagnostics type, used in helper signatures.
type diagsT = diag.Diagnostics

// apiError adds an SDK error as a diagnostic saying what was being done.
func apiError(diags *diag.Diagnostics, what string, err error) {
	diags.AddError("certctl: "+what, err.Error())
}

// timeString formats a time for state (RFC 3339); nil is null.
func timeString(t *time.Time) types.String {
	if t == nil || t.IsZero() {
		return types.StringNull()
	}
	return types.StringValue(t.UTC().Format(time.RFC3339))
}

func strPtrValue(s *string) types.String {
	if s == nil {
		return types.StringNull()
	}
	return types.StringValue(*s)
}

func strPtr(v types.String) *string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	s := v.ValueString()
	return &s
}

func stringMapValue(m map[string]string) types.Map {
	if len(m) == 0 {
		return types.MapNull(types.StringType)
	}
	vals := make(map[string]attr.Value, len(m))
	for k, v := range m {
		vals[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, vals)
}

func stringMap(ctx context.Context, v types.Map, diags *diag.Diagnostics) map[string]string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	out := map[string]string{}
	diags.Append(v.ElementsAs(ctx, &out, false)...)
	return out
}

func stringSetValue(s []string) types.Set {
	vals := make([]attr.Value, 0, len(s))
	for _, v := range s {
		vals = append(vals, types.StringValue(v))
	}
	return types.SetValueMust(types.StringType, vals)
}

func stringListValue(s []string) types.List {
	vals := make([]attr.Value, 0, len(s))
	for _, v := range s {
		vals = append(vals, types.StringValue(v))
	}
	return types.ListValueMust(types.StringType, vals)
}

func stringSet(ctx context.Context, v types.Set, diags *diag.Diagnostics) []string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	var out []string
	diags.Append(v.ElementsAs(ctx, &out, false)...)
	return out
}
