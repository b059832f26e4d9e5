package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/certctl/certctl/server/core"
)

// requestInfo collects what inner layers learn about a request (its route,
// its actor) for the access log and metrics written by the outer layer.
type requestInfo struct {
	route string
	actor string
	// parked: the request's connection was taken from net/http to wait
	// (park.go), which logs and counts it when it answers.
	parked bool
	start  time.Time
}

type infoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(infoKey{}).(*requestInfo)
	if ri == nil {
		return &requestInfo{}
	}
	return ri
}

// statusRecorder remembers the status and size of a response.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// requestIDPattern bounds what a client may pass as X-Request-ID, so that
// logs cannot be forged through it.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// observe is the outermost layer: request ID, body limit, panic recovery,
// access log and metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if !requestIDPattern.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-ID", id)
		info := &requestInfo{start: start}
		ctx := context.WithValue(core.WithRequestID(r.Context(), id), infoKey{}, info)
		r = r.WithContext(ctx)
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		}
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.logger.ErrorContext(ctx, "panic serving request", "panic", fmt.Sprint(p), "method", r.Method,
					"path", r.URL.Path, "request_id", id)
				if rec.status == 0 {
					writeError(rec, r, s.logger, fmt.Errorf("panic: %v", p))
				}
			}
			if info.parked {
				return // answered later, and recorded then (park.go)
			}
			s.record(ctx, r.Method, r.URL.Path, info, rec.status, rec.bytes, start, r.RemoteAddr)
		}()
		next.ServeHTTP(rec, r)
	})
}

// record writes a request's access log line and metrics.
func (s *Server) record(ctx context.Context, method, path string, info *requestInfo, status, bytes int, start time.Time, remote string) {
	elapsed := time.Since(start)
	route := info.route
	if route == "" {
		route = "unmatched"
	}
	s.metrics.observe(method, route, status, elapsed)
	s.logger.InfoContext(ctx, "http request", "method", method, "path", path, "route", route,
		"status", status, "bytes", bytes, "duration_ms", float64(elapsed.Microseconds())/1000,
		"request_id", core.RequestIDFrom(ctx), "actor", info.actor, "remote", remote)
}

// routeName records the matched route template for logs and metrics.
func routeName(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if route := mux.CurrentRoute(r); route != nil {
			if tpl, err := route.GetPathTemplate(); err == nil {
				infoFrom(r.Context()).route = tpl
			}
		}
		next.ServeHTTP(w, r)
	})
}

// authenticate resolves the API key of a request into an actor, or
// answers 401. Keys come as "Authorization: Bearer <key>" or "X-API-Key".
func (s *Server) authenticate(action string, next http.Handler) http.Handler {
	resourceType, _, _ := strings.Cut(action, ".")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor, err := s.svc.Authenticate(r.Context(), apiKeyOf(r))
		if err != nil {
			if core.ErrorCode(err) == core.EUNAUTHORIZED {
				w.Header().Set("WWW-Authenticate", `Bearer realm="certctl"`)
			}
			writeError(w, r, s.logger, err)
			return
		}
		info := infoFrom(r.Context())
		info.actor = actor.Type + ":" + actor.Name
		ctx := core.WithActor(r.Context(), actor)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			// Refuse viewers before the body is even read.
			if err := s.svc.AuthorizeMutation(ctx, action, resourceType, mux.Vars(r)["id"]); err != nil {
				writeError(w, r, s.logger, err)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func apiKeyOf(r *http.Request) string {
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, key, ok := strings.Cut(auth, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(key)
		}
		return ""
	}
	return strings.TrimSpace(r.Header.Get("X-API-Key"))
}

// notFound and methodNotAllowed answer in the API's JSON error format.
func (s *Server) notFound() http.Handler {
	return s.h(func(w http.ResponseWriter, r *http.Request) error {
		return core.Errorf(core.ENOTFOUND, "no route for %s %s", r.Method, r.URL.Path)
	})
}

func (s *Server) methodNotAllowed() http.Handler {
	return s.h(func(w http.ResponseWriter, r *http.Request) error {
		return &core.Error{Code: "method_not_allowed", Message: "method " + r.Method + " is not allowed on " + r.URL.Path}
	})
}

// statusLabel is the metrics label of a status code.
func statusLabel(code int) string {
	if code == 0 {
		code = http.StatusOK
	}
	return strconv.Itoa(code)
}
