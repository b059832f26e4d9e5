package client

// agents.go: agents (/api/v1/agents) and the enrollment tokens that let
// them join (/api/v1/enrollment-tokens).

import (
	"context"
	"iter"
	"net/http"

	"github.com/certctl/certctl/sdk/api"
)

// AgentListOptions filter and page ListAgents.
type AgentListOptions struct {
	Status string // pending, online, offline, retired
	OS     string // e.g. linux, windows
	Arch   string // e.g. amd64, arm64
	Limit  int
	Cursor string
}

// ListAgents returns a page of agents, oldest first.
func (c *Client) ListAgents(ctx context.Context, opts AgentListOptions) (api.List[api.Agent], error) {
	q := ListOptions{Limit: opts.Limit, Cursor: opts.Cursor}.values()
	setString(q, "status", opts.Status)
	setString(q, "os", opts.OS)
	setString(q, "arch", opts.Arch)
	return listPage[api.Agent](ctx, c, "/api/v1/agents", q)
}

// AllAgents iterates over every agent that opts select.
func (c *Client) AllAgents(ctx context.Context, opts AgentListOptions) iter.Seq2[api.Agent, error] {
	return pager(ctx, opts.Cursor, func(cursor string) (api.List[api.Agent], error) {
		opts.Cursor = cursor
		return c.ListAgents(ctx, opts)
	})
}

// GetAgent returns the agent with id.
func (c *Client) GetAgent(ctx context.Context, id string) (*api.Agent, error) {
	p, err := apiPath("/agents/%s", "agent id", id)
	if err != nil {
		return nil, err
	}
	return call[api.Agent](ctx, c, http.MethodGet, p, nil)
}

// RetireAgent retires an agent: its credentials stop working at once.
// Retiring a retired agent changes nothing.
func (c *Client) RetireAgent(ctx context.Context, id string) (*api.Agent, error) {
	p, err := apiPath("/agents/%s/retire", "agent id", id)
	if err != nil {
		return nil, err
	}
	return call[api.Agent](ctx, c, http.MethodPost, p, nil)
}

// ListEnrollmentTokens returns a page of enrollment tokens, newest first
// (without their secrets). Admin only.
func (c *Client) ListEnrollmentTokens(ctx context.Context, opts ListOptions) (api.List[api.EnrollmentToken], error) {
	return listPage[api.EnrollmentToken](ctx, c, "/api/v1/enrollment-tokens", opts.values())
}

// AllEnrollmentTokens iterates over every enrollment token, newest first.
func (c *Client) AllEnrollmentTokens(ctx context.Context, opts ListOptions) iter.Seq2[api.EnrollmentToken, error] {
	return pager(ctx, opts.Cursor, func(cursor string) (api.List[api.EnrollmentToken], error) {
		opts.Cursor = cursor
		return c.ListEnrollmentTokens(ctx, opts)
	})
}

// CreateEnrollmentToken creates an enrollment token. The secret, Token,
// is in this reply only. Admin only.
func (c *Client) CreateEnrollmentToken(ctx context.Context, req api.EnrollmentTokenRequest) (*api.EnrollmentToken, error) {
	return call[api.EnrollmentToken](ctx, c, http.MethodPost, "/api/v1/enrollment-tokens", req)
}

// GetEnrollmentToken returns the enrollment token with id. Admin only.
func (c *Client) GetEnrollmentToken(ctx context.Context, id string) (*api.EnrollmentToken, error) {
	p, err := apiPath("/enrollment-tokens/%s", "enrollment token id", id)
	if err != nil {
		return nil, err
	}
	return call[api.EnrollmentToken](ctx, c, http.MethodGet, p, nil)
}

// RevokeEnrollmentToken revokes an enrollment token and returns it.
// Revoking a revoked token changes nothing. Admin only.
func (c *Client) RevokeEnrollmentToken(ctx context.Context, id string) (*api.EnrollmentToken, error) {
	p, err := apiPath("/enrollment-tokens/%s", "enrollment token id", id)
	if err != nil {
		return nil, err
	}
	return call[api.EnrollmentToken](ctx, c, http.MethodDelete, p, nil)
}
