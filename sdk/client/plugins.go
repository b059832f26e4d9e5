package client

// plugins.go: the connector plugins a server has (/api/v1/plugins).

import (
	"context"
	"net/http"

	"github.com/certctl/certctl/sdk/api"
)

// ListPlugins returns every plugin with its status and configuration
// schema, sorted by kind and name. The list is not paginated: it comes
// whole, and NextCursor is nil.
func (c *Client) ListPlugins(ctx context.Context) (api.List[api.Plugin], error) {
	return listPage[api.Plugin](ctx, c, "/api/v1/plugins", nil)
}

// RegisterPlugin accepts the binary now in the server's plugin directory
// for the plugin kind ("issuer", "target", "notifier") and name, after it
// was upgraded or added. Admin only.
func (c *Client) RegisterPlugin(ctx context.Context, kind, name string) (*api.Plugin, error) {
	p, err := apiPath("/plugins/%s/%s/register", "plugin kind", kind, "plugin name", name)
	if err != nil {
		return nil, err
	}
	return call[api.Plugin](ctx, c, http.MethodPost, p, nil)
}
