package client

// pages.go holds what every list shares: the page parameters and the
// iterator that walks the pages.

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"time"

	"github.com/certctl/certctl/sdk/api"
)

// ListOptions are the page parameters of a list without filters.
type ListOptions struct {
	// Limit is the page size, 1 to 500; 0 means the server's default (50).
	Limit int
	// Cursor continues a list where a page's NextCursor left it; empty
	// asks for the first page.
	Cursor string
}

func (o ListOptions) values() url.Values {
	q := url.Values{}
	setPage(q, o.Limit, o.Cursor)
	return q
}

func setPage(q url.Values, limit int, cursor string) {
	if limit != 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	setString(q, "cursor", cursor)
}

func setString(q url.Values, name, v string) {
	if v != "" {
		q.Set(name, v)
	}
}

func setTime(q url.Values, name string, t time.Time) {
	if !t.IsZero() {
		q.Set(name, t.UTC().Format(time.RFC3339Nano))
	}
}

// All walks a list page by page and yields its items in order. page fetches
// the page at cursor ("" for the first). Iteration stops after the last page
// (NextCursor nil or empty), when the loop body stops, or at the first error,
// which is yielded once with the zero T.
//
//	for c, err := range client.All(ctx, func(cursor string) (api.List[api.Certificate], error) {
//		return cl.ListCertificates(ctx, client.CertificateListOptions{Limit: 500, Cursor: cursor})
//	}) { ... }
func All[T any](ctx context.Context, page func(cursor string) (api.List[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		cursor := ""
		seen := map[string]bool{}
		for {
			if err := ctx.Err(); err != nil {
				yield(zero, err)
				return
			}
			l, err := page(cursor)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, it := range l.Items {
				if !yield(it, nil) {
					return
				}
			}
			if l.NextCursor == nil || *l.NextCursor == "" {
				return
			}
			next := *l.NextCursor
			if seen[next] {
				// A server that hands out a cursor twice would loop forever.
				yield(zero, fmt.Errorf("certctl client: list returned cursor %q twice", next))
				return
			}
			seen[next] = true
			cursor = next
		}
	}
}

// Collect gathers every item of an iterator from All into a slice, and
// stops at the first error.
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for it, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, it)
	}
	return out, nil
}

// pager is All for the list methods: the first page starts at the options'
// own cursor, later pages at the cursor the previous one returned.
func pager[T any](ctx context.Context, start string, list func(cursor string) (api.List[T], error)) iter.Seq2[T, error] {
	return All(ctx, func(cursor string) (api.List[T], error) {
		if cursor == "" {
			cursor = start
		}
		return list(cursor)
	})
}

// listPage fetches one page of the list at path.
func listPage[T any](ctx context.Context, c *Client, path string, q url.Values) (api.List[T], error) {
	var l api.List[T]
	if err := c.do(ctx, request{method: "GET", path: path, query: q}, &l); err != nil {
		return api.List[T]{}, err
	}
	if l.Items == nil {
		l.Items = []T{}
	}
	return l, nil
}

// call makes a JSON call and returns its decoded reply.
func call[T any](ctx context.Context, c *Client, method, path string, body any) (*T, error) {
	out := new(T)
	if err := c.do(ctx, request{method: method, path: path, body: body}, out); err != nil {
		return nil, err
	}
	return out, nil
}
