package client

// api_keys.go: API keys (/api/v1/api-keys). Every route is admin only.

import (
	"context"
	"iter"
	"net/http"

	"github.com/certctl/certctl/sdk/api"
)

// ListAPIKeys returns a page of API keys, newest first (without their
// secrets).
func (c *Client) ListAPIKeys(ctx context.Context, opts ListOptions) (api.List[api.APIKey], error) {
	return listPage[api.APIKey](ctx, c, "/api/v1/api-keys", opts.values())
}

// AllAPIKeys iterates over every API key, newest first.
func (c *Client) AllAPIKeys(ctx context.Context, opts ListOptions) iter.Seq2[api.APIKey, error] {
	return pager(ctx, opts.Cursor, func(cursor string) (api.List[api.APIKey], error) {
		opts.Cursor = cursor
		return c.ListAPIKeys(ctx, opts)
	})
}

// CreateAPIKey creates an API key with a role (admin, operator, viewer).
// The secret, Key, is in this reply only.
func (c *Client) CreateAPIKey(ctx context.Context, req api.APIKeyRequest) (*api.APIKey, error) {
	return call[api.APIKey](ctx, c, http.MethodPost, "/api/v1/api-keys", req)
}

// GetAPIKey returns the API key with id.
func (c *Client) GetAPIKey(ctx context.Context, id string) (*api.APIKey, error) {
	p, err := apiPath("/api-keys/%s", "API key id", id)
	if err != nil {
		return nil, err
	}
	return call[api.APIKey](ctx, c, http.MethodGet, p, nil)
}

// RevokeAPIKey revokes an API key at once and returns it. The last usable
// admin key cannot be revoked (a conflict).
func (c *Client) RevokeAPIKey(ctx context.Context, id string) (*api.APIKey, error) {
	p, err := apiPath("/api-keys/%s", "API key id", id)
	if err != nil {
		return nil, err
	}
	return call[api.APIKey](ctx, c, http.MethodDelete, p, nil)
}
