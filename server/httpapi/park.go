package httpapi

// park.go: agents' long polls for work wait off net/http's connection
// goroutine. net/http serves each connection on a goroutine of its own,
// plus one that watches the connection while a handler runs, with their
// stacks, buffers and request state: about 60 KiB per waiting poll, which
// with thousands of agents was most of the server's memory. A poll that
// found no work is instead taken from net/http (hijacked), its
// connection kept with a few hundred bytes of state (service.WorkWait,
// woken by the hub or a timer, with no goroutine), and answered when work
// comes or the wait ends; the connection then goes back to net/http
// through the listener (Listener) for the agent's next request, so that
// agents see an ordinary keep-alive HTTP/1.1 exchange. Where the
// connection cannot be taken (HTTP/2, HTTP/1.0, a listener that cannot
// take it back), the poll waits on its goroutine as before.

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

// Listener returns what to serve the API on: ln, with TLS when tlsConfig
// is not nil (HTTP/2 offered, as http.Server.ServeTLS does: serve it with
// Serve, not ServeTLS), able to take back the connections of answered long
// polls. idleTimeout is the http.Server's IdleTimeout: how long a
// connection given back waits for its next request, as any kept-alive
// connection does. Call it at most once per Server.
func (s *Server) Listener(ln net.Listener, tlsConfig *tls.Config, idleTimeout time.Duration) net.Listener {
	raw := &keepListener{Listener: ln, idle: idleTimeout}
	var inner net.Listener = raw
	if tlsConfig != nil {
		cfg := tlsConfig.Clone()
		if !slices.Contains(cfg.NextProtos, "h2") {
			cfg.NextProtos = append(cfg.NextProtos, "h2")
		}
		if !slices.Contains(cfg.NextProtos, "http/1.1") {
			cfg.NextProtos = append(cfg.NextProtos, "http/1.1")
		}
		inner = tls.NewListener(raw, cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pl := &parkListener{Listener: inner, accepted: make(chan acceptResult), back: make(chan net.Conn),
		closed: make(chan struct{}), ctx: ctx, cancel: cancel}
	s.parking = pl
	return pl
}

// parkListener accepts new connections and those given back by answered
// polls; closing it (http.Server.Shutdown does) ends every parked poll.
type parkListener struct {
	net.Listener
	accepted  chan acceptResult
	back      chan net.Conn
	closed    chan struct{}
	closeOnce sync.Once
	pumpOnce  sync.Once
	// ctx ends when the listener closes: parked polls answer at once (with
	// no work) and close their connections.
	ctx    context.Context
	cancel context.CancelFunc
}

type acceptResult struct {
	c   net.Conn
	err error
}

func (l *parkListener) Accept() (net.Conn, error) {
	l.pumpOnce.Do(func() { go l.pump() })
	select {
	case c := <-l.back:
		return c, nil
	case a := <-l.accepted:
		return a.c, a.err
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// pump hands the inner listener's connections (and errors, which net/http
// backs off from) to Accept, one at a time.
func (l *parkListener) pump() {
	for {
		c, err := l.Listener.Accept()
		select {
		case l.accepted <- acceptResult{c, err}:
		case <-l.closed:
			if c != nil {
				c.Close()
			}
			return
		}
		if errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

func (l *parkListener) Close() error {
	l.closeOnce.Do(func() {
		close(l.closed)
		l.cancel()
	})
	return l.Listener.Close()
}

// giveBack returns an answered poll's connection to net/http, which reads
// the agent's next request from it; closed when the listener is.
func (l *parkListener) giveBack(c net.Conn) {
	kc, _ := c.(*keepConn)
	if tc, ok := c.(*tls.Conn); ok {
		kc, _ = tc.NetConn().(*keepConn)
	}
	if kc != nil {
		kc.givenBack()
	}
	select {
	case l.back <- c:
	case <-l.closed:
		c.Close()
	}
}

// keepListener wraps each accepted connection in a keepConn.
type keepListener struct {
	net.Listener
	idle time.Duration
}

func (l *keepListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &keepConn{Conn: c, idle: l.idle}, nil
}

// keepConn lets a connection given back wait for the agent's next request
// as long as a kept-alive one does: net/http takes it for a new
// connection, whose first request must arrive within ReadHeaderTimeout,
// and an agent may well reuse it later than that (a heartbeat 30 s on).
// Until the next request's first bytes arrive, read deadlines are pushed
// to the idle timeout.
type keepConn struct {
	net.Conn
	idle  time.Duration
	until atomic.Int64 // while waiting after given back: the idle deadline (Unix ns); 0 otherwise
}

func (c *keepConn) givenBack() {
	if c.idle > 0 {
		c.until.Store(time.Now().Add(c.idle).UnixNano())
	}
}

func (c *keepConn) SetReadDeadline(t time.Time) error {
	if u := c.until.Load(); u != 0 && !t.IsZero() && t.UnixNano() < u {
		t = time.Unix(0, u)
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *keepConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

func (c *keepConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && c.until.Load() != 0 {
		c.until.Store(0)
	}
	return n, err
}

// CloseWrite lets net/http close a TCP connection's sending side first,
// as it does with a bare *net.TCPConn.
func (c *keepConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// parkedPoll is what a parked poll keeps of its request, to answer it.
type parkedPoll struct {
	conn   net.Conn
	method string
	path   string
	remote string
	start  time.Time
	info   *requestInfo
}

// parkPoll takes a poll that found no work from net/http and parks it;
// false when its connection cannot be taken, and the caller waits on its
// goroutine as before.
func (s *Server) parkPoll(w http.ResponseWriter, r *http.Request, ww *service.WorkWait) bool {
	l := s.parking
	if l == nil || r.ProtoMajor != 1 || r.ProtoMinor < 1 || r.Close {
		return false
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false
	}
	info := infoFrom(r.Context())
	info.parked = true
	p := &parkedPoll{conn: conn, method: r.Method, path: r.URL.Path, remote: r.RemoteAddr, start: info.start, info: info}
	// A fresh context: the poll keeps its actor and request id, and ends
	// when the listener closes, not with the request's (which ends as the
	// handler returns).
	ctx := core.WithRequestID(l.ctx, core.RequestIDFrom(r.Context()))
	if a, ok := core.ActorFrom(r.Context()); ok {
		ctx = core.WithActor(ctx, a)
	}
	if brw.Reader.Buffered() > 0 {
		// The agent sent more already (pipelining): answer on this
		// goroutine, then close, rather than lose what it sent.
		items, err := ww.Wait(ctx)
		s.answerParked(ctx, p, items, err, true)
		return true
	}
	var slot service.Slot
	if s.agentSlots != nil {
		slot = &agentSlot{slots: s.agentSlots}
	}
	s.metrics.parked.Add(1)
	ww.Park(ctx, slot, func() bool { return connAlive(conn) }, func(items []service.WorkItem, err error) {
		s.metrics.parked.Add(-1)
		s.answerParked(ctx, p, items, err, false)
	})
	return true
}

// answerParked writes a parked poll's answer on its connection, gives the
// connection back to net/http (or closes it), and records the request.
func (s *Server) answerParked(ctx context.Context, p *parkedPoll, items []service.WorkItem, err error, closing bool) {
	defer func() {
		// Off any request's goroutine: a panic here must not end the server.
		if r := recover(); r != nil {
			s.logger.ErrorContext(ctx, "panic answering a parked poll", "panic", fmt.Sprint(r), "path", p.path)
			p.conn.Close()
		}
	}()
	closing = closing || s.parking.ctx.Err() != nil // the server stops: the agent comes back elsewhere or later
	rec := &bufferedResponse{header: http.Header{}}
	rec.header.Set("X-Request-ID", core.RequestIDFrom(ctx))
	if err != nil {
		req := (&http.Request{Method: p.method, URL: &url.URL{Path: p.path}}).WithContext(ctx)
		writeError(rec, req, s.logger, err)
	} else {
		writeAgentWork(rec, items)
	}
	var out bytes.Buffer
	resp := &http.Response{StatusCode: rec.status, ProtoMajor: 1, ProtoMinor: 1, Header: rec.header,
		ContentLength: int64(rec.body.Len()), Body: http.NoBody, Close: closing}
	rec.header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	if rec.body.Len() > 0 {
		resp.Body = nopCloser{&rec.body}
	}
	written := 0
	if werr := resp.Write(&out); werr == nil {
		_ = p.conn.SetWriteDeadline(time.Now().Add(writeSlack))
		n, werr := p.conn.Write(out.Bytes())
		written = n
		_ = p.conn.SetWriteDeadline(time.Time{})
		if werr != nil {
			closing = true // the agent went away
		}
	} else {
		closing = true
	}
	if closing {
		p.conn.Close()
	} else {
		s.parking.giveBack(p.conn)
	}
	s.record(ctx, p.method, p.path, p.info, rec.status, max(0, written-(out.Len()-rec.body.Len())), p.start, p.remote)
}

// bufferedResponse is the http.ResponseWriter of a parked poll's answer.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

type nopCloser struct{ *bytes.Buffer }

func (nopCloser) Close() error { return nil }
