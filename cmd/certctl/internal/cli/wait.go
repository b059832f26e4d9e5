package cli

// wait.go waits for certificates and jobs through the server's waiting
// reads (?wait=), and shows progress on stderr while it does: one line
// redrawn in place on a terminal, plain lines (one per change) otherwise,
// so that logs of scripts stay readable.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// What a certificate wait waits for (--for).
const (
	goalIssued   = "issued"   // a current version, no issuance or renewal under way
	goalDeployed = "deployed" // issued, and every deployment of the current version succeeded
	goalSettled  = "settled"  // no issuance, renewal or revocation under way, whatever the outcome
)

// waitChunk bounds each waiting read, so that progress is refreshed from
// the jobs at least this often.
const waitChunk = 5 * time.Second

// progress is the display of a wait.
type progress struct {
	w     io.Writer
	tty   bool
	start time.Time
	now   func() time.Time

	mu    sync.Mutex
	msg   string
	frame int
	stop  chan struct{}
	done  chan struct{}
}

var spinner = []string{"-", "\\", "|", "/"}

// newProgress starts a display on w; on a terminal a goroutine redraws it
// until finish.
func newProgress(w io.Writer, tty bool) *progress {
	p := &progress{w: w, tty: tty, start: time.Now(), now: time.Now}
	if tty {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go func() {
			defer close(p.done)
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-p.stop:
					return
				case <-t.C:
					p.mu.Lock()
					p.draw()
					p.mu.Unlock()
				}
			}
		}()
	}
	return p
}

// set shows msg: redrawn on a terminal, printed as a line when it changed
// otherwise.
func (p *progress) set(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	changed := msg != p.msg
	p.msg = msg
	if p.tty {
		p.draw()
		return
	}
	if changed {
		fmt.Fprintf(p.w, "%s (%s)\n", msg, p.elapsed())
	}
}

func (p *progress) elapsed() time.Duration {
	return p.now().Sub(p.start).Truncate(time.Second)
}

// draw rewrites the terminal line; p.mu is held.
func (p *progress) draw() {
	p.frame++
	fmt.Fprintf(p.w, "\r\x1b[K%s %s (%s)", spinner[p.frame%len(spinner)], p.msg, p.elapsed())
}

// finish ends the display with a last line.
func (p *progress) finish(msg string) {
	if p.tty {
		close(p.stop)
		<-p.done
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	fmt.Fprintf(p.w, "%s (%s)\n", msg, p.elapsed())
}

// newWaitProgress is a display on the invocation's stderr.
func (a *app) newWaitProgress() *progress {
	return newProgress(a.streams.Err, isTerminal(a.streams.Err))
}

var liveJobStates = []string{"queued", "running", "waiting", "retrying"}

func isLive(j api.Job) bool { return slices.Contains(liveJobStates, j.State) }

// liveJobs returns the live jobs of a certificate, oldest first.
func liveJobs(ctx context.Context, cl *client.Client, certID string) ([]api.Job, error) {
	l, err := cl.ListJobs(ctx, client.JobListOptions{CertificateID: certID, Limit: 50})
	if err != nil {
		return nil, err
	}
	var live []api.Job
	for _, j := range l.Items {
		if isLive(j) {
			live = append(live, j)
		}
	}
	slices.Reverse(live)
	return live, nil
}

// describeJob says where a job stands, in a few words.
func describeJob(j api.Job) string {
	s := j.Kind + " job " + j.State
	if j.Attempt > 1 {
		s += fmt.Sprintf(" (attempt %d/%d)", j.Attempt, j.MaxAttempts)
	}
	if j.WaitingFor != "" {
		s += ", waiting for " + j.WaitingFor
	}
	if j.LastError != "" && j.State == "retrying" {
		s += ": " + j.LastError
	}
	return s
}

// describeCertificate says where a certificate and its live jobs stand.
func describeCertificate(c *api.Certificate, jobs []api.Job, goal string) string {
	parts := []string{fmt.Sprintf("certificate %s: %s", c.Name, c.Status)}
	for _, j := range jobs {
		parts = append(parts, describeJob(j))
	}
	if goal == goalDeployed && c.DeploymentHealth.Total > 0 {
		h := c.DeploymentHealth
		parts = append(parts, fmt.Sprintf("deployments %d/%d succeeded", h.Succeeded, h.Total))
	}
	return strings.Join(parts, "; ")
}

// certificateReached says whether c has reached goal: done, or an error
// when it never will (a failed issuance or deployment, a revoked
// certificate), or neither while work is under way.
func certificateReached(c *api.Certificate, jobs []api.Job, goal string) (bool, error) {
	inFlight := slices.Contains([]string{"pending", "issuing", "renewing"}, c.Status) ||
		slices.ContainsFunc(jobs, func(j api.Job) bool { return j.Kind != "deploy" && j.Kind != "notify" })
	if inFlight {
		return false, nil
	}
	if goal == goalSettled {
		return true, nil
	}
	switch c.Status {
	case "active":
	case "failed":
		msg := fmt.Sprintf("certificate %s failed", c.Name)
		if c.LastError != "" {
			msg += ": " + c.LastError
		}
		return false, withCode(ExitFailed, errors.New(msg))
	default:
		return false, withCode(ExitFailed, fmt.Errorf("certificate %s is %s", c.Name, c.Status))
	}
	if goal == goalIssued {
		return true, nil
	}
	h := c.DeploymentHealth
	if h.Failed > 0 {
		return false, withCode(ExitFailed, fmt.Errorf("certificate %s: %d of %d deployments failed: %s", c.Name, h.Failed, h.Total, h.LastError))
	}
	return h.Pending == 0 && h.InProgress == 0, nil
}

// waitCertificate waits until the certificate reaches goal, for at most
// timeout, showing progress; it returns the certificate as last read.
func (a *app) waitCertificate(ctx context.Context, cl *client.Client, c *api.Certificate, goal string, timeout time.Duration) (*api.Certificate, error) {
	switch goal {
	case goalIssued, goalDeployed, goalSettled:
	default:
		return nil, usageErrorf("--for %q: use issued, deployed or settled", goal)
	}
	p := a.newWaitProgress()
	deadline := time.Now().Add(timeout)
	for {
		jobs, err := liveJobs(ctx, cl, c.ID)
		if err != nil {
			p.finish("certificate " + c.Name + ": stopped waiting")
			return c, err
		}
		done, err := certificateReached(c, jobs, goal)
		if !done && err == nil {
			p.set(describeCertificate(c, jobs, goal))
		}
		if err != nil {
			p.finish(describeCertificate(c, jobs, goal))
			return c, err
		}
		if done {
			p.finish(fmt.Sprintf("certificate %s: %s", c.Name, goalWord(goal, c)))
			return c, nil
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			p.finish(describeCertificate(c, jobs, goal))
			return c, withCode(ExitTimeout, fmt.Errorf("timed out after %s waiting for certificate %s to be %s (it is %s)",
				timeout, c.Name, goal, c.Status))
		}
		start := time.Now()
		next, err := cl.WaitCertificate(ctx, c.ID, min(remaining, waitChunk))
		if err != nil {
			p.finish("certificate " + c.Name + ": stopped waiting")
			return c, err
		}
		c = next
		// The server answers at once when nothing can progress (a
		// deployment whose agent is away): look again a little later
		// rather than at once.
		if time.Since(start) < time.Second {
			if err := sleepCtx(ctx, min(time.Second, time.Until(deadline))); err != nil {
				p.finish("certificate " + c.Name + ": stopped waiting")
				return c, err
			}
		}
	}
}

func goalWord(goal string, c *api.Certificate) string {
	switch goal {
	case goalIssued:
		return "issued"
	case goalDeployed:
		return "deployed"
	}
	return c.Status
}

// waitJob waits until the job ends, for at most timeout, showing
// progress. A job that failed or was cancelled is an ExitFailed error.
func (a *app) waitJob(ctx context.Context, cl *client.Client, j *api.Job, timeout time.Duration) (*api.Job, error) {
	p := a.newWaitProgress()
	deadline := time.Now().Add(timeout)
	for {
		if isLive(*j) {
			p.set(describeJob(*j))
		}
		switch j.State {
		case "succeeded":
			p.finish(describeJob(*j))
			return j, nil
		case "failed", "cancelled":
			p.finish(describeJob(*j))
			msg := fmt.Sprintf("%s job %s %s", j.Kind, j.ID, j.State)
			if j.LastError != "" {
				msg += ": " + j.LastError
			}
			return j, withCode(ExitFailed, errors.New(msg))
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			p.finish(describeJob(*j))
			return j, withCode(ExitTimeout, fmt.Errorf("timed out after %s waiting for %s job %s (it is %s)", timeout, j.Kind, j.ID, j.State))
		}
		start := time.Now()
		next, err := cl.WaitJob(ctx, j.ID, min(remaining, waitChunk))
		if err != nil {
			p.finish(describeJob(*j))
			return j, err
		}
		j = next
		if time.Since(start) < time.Second && isLive(*j) {
			if err := sleepCtx(ctx, min(time.Second, time.Until(deadline))); err != nil {
				p.finish(describeJob(*j))
				return j, err
			}
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
