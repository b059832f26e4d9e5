package httpapi

// wait.go: ?wait=<duration> on reads of one job or certificate, which
// answer once the resource is settled or the wait is over.

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

// writeSlack is what an answer may take to be written after a wait ends.
const writeSlack = 15 * time.Second

// queryWait reads ?wait=: a Go duration from 0s to service.MaxWait.
func queryWait(r *http.Request) (time.Duration, error) {
	raw := r.URL.Query().Get("wait")
	if raw == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d < 0 || d > service.MaxWait {
		return 0, core.Invalid("wait", "%q is not a duration from 0s to %s (e.g. 30s)", raw, service.MaxWait)
	}
	return d, nil
}

// prepareWait makes room for a wait of d in the answer to r: it moves the
// connection's write deadline (the server's WriteTimeout counts from the
// request's arrival, and a wait may be as long) past the wait's end, and
// subscribes to the database's announcements about id. Where the deadline
// cannot move, the wait is shortened to fit under the server's write
// timeout, as the agents' long poll is. Call stop when done.
func (s *Server) prepareWait(w http.ResponseWriter, id uuid.UUID, d time.Duration) (wait time.Duration, changed <-chan struct{}, stop func()) {
	stop = func() {}
	if d <= 0 {
		return 0, nil, stop
	}
	if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d + writeSlack)); err != nil {
		d = min(d, maxAgentWait)
	}
	if s.hub != nil {
		changed, stop = s.hub.Subscribe(id)
	}
	return d, changed, stop
}

// Unwrap gives http.ResponseController the connection's own writer, so
// that a handler can move its write deadline (see prepareWait).
func (r *statusRecorder) Unwrap() http.ResponseWriter {
	return r.ResponseWriter
}
