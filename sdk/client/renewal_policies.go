package client

// renewal_policies.go: renewal policies, which say when certificates renew
// (/api/v1/renewal-policies).

import (
	"context"
	"iter"
	"net/http"

	"github.com/certctl/certctl/sdk/api"
)

// ListRenewalPolicies returns a page of renewal policies, oldest first.
func (c *Client) ListRenewalPolicies(ctx context.Context, opts ListOptions) (api.List[api.RenewalPolicy], error) {
	return listPage[api.RenewalPolicy](ctx, c, "/api/v1/renewal-policies", opts.values())
}

// AllRenewalPolicies iterates over every renewal policy.
func (c *Client) AllRenewalPolicies(ctx context.Context, opts ListOptions) iter.Seq2[api.RenewalPolicy, error] {
	return pager(ctx, opts.Cursor, func(cursor string) (api.List[api.RenewalPolicy], error) {
		opts.Cursor = cursor
		return c.ListRenewalPolicies(ctx, opts)
	})
}

// CreateRenewalPolicy creates a renewal policy.
func (c *Client) CreateRenewalPolicy(ctx context.Context, req api.RenewalPolicyRequest) (*api.RenewalPolicy, error) {
	return call[api.RenewalPolicy](ctx, c, http.MethodPost, "/api/v1/renewal-policies", req)
}

// GetRenewalPolicy returns the renewal policy with id.
func (c *Client) GetRenewalPolicy(ctx context.Context, id string) (*api.RenewalPolicy, error) {
	p, err := apiPath("/renewal-policies/%s", "renewal policy id", id)
	if err != nil {
		return nil, err
	}
	return call[api.RenewalPolicy](ctx, c, http.MethodGet, p, nil)
}

// UpdateRenewalPolicy replaces a renewal policy.
func (c *Client) UpdateRenewalPolicy(ctx context.Context, id string, req api.RenewalPolicyRequest) (*api.RenewalPolicy, error) {
	p, err := apiPath("/renewal-policies/%s", "renewal policy id", id)
	if err != nil {
		return nil, err
	}
	return call[api.RenewalPolicy](ctx, c, http.MethodPut, p, req)
}

// DeleteRenewalPolicy deletes a renewal policy; the default policy and
// policies that certificates follow are a conflict.
func (c *Client) DeleteRenewalPolicy(ctx context.Context, id string) error {
	p, err := apiPath("/renewal-policies/%s", "renewal policy id", id)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: p}, nil)
}
