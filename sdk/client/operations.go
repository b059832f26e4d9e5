package client

// operations.go: durable bulk operations (/api/v1/operations), such as the
// re-issue of every certificate a filter selects on a CA-distrust day.

import (
	"context"
	"iter"
	"net/http"
	"time"

	"github.com/certctl/certctl/sdk/api"
)

// ReissueCertificates starts a background operation that re-issues (and
// so redeploys) every certificate the filter in req selects, moved first
// to req.ToIssuerID when set. It returns the operation at once; follow it
// with GetOperation or WaitOperation.
func (c *Client) ReissueCertificates(ctx context.Context, req api.ReissueRequest) (*api.Operation, error) {
	return call[api.Operation](ctx, c, http.MethodPost, "/api/v1/certificates/reissue", req)
}

// OperationListOptions filter and page ListOperations.
type OperationListOptions struct {
	Status string // running, done, cancelled, failed
	Limit  int
	Cursor string
}

// ListOperations returns a page of bulk operations, newest first, without
// their job counts (GetOperation has them).
func (c *Client) ListOperations(ctx context.Context, opts OperationListOptions) (api.List[api.Operation], error) {
	q := ListOptions{Limit: opts.Limit, Cursor: opts.Cursor}.values()
	setString(q, "status", opts.Status)
	return listPage[api.Operation](ctx, c, "/api/v1/operations", q)
}

// AllOperations iterates over every bulk operation opts select, newest first.
func (c *Client) AllOperations(ctx context.Context, opts OperationListOptions) iter.Seq2[api.Operation, error] {
	return pager(ctx, opts.Cursor, func(cursor string) (api.List[api.Operation], error) {
		opts.Cursor = cursor
		return c.ListOperations(ctx, opts)
	})
}

// GetOperation returns a bulk operation with its progress.
func (c *Client) GetOperation(ctx context.Context, id string) (*api.Operation, error) {
	p, err := apiPath("/operations/%s", "operation id", id)
	if err != nil {
		return nil, err
	}
	return call[api.Operation](ctx, c, http.MethodGet, p, nil)
}

// CancelOperation stops a running operation from starting more
// issuances; the jobs it started run on.
func (c *Client) CancelOperation(ctx context.Context, id string) (*api.Operation, error) {
	p, err := apiPath("/operations/%s/cancel", "operation id", id)
	if err != nil {
		return nil, err
	}
	return call[api.Operation](ctx, c, http.MethodPost, p, nil)
}

// WaitOperation reads the operation every interval (1s when 0) until it
// is no longer running or ctx ends, calling progress (when not nil) with
// each reading, and returns the last.
func (c *Client) WaitOperation(ctx context.Context, id string, interval time.Duration, progress func(*api.Operation)) (*api.Operation, error) {
	if interval <= 0 {
		interval = time.Second
	}
	for {
		o, err := c.GetOperation(ctx, id)
		if err != nil {
			return o, err
		}
		if progress != nil {
			progress(o)
		}
		if o.Status != "running" {
			return o, nil
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return o, ctx.Err()
		case <-t.C:
		}
	}
}
