package plugintesting

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Reply is one scripted answer of an HTTPServer.
type Reply struct {
	Status int               // 0 means 200
	Header map[string]string // e.g. Retry-After
	Body   string
	// Hang holds the answer back this long, or until the client gives up.
	Hang time.Duration
}

// Recorded is one request an HTTPServer received.
type Recorded struct {
	Method string
	Path   string // escaped path, as sent
	Header http.Header
	Body   []byte
}

// HTTPServer is a loopback HTTP server that answers with a script of
// replies (the last one repeats) and records every request.
type HTTPServer struct {
	URL string

	mu       sync.Mutex
	replies  []Reply
	requests []Recorded
}

// NewHTTPServer starts a server answering with replies in turn; it stops
// when the test ends.
func NewHTTPServer(t testing.TB, replies ...Reply) *HTTPServer {
	t.Helper()
	if len(replies) == 0 {
		replies = []Reply{{}}
	}
	s := &HTTPServer{replies: replies}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	s.URL = srv.URL
	return s
}

func (s *HTTPServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	s.mu.Lock()
	n := len(s.requests)
	s.requests = append(s.requests, Recorded{Method: r.Method, Path: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: body})
	reply := s.replies[min(n, len(s.replies)-1)]
	s.mu.Unlock()
	if reply.Hang > 0 {
		t := time.NewTimer(reply.Hang)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
	}
	for k, v := range reply.Header {
		w.Header().Set(k, v)
	}
	status := reply.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	io.WriteString(w, reply.Body)
}

// Requests returns the requests received so far.
func (s *HTTPServer) Requests() []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Recorded(nil), s.requests...)
}

// Last returns the last request received, failing the test if none came.
func (s *HTTPServer) Last(t testing.TB) Recorded {
	t.Helper()
	reqs := s.Requests()
	if len(reqs) == 0 {
		t.Fatal("the server received no request")
	}
	return reqs[len(reqs)-1]
}
