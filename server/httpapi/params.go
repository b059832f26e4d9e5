package httpapi

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/certctl/certctl/server/core"
)

// pathID parses the path variable name as a UUID.
func pathID(r *http.Request, name string) (uuid.UUID, error) {
	raw := mux.Vars(r)[name]
	id, err := uuid.Parse(raw)
	if err != nil {
		return uuid.Nil, core.Invalid(name, "%q is not a valid id (a UUID)", raw)
	}
	return id, nil
}

// parseID parses an id given in a body or query field.
func parseID(field, raw string) (uuid.UUID, error) {
	id, err := uuid.Parse(raw)
	if err != nil {
		return uuid.Nil, core.Invalid(field, "%q is not a valid id (a UUID)", raw)
	}
	return id, nil
}

// optionalID parses an optional id.
func optionalID(field string, raw *string) (*uuid.UUID, error) {
	if raw == nil || *raw == "" {
		return nil, nil
	}
	id, err := parseID(field, *raw)
	return &id, err
}

func queryID(r *http.Request, name string) (*uuid.UUID, error) {
	raw := r.URL.Query().Get(name)
	return optionalID(name, &raw)
}

func queryTime(r *http.Request, name string) (*time.Time, error) {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return nil, core.Invalid(name, "%q is not an RFC 3339 time (e.g. 2026-01-02T15:04:05Z)", raw)
	}
	return &t, nil
}

// queryPage reads limit and cursor.
func queryPage(r *http.Request) (core.Page, error) {
	var p core.Page
	q := r.URL.Query()
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > core.MaxPageLimit {
			return p, core.Invalid("limit", "must be a whole number from 1 to %d", core.MaxPageLimit)
		}
		p.Limit = n
	}
	after, err := decodeCursor(q.Get("cursor"))
	if err != nil {
		return p, err
	}
	p.After = after
	return p, nil
}

// refuseNULInParams answers 400 to a request whose query parameters or path
// variables hold a NUL character (%00) or bytes that are not UTF-8 (%FF),
// naming the parameter, before any handler reads them: PostgreSQL text can
// hold neither. Checking every parameter here, rather than in each reader,
// also covers parameters that a handler reads directly and those no handler
// knows.
func (s *Server) refuseNULInParams(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := nulInParams(r); err != nil {
			writeError(w, r, s.logger, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// notUTF8Message is the error message for a parameter that is not UTF-8.
const notUTF8Message = "must be UTF-8 text"

func nulInParams(r *http.Request) error {
	vars := mux.Vars(r)
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		if err := checkParam(name, vars[name]); err != nil {
			return err
		}
	}
	if r.URL.RawQuery == "" {
		return nil
	}
	q := r.URL.Query()
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if strings.IndexByte(name, 0) >= 0 {
			return core.Errorf(core.EINVALID, "query parameter names %s", nulMessage)
		}
		if !utf8.ValidString(name) {
			return core.Errorf(core.EINVALID, "query parameter names %s", notUTF8Message)
		}
		for _, v := range q[name] {
			if err := checkParam(name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkParam(name, v string) error {
	if strings.IndexByte(v, 0) >= 0 {
		return core.Invalid(name, nulMessage)
	}
	if !utf8.ValidString(v) {
		return core.Invalid(name, notUTF8Message)
	}
	return nil
}
