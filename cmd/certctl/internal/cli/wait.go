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
	"sync"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// What a certificate wait waits for (--for): the SDK's conditions.
const (
	goalIssued   = string(client.WaitIssued)   // a current version, no issuance or renewal under way
	goalDeployed = string(client.WaitDeployed) // issued, and deployed to every target bound to it
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

// finish ends the display with msg as its last line ("" for the last
// message set); without a terminal a line already printed is not
// printed again.
func (p *progress) finish(msg string) {
	if p.tty {
		close(p.stop)
		<-p.done
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if msg == "" {
		msg = p.msg
	}
	if p.tty {
		fmt.Fprint(p.w, "\r\x1b[K")
	} else if msg == p.msg {
		return
	}
	if msg != "" {
		fmt.Fprintf(p.w, "%s (%s)\n", msg, p.elapsed())
	}
}

// newWaitProgress is a display on the invocation's stderr.
func (a *app) newWaitProgress() *progress {
	return newProgress(a.streams.Err, isTerminal(a.streams.Err))
}

var liveJobStates = []string{"queued", "running", "waiting", "retrying"}

func isLive(j api.Job) bool { return slices.Contains(liveJobStates, j.State) }

// describeJob says where a job stands, in a few words.
func describeJob(j api.Job) string {
	s := j.Kind + " job " + j.State
	if j.Attempt > 1 {
		s += fmt.Sprintf(" (attempt %d of %d)", j.Attempt, j.MaxAttempts)
	}
	if j.WaitingFor != "" {
		s += ", waiting for " + j.WaitingFor
	}
	if j.LastError != "" && j.State == "retrying" {
		s += ", last error: " + j.LastError
	}
	return s
}

// waitCertificate waits through the SDK until the certificate is issued
// or deployed (goal), for at most timeout, showing the SDK's progress
// messages; it returns the certificate as last seen. A certificate that
// cannot get there is ExitFailed; running out of time is ExitTimeout.
func (a *app) waitCertificate(ctx context.Context, cl *client.Client, c *api.Certificate, goal string, timeout time.Duration) (*api.Certificate, error) {
	if _, err := a.checkGoal(goal); err != nil {
		return c, err
	}
	p := a.newWaitProgress()
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last, err := cl.WaitForCertificate(wctx, c.ID, client.WaitOptions{
		Until:    client.WaitCondition(goal),
		Interval: waitChunk,
		Progress: func(ev client.WaitEvent) { p.set("certificate " + c.Name + ": " + ev.Message) },
	})
	p.finish("")
	if last == nil {
		last = c
	}
	var werr *client.WaitError
	switch {
	case err == nil:
		return last, nil
	case errors.As(err, &werr):
		return last, withCode(ExitFailed, fmt.Errorf("certificate %s will not be %s: %s", c.Name, goal, werr.Reason))
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return last, withCode(ExitTimeout, fmt.Errorf("timed out after %s waiting for certificate %s to be %s (it is %s)",
			timeout, c.Name, goal, last.Status))
	}
	return last, err
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
