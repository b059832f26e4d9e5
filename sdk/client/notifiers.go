package client

// notifiers.go: notifiers, the configured notification connectors
// (/api/v1/notifiers).

import (
	"context"
	"iter"
	"net/http"

	"github.com/certctl/certctl/sdk/api"
)

// NotifierListOptions filter and page ListNotifiers.
type NotifierListOptions struct {
	Type   string // the plugin name, e.g. "webhook"
	Limit  int
	Cursor string
}

// ListNotifiers returns a page of notifiers, oldest first.
func (c *Client) ListNotifiers(ctx context.Context, opts NotifierListOptions) (api.List[api.Notifier], error) {
	q := ListOptions{Limit: opts.Limit, Cursor: opts.Cursor}.values()
	setString(q, "type", opts.Type)
	return listPage[api.Notifier](ctx, c, "/api/v1/notifiers", q)
}

// AllNotifiers iterates over every notifier that opts select, page by page.
func (c *Client) AllNotifiers(ctx context.Context, opts NotifierListOptions) iter.Seq2[api.Notifier, error] {
	return pager(ctx, opts.Cursor, func(cursor string) (api.List[api.Notifier], error) {
		opts.Cursor = cursor
		return c.ListNotifiers(ctx, opts)
	})
}

// CreateNotifier creates a notifier; Enabled nil means enabled.
func (c *Client) CreateNotifier(ctx context.Context, req api.NotifierRequest) (*api.Notifier, error) {
	return call[api.Notifier](ctx, c, http.MethodPost, "/api/v1/notifiers", req)
}

// GetNotifier returns the notifier with id.
func (c *Client) GetNotifier(ctx context.Context, id string) (*api.Notifier, error) {
	p, err := apiPath("/notifiers/%s", "notifier id", id)
	if err != nil {
		return nil, err
	}
	return call[api.Notifier](ctx, c, http.MethodGet, p, nil)
}

// UpdateNotifier updates a notifier. Config is merged as in UpdateIssuer;
// Enabled nil keeps its value.
func (c *Client) UpdateNotifier(ctx context.Context, id string, req api.NotifierRequest) (*api.Notifier, error) {
	p, err := apiPath("/notifiers/%s", "notifier id", id)
	if err != nil {
		return nil, err
	}
	return call[api.Notifier](ctx, c, http.MethodPut, p, req)
}

// DeleteNotifier deletes a notifier and the notification rules that use it.
func (c *Client) DeleteNotifier(ctx context.Context, id string) error {
	p, err := apiPath("/notifiers/%s", "notifier id", id)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: p}, nil)
}

// TestNotifier sends a test notification through a notifier, enabled or
// not. A refusal by the receiver is IsInvalid; a failure worth retrying
// later (network, timeout, rate limit) is IsUnavailable. It is a POST and
// is not retried on 503, so that one call sends at most one test.
func (c *Client) TestNotifier(ctx context.Context, id string) (*api.NotifierTestResult, error) {
	p, err := apiPath("/notifiers/%s/test", "notifier id", id)
	if err != nil {
		return nil, err
	}
	return call[api.NotifierTestResult](ctx, c, http.MethodPost, p, nil)
}
