package client

// issuers.go: issuers, the configured certificate authorities
// (/api/v1/issuers).

import (
	"context"
	"iter"
	"net/http"

	"github.com/certctl/certctl/sdk/api"
)

// IssuerListOptions filter and page ListIssuers.
type IssuerListOptions struct {
	Type   string // the plugin name, e.g. "local"
	Limit  int
	Cursor string
}

// ListIssuers returns a page of issuers, oldest first.
func (c *Client) ListIssuers(ctx context.Context, opts IssuerListOptions) (api.List[api.Issuer], error) {
	q := ListOptions{Limit: opts.Limit, Cursor: opts.Cursor}.values()
	setString(q, "type", opts.Type)
	return listPage[api.Issuer](ctx, c, "/api/v1/issuers", q)
}

// AllIssuers iterates over every issuer that opts select, page by page.
func (c *Client) AllIssuers(ctx context.Context, opts IssuerListOptions) iter.Seq2[api.Issuer, error] {
	return pager(ctx, opts.Cursor, func(cursor string) (api.List[api.Issuer], error) {
		opts.Cursor = cursor
		return c.ListIssuers(ctx, opts)
	})
}

// CreateIssuer creates an issuer; its plugin checks the configuration and
// provisions it (the local CA generates its CA here).
func (c *Client) CreateIssuer(ctx context.Context, req api.IssuerRequest) (*api.Issuer, error) {
	return call[api.Issuer](ctx, c, http.MethodPost, "/api/v1/issuers", req)
}

// GetIssuer returns the issuer with id.
func (c *Client) GetIssuer(ctx context.Context, id string) (*api.Issuer, error) {
	p, err := apiPath("/issuers/%s", "issuer id", id)
	if err != nil {
		return nil, err
	}
	return call[api.Issuer](ctx, c, http.MethodGet, p, nil)
}

// UpdateIssuer renames and reconfigures an issuer. Config is merged into
// the stored configuration: fields left out keep their values, fields set
// to nil return to their defaults; a nil Config changes nothing.
func (c *Client) UpdateIssuer(ctx context.Context, id string, req api.IssuerRequest) (*api.Issuer, error) {
	p, err := apiPath("/issuers/%s", "issuer id", id)
	if err != nil {
		return nil, err
	}
	return call[api.Issuer](ctx, c, http.MethodPut, p, req)
}

// DeleteIssuer deletes an issuer; it is a conflict while certificates use it.
func (c *Client) DeleteIssuer(ctx context.Context, id string) error {
	p, err := apiPath("/issuers/%s", "issuer id", id)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: p}, nil)
}
