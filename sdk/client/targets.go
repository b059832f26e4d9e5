package client

// targets.go: targets, the places certificates are deployed to
// (/api/v1/targets).

import (
	"context"
	"iter"
	"net/http"

	"github.com/certctl/certctl/sdk/api"
)

// TargetListOptions filter and page ListTargets.
type TargetListOptions struct {
	Type    string // the plugin name, e.g. "nginx"
	AgentID string // targets bound to this agent
	Limit   int
	Cursor  string
}

// ListTargets returns a page of targets, oldest first.
func (c *Client) ListTargets(ctx context.Context, opts TargetListOptions) (api.List[api.Target], error) {
	q := ListOptions{Limit: opts.Limit, Cursor: opts.Cursor}.values()
	setString(q, "type", opts.Type)
	setString(q, "agent_id", opts.AgentID)
	return listPage[api.Target](ctx, c, "/api/v1/targets", q)
}

// AllTargets iterates over every target that opts select, page by page.
func (c *Client) AllTargets(ctx context.Context, opts TargetListOptions) iter.Seq2[api.Target, error] {
	return pager(ctx, opts.Cursor, func(cursor string) (api.List[api.Target], error) {
		opts.Cursor = cursor
		return c.ListTargets(ctx, opts)
	})
}

// CreateTarget creates a target.
func (c *Client) CreateTarget(ctx context.Context, req api.TargetRequest) (*api.Target, error) {
	return call[api.Target](ctx, c, http.MethodPost, "/api/v1/targets", req)
}

// GetTarget returns the target with id.
func (c *Client) GetTarget(ctx context.Context, id string) (*api.Target, error) {
	p, err := apiPath("/targets/%s", "target id", id)
	if err != nil {
		return nil, err
	}
	return call[api.Target](ctx, c, http.MethodGet, p, nil)
}

// UpdateTarget updates a target. Config is merged as in UpdateIssuer;
// AgentID is not: nil binds the target to no agent.
func (c *Client) UpdateTarget(ctx context.Context, id string, req api.TargetRequest) (*api.Target, error) {
	p, err := apiPath("/targets/%s", "target id", id)
	if err != nil {
		return nil, err
	}
	return call[api.Target](ctx, c, http.MethodPut, p, req)
}

// DeleteTarget deletes a target; it is a conflict while certificates are
// bound to it.
func (c *Client) DeleteTarget(ctx context.Context, id string) error {
	p, err := apiPath("/targets/%s", "target id", id)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: p}, nil)
}
