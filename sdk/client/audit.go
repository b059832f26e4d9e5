package client

// audit.go: the audit trail (/api/v1/audit-events).

import (
	"context"
	"iter"
	"time"

	"github.com/certctl/certctl/sdk/api"
)

// AuditEventListOptions filter and page ListAuditEvents. Filters combine
// with AND; zero values are ignored.
type AuditEventListOptions struct {
	Actor        string    // the id of an API key or agent, or "system"
	Action       string    // e.g. certificate.create
	ResourceType string    // e.g. certificate
	ResourceID   string    // e.g. a certificate's id, or "<kind>/<name>" of a plugin
	Outcome      string    // success, failure, denied
	Since        time.Time // at or after
	Until        time.Time // before
	Limit        int
	Cursor       string
}

// ListAuditEvents returns a page of audit events, newest first.
func (c *Client) ListAuditEvents(ctx context.Context, opts AuditEventListOptions) (api.List[api.AuditEvent], error) {
	q := ListOptions{Limit: opts.Limit, Cursor: opts.Cursor}.values()
	setString(q, "actor", opts.Actor)
	setString(q, "action", opts.Action)
	setString(q, "resource_type", opts.ResourceType)
	setString(q, "resource_id", opts.ResourceID)
	setString(q, "outcome", opts.Outcome)
	setTime(q, "since", opts.Since)
	setTime(q, "until", opts.Until)
	return listPage[api.AuditEvent](ctx, c, "/api/v1/audit-events", q)
}

// AllAuditEvents iterates over every audit event that opts select, newest
// first.
func (c *Client) AllAuditEvents(ctx context.Context, opts AuditEventListOptions) iter.Seq2[api.AuditEvent, error] {
	return pager(ctx, opts.Cursor, func(cursor string) (api.List[api.AuditEvent], error) {
		opts.Cursor = cursor
		return c.ListAuditEvents(ctx, opts)
	})
}
