package client

// jobs.go: durable jobs (issue, renew, revoke, deploy, notify), and the
// CSR an agent key mode issuance waits for (/api/v1/jobs).

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"time"

	"github.com/certctl/certctl/sdk/api"
)

// JobListOptions filter and page ListJobs.
type JobListOptions struct {
	Kind          string // issue, renew, revoke, deploy, notify
	State         string // queued, running, waiting, retrying, succeeded, failed, cancelled
	CertificateID string // jobs about this certificate
	Limit         int
	Cursor        string
}

// ListJobs returns a page of jobs, newest first.
func (c *Client) ListJobs(ctx context.Context, opts JobListOptions) (api.List[api.Job], error) {
	q := ListOptions{Limit: opts.Limit, Cursor: opts.Cursor}.values()
	setString(q, "kind", opts.Kind)
	setString(q, "state", opts.State)
	setString(q, "certificate_id", opts.CertificateID)
	return listPage[api.Job](ctx, c, "/api/v1/jobs", q)
}

// AllJobs iterates over every job that opts select, newest first.
func (c *Client) AllJobs(ctx context.Context, opts JobListOptions) iter.Seq2[api.Job, error] {
	return pager(ctx, opts.Cursor, func(cursor string) (api.List[api.Job], error) {
		opts.Cursor = cursor
		return c.ListJobs(ctx, opts)
	})
}

// GetJob returns the job with id.
func (c *Client) GetJob(ctx context.Context, id string) (*api.Job, error) {
	p, err := apiPath("/jobs/%s", "job id", id)
	if err != nil {
		return nil, err
	}
	return call[api.Job](ctx, c, http.MethodGet, p, nil)
}

// MaxWait is the longest wait WaitJob and WaitCertificate may ask for.
const MaxWait = 60 * time.Second

// WaitJob returns the job with id once it is settled (succeeded, failed or
// cancelled), or when d is over, whichever comes first: the server answers
// with the current state either way, and a job still live says in
// WaitingFor what holds it up. d is at most MaxWait; 0 answers at once,
// like GetJob.
func (c *Client) WaitJob(ctx context.Context, id string, d time.Duration) (*api.Job, error) {
	p, err := apiPath("/jobs/%s", "job id", id)
	if err != nil {
		return nil, err
	}
	q, err := waitQuery(d)
	if err != nil {
		return nil, err
	}
	out := new(api.Job)
	if err := c.do(ctx, request{method: http.MethodGet, path: p, query: q, wait: d}, out); err != nil {
		return nil, err
	}
	return out, nil
}

// waitQuery is the query of a read that waits up to d.
func waitQuery(d time.Duration) (url.Values, error) {
	if d < 0 || d > MaxWait {
		return nil, fmt.Errorf("certctl client: wait %s is not from 0s to %s", d, MaxWait)
	}
	q := url.Values{}
	if d > 0 {
		q.Set("wait", d.String())
	}
	return q, nil
}

// CancelJob stops a live job; a job in any other state is a conflict.
func (c *Client) CancelJob(ctx context.Context, id string) (*api.Job, error) {
	p, err := apiPath("/jobs/%s/cancel", "job id", id)
	if err != nil {
		return nil, err
	}
	return call[api.Job](ctx, c, http.MethodPost, p, nil)
}

// RetryJob runs a failed or cancelled job again from its first attempt.
func (c *Client) RetryJob(ctx context.Context, id string) (*api.Job, error) {
	p, err := apiPath("/jobs/%s/retry", "job id", id)
	if err != nil {
		return nil, err
	}
	return call[api.Job](ctx, c, http.MethodPost, p, nil)
}

// SubmitCSR hands a waiting issuance job the certificate request its
// agent made (PEM, "CERTIFICATE REQUEST"); the job is then queued. A CSR
// that does not match the declaration is IsInvalid with Field "csr_pem"; a
// job that does not wait for one is a conflict.
func (c *Client) SubmitCSR(ctx context.Context, jobID string, csrPEM []byte) (*api.Job, error) {
	p, err := apiPath("/jobs/%s/csr", "job id", jobID)
	if err != nil {
		return nil, err
	}
	return call[api.Job](ctx, c, http.MethodPost, p, api.CSRRequest{CSRPEM: string(csrPEM)})
}
