package client

// wait.go: waiting until a certificate is issued or deployed, the way a
// person at a terminal or a Terraform apply waits: bounded by the context,
// told of every change along the way, and stopped early with the reason
// when the certificate cannot get there.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/sdk/api"
)

// WaitCondition is what WaitForCertificate waits for.
type WaitCondition string

const (
	// WaitIssued: the certificate has a current version (another than
	// WaitOptions.AfterVersionID) and no issuance or renewal of it is
	// under way.
	WaitIssued WaitCondition = "issued"
	// WaitDeployed: issued, and the current version is deployed to every
	// target bound to it (at once when it has none).
	WaitDeployed WaitCondition = "deployed"
)

// DefaultWaitInterval is how long one server-side wait of
// WaitForCertificate lasts unless WaitOptions.Interval says otherwise.
const DefaultWaitInterval = 5 * time.Second

// WaitOptions adjust WaitForCertificate.
type WaitOptions struct {
	// Until is the condition to reach; "" means WaitIssued.
	Until WaitCondition
	// AfterVersionID, when set, waits for a version other than this one:
	// pass the current version before renewing to wait for the renewal.
	AfterVersionID string
	// Progress, when set, is called from the waiting goroutine with the
	// state first seen and then with every change: the certificate's
	// status, its live jobs (state, attempt, what they wait for) and its
	// deployments.
	Progress func(WaitEvent)
	// Interval bounds each read the server holds until the certificate
	// settles (0 means DefaultWaitInterval; at most MaxWait): progress is
	// seen at least this often.
	Interval time.Duration
}

// WaitEvent is the state of a certificate being waited for.
type WaitEvent struct {
	Certificate api.Certificate
	// Jobs are the certificate's live jobs (issue, renew, revoke, deploy),
	// newest first.
	Jobs []api.Job
	// Message says the state in one line, for people.
	Message string
}

// WaitError says a certificate cannot reach the condition waited for: its
// issuance failed, it was revoked or expired, or a deployment failed and
// nothing retries it. Certificate is its last state.
type WaitError struct {
	Certificate *api.Certificate
	Until       WaitCondition
	Reason      string
}

func (e *WaitError) Error() string {
	return fmt.Sprintf("certctl client: certificate %s will not be %s: %s", e.Certificate.Name, e.Until, e.Reason)
}

// liveJobStates are the states of a job that is not over.
var liveJobStates = []string{"queued", "running", "waiting", "retrying"}

// WaitForCertificate waits until the certificate with id meets
// opts.Until, and returns it. It returns a *WaitError as soon as the
// certificate cannot get there, and the last state seen with the
// context's error when ctx ends first: bound it with a deadline. A job
// that waits on an offline agent is not a failure (the agent may come
// back); Progress says what it waits for.
func (c *Client) WaitForCertificate(ctx context.Context, id string, opts WaitOptions) (*api.Certificate, error) {
	until := opts.Until
	if until == "" {
		until = WaitIssued
	}
	if until != WaitIssued && until != WaitDeployed {
		return nil, fmt.Errorf("certctl client: wait until %q: must be %q or %q", until, WaitIssued, WaitDeployed)
	}
	interval := opts.Interval
	if interval == 0 {
		interval = DefaultWaitInterval
	}
	if interval < 0 || interval > MaxWait {
		return nil, fmt.Errorf("certctl client: wait interval %s is not from 0s to %s", interval, MaxWait)
	}
	var last *api.Certificate
	lastMessage := ""
	idle := 0 // reads in a row that the server answered at once with nothing new
	for {
		start := time.Now()
		// The first read answers at once, so that Progress hears the
		// state before anything else happens.
		d := interval
		if last == nil {
			d = 0
		}
		cert, err := c.WaitCertificate(ctx, id, d)
		if err != nil {
			return c.waitFailed(ctx, last, until, err)
		}
		// Read the certificate again after its jobs: a job that ended
		// between the two reads is then seen in the certificate (a new
		// version), never missed by both. When the certificate changed
		// in between, read both again (a few times at most), so that the
		// state shown is not an ended job beside its outcome ("active;
		// issue job running").
		var jobs []api.Job
		for range 3 {
			before := cert
			if jobs, err = c.liveJobs(ctx, id); err != nil {
				return c.waitFailed(ctx, before, until, err)
			}
			if cert, err = c.GetCertificate(ctx, id); err != nil {
				return c.waitFailed(ctx, last, until, err)
			}
			if cert.Status == before.Status && cert.UpdatedAt.Equal(before.UpdatedAt) {
				break
			}
		}
		last = cert
		done, reason := waitState(cert, jobs, until, opts.AfterVersionID)
		msg := waitMessage(cert, jobs, until, done, reason)
		if msg != lastMessage {
			idle = 0
			lastMessage = msg
			if opts.Progress != nil {
				opts.Progress(WaitEvent{Certificate: *cert, Jobs: jobs, Message: msg})
			}
		}
		switch {
		case done:
			return cert, nil
		case reason != "":
			return cert, &WaitError{Certificate: cert, Until: until, Reason: reason}
		}
		// The server answers at once while the certificate is settled
		// but not done (a deployment waiting on an offline agent): pause
		// between such reads, longer while nothing changes.
		if d > 0 && time.Since(start) < d/2 {
			idle++
			pause := min(time.Duration(idle)*time.Second, interval)
			t := time.NewTimer(pause)
			select {
			case <-ctx.Done():
				t.Stop()
				return c.waitFailed(ctx, last, until, ctx.Err())
			case <-t.C:
			}
		}
	}
}

// waitFailed ends a wait on err, with the last state seen.
func (c *Client) waitFailed(ctx context.Context, last *api.Certificate, until WaitCondition, err error) (*api.Certificate, error) {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%v)", ctxErr, err)
	}
	if last != nil {
		return last, fmt.Errorf("certctl client: wait for certificate %s to be %s: %w", last.Name, until, err)
	}
	return nil, fmt.Errorf("certctl client: wait for certificate: %w", err)
}

// liveJobs returns the certificate's live jobs, newest first.
func (c *Client) liveJobs(ctx context.Context, certificateID string) ([]api.Job, error) {
	var out []api.Job
	for _, state := range liveJobStates {
		for j, err := range c.AllJobs(ctx, JobListOptions{CertificateID: certificateID, State: state, Limit: 100}) {
			if err != nil {
				return nil, err
			}
			if j.Kind != "notify" {
				out = append(out, j)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b api.Job) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

// waitState says whether cert meets until (done), or why it cannot
// (reason), or neither (keep waiting).
func waitState(cert *api.Certificate, jobs []api.Job, until WaitCondition, afterVersion string) (done bool, reason string) {
	// A live revocation is waited out too: it ends in "revoked".
	issuing := slices.ContainsFunc(jobs, func(j api.Job) bool { return j.Kind == "issue" || j.Kind == "renew" || j.Kind == "revoke" })
	deploying := slices.ContainsFunc(jobs, func(j api.Job) bool { return j.Kind == "deploy" })
	newVersion := cert.CurrentVersionID != nil && *cert.CurrentVersionID != afterVersion
	switch {
	case cert.Status == "revoked":
		return false, "it is revoked"
	case issuing, cert.Status == "issuing", cert.Status == "renewing":
		// The status says an issuance is under way even when its job was
		// not in the list (it moved between states while it was read):
		// the certificate is not settled, whatever its current version.
		return false, ""
	case cert.Status == "failed":
		if cert.LastError != "" {
			return false, "its issuance failed: " + cert.LastError
		}
		return false, "its issuance failed"
	case cert.Status == "expired":
		return false, "it expired and no renewal is under way"
	case !newVersion:
		if cert.CurrentVersionID != nil {
			return false, "no renewal is under way (it still has version " + *cert.CurrentVersionID + ")"
		}
		// Not issued and nothing under way: a certificate just declared
		// whose job is not listed yet, or one whose issuance was
		// cancelled. Keep waiting; the caller's deadline bounds it.
		return false, ""
	case until == WaitIssued:
		return true, ""
	}
	h := cert.DeploymentHealth
	switch {
	case h.Succeeded == h.Total && !deploying:
		return true, ""
	case h.Failed > 0 && !deploying:
		if h.LastError != "" {
			return false, h.LastError
		}
		return false, fmt.Sprintf("%d of %d deployments failed", h.Failed, h.Total)
	}
	return false, ""
}

// waitMessage describes the state in one line.
func waitMessage(cert *api.Certificate, jobs []api.Job, until WaitCondition, done bool, reason string) string {
	var b strings.Builder
	b.WriteString(cert.Status)
	if cert.CurrentVersionID != nil && (until == WaitDeployed || done) {
		h := cert.DeploymentHealth
		if h.Total > 0 {
			fmt.Fprintf(&b, "; deployed to %d of %d targets", h.Succeeded, h.Total)
			if n := h.Pending + h.InProgress; n > 0 {
				fmt.Fprintf(&b, " (%d under way)", n)
			}
			if h.Failed > 0 {
				fmt.Fprintf(&b, " (%d failed)", h.Failed)
			}
		}
	}
	for _, j := range jobs {
		fmt.Fprintf(&b, "; %s job %s", j.Kind, j.State)
		if j.MaxAttempts > 1 && j.Attempt > 0 {
			fmt.Fprintf(&b, " (attempt %d of %d)", j.Attempt, j.MaxAttempts)
		}
		if j.WaitingFor != "" {
			fmt.Fprintf(&b, ", waiting for %s", j.WaitingFor)
		}
		if j.LastError != "" && j.State == "retrying" {
			fmt.Fprintf(&b, ", last error: %s", j.LastError)
		}
	}
	switch {
	case done:
		fmt.Fprintf(&b, "; %s", until)
	case reason != "":
		fmt.Fprintf(&b, "; will not be %s: %s", until, reason)
	}
	return b.String()
}
