// Package httpapi is certctl's REST API over HTTP: routing (gorilla/mux),
// authentication, JSON encoding, request limits, access logs and metrics.
// It is a thin edge: every rule lives in the service package.
package httpapi

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/certctl/certctl/server/service"
)

// DefaultMaxBodyBytes bounds request bodies unless configured otherwise.
const DefaultMaxBodyBytes = 1 << 20

//go:embed openapi.json
var openAPIDocument []byte

// Options are what the API handler is built from.
type Options struct {
	Service      *service.Service
	Logger       *slog.Logger
	Registry     *prometheus.Registry        // where HTTP metrics are registered; nil means none
	Ready        func(context.Context) error // readiness check behind /readyz
	MaxBodyBytes int64                       // 0 means DefaultMaxBodyBytes
	AgentHub     *service.AgentHub           // wakes agents' long polls; nil means they re-check every few seconds
	Console      http.Handler                // the web console, served at every path outside the API; nil means none
	// AgentMaxInflight bounds the agent requests served at once (long
	// polls count only while they look at the database); up to fifty times
	// as many wait their turn, up to 10 s each; more are answered 429 with
	// Retry-After. 0 means no bound.
	AgentMaxInflight int
	// PluginsReady, when set, adds the plugins the server needs to
	// /readyz: check name ("plugin/issuer/local") to "ok" or why it cannot
	// serve. Its error (which plugins are needed could not be read) is the
	// "plugins" check's.
	PluginsReady func(context.Context) (map[string]string, error)
}

// Server serves the API.
type Server struct {
	svc     *service.Service
	logger  *slog.Logger
	ready   func(context.Context) error
	plugins func(context.Context) (map[string]string, error) // nil: plugins are not checked
	maxBody int64
	metrics *httpMetrics
	router  *mux.Router
	hub     *service.AgentHub
	console http.Handler
	// agentSlots bounds the agent requests served at once, agentQueue
	// those waiting for a slot (shed.go); nil for none.
	agentSlots, agentQueue agentSlots
	// parking takes back the connections of parked long polls (park.go);
	// nil until Listener is called, and polls then wait on their goroutine.
	parking *parkListener
}

// New returns the API's http.Handler.
func New(o Options) (*Server, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.Ready == nil {
		o.Ready = func(context.Context) error { return nil }
	}
	m, err := newHTTPMetrics(o.Registry)
	if err != nil {
		return nil, err
	}
	s := &Server{svc: o.Service, logger: o.Logger, ready: o.Ready, plugins: o.PluginsReady, maxBody: o.MaxBodyBytes, metrics: m, router: mux.NewRouter(),
		hub: o.AgentHub, console: o.Console}
	if o.AgentMaxInflight > 0 {
		s.agentSlots = make(agentSlots, o.AgentMaxInflight)
		s.agentQueue = make(agentSlots, agentQueueFactor*o.AgentMaxInflight)
	}
	s.routes(o.Registry)
	return s, nil
}

// ServeHTTP implements http.Handler: every request gets an ID, a body
// limit, panic recovery, an access log line and metrics.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.observe(s.router).ServeHTTP(w, r)
}

// Router exposes the routes, for the test that keeps the OpenAPI document
// in step with them.
func (s *Server) Router() *mux.Router {
	return s.router
}

// handlerFunc is a handler that returns its error for the wrapper to write.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (s *Server) h(f handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			writeError(w, r, s.logger, err)
		}
	})
}
