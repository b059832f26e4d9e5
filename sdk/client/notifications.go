package client

// notifications.go: notification rules, which route lifecycle events to
// notifiers (/api/v1/notification-rules), and the notifications they made
// (/api/v1/notifications).

import (
	"context"
	"iter"
	"net/http"

	"github.com/certctl/certctl/sdk/api"
)

// ListNotificationRules returns a page of notification rules, oldest first.
func (c *Client) ListNotificationRules(ctx context.Context, opts ListOptions) (api.List[api.NotificationRule], error) {
	return listPage[api.NotificationRule](ctx, c, "/api/v1/notification-rules", opts.values())
}

// AllNotificationRules iterates over every notification rule.
func (c *Client) AllNotificationRules(ctx context.Context, opts ListOptions) iter.Seq2[api.NotificationRule, error] {
	return pager(ctx, opts.Cursor, func(cursor string) (api.List[api.NotificationRule], error) {
		opts.Cursor = cursor
		return c.ListNotificationRules(ctx, opts)
	})
}

// CreateNotificationRule creates a notification rule.
func (c *Client) CreateNotificationRule(ctx context.Context, req api.NotificationRuleRequest) (*api.NotificationRule, error) {
	return call[api.NotificationRule](ctx, c, http.MethodPost, "/api/v1/notification-rules", req)
}

// GetNotificationRule returns the notification rule with id.
func (c *Client) GetNotificationRule(ctx context.Context, id string) (*api.NotificationRule, error) {
	p, err := apiPath("/notification-rules/%s", "notification rule id", id)
	if err != nil {
		return nil, err
	}
	return call[api.NotificationRule](ctx, c, http.MethodGet, p, nil)
}

// UpdateNotificationRule replaces a notification rule; Enabled nil keeps
// its value.
func (c *Client) UpdateNotificationRule(ctx context.Context, id string, req api.NotificationRuleRequest) (*api.NotificationRule, error) {
	p, err := apiPath("/notification-rules/%s", "notification rule id", id)
	if err != nil {
		return nil, err
	}
	return call[api.NotificationRule](ctx, c, http.MethodPut, p, req)
}

// DeleteNotificationRule deletes a notification rule; the notifications it
// routed stay.
func (c *Client) DeleteNotificationRule(ctx context.Context, id string) error {
	p, err := apiPath("/notification-rules/%s", "notification rule id", id)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: p}, nil)
}

// NotificationListOptions filter and page ListNotifications.
type NotificationListOptions struct {
	Status        string // pending, sent, retrying, dead, no_notifier
	Event         string // e.g. certificate.expiring
	CertificateID string
	Limit         int
	Cursor        string
}

// ListNotifications returns a page of notifications, newest first.
func (c *Client) ListNotifications(ctx context.Context, opts NotificationListOptions) (api.List[api.Notification], error) {
	q := ListOptions{Limit: opts.Limit, Cursor: opts.Cursor}.values()
	setString(q, "status", opts.Status)
	setString(q, "event", opts.Event)
	setString(q, "certificate_id", opts.CertificateID)
	return listPage[api.Notification](ctx, c, "/api/v1/notifications", q)
}

// AllNotifications iterates over every notification that opts select,
// newest first.
func (c *Client) AllNotifications(ctx context.Context, opts NotificationListOptions) iter.Seq2[api.Notification, error] {
	return pager(ctx, opts.Cursor, func(cursor string) (api.List[api.Notification], error) {
		opts.Cursor = cursor
		return c.ListNotifications(ctx, opts)
	})
}
