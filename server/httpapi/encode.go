package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// statusOf maps an error code to its HTTP status: the one table.
var statusOf = map[string]int{
	core.EINVALID:            http.StatusBadRequest,
	core.EUNAUTHORIZED:       http.StatusUnauthorized,
	core.EFORBIDDEN:          http.StatusForbidden,
	core.ENOTFOUND:           http.StatusNotFound,
	core.ECONFLICT:           http.StatusConflict,
	core.ETOOLARGE:           http.StatusRequestEntityTooLarge,
	core.EUNSUPPORTED:        http.StatusUnsupportedMediaType,
	core.EUNAVAILABLE:        http.StatusServiceUnavailable,
	core.EINTERNAL:           http.StatusInternalServerError,
	api.CodeMethodNotAllowed: http.StatusMethodNotAllowed,
}

// encode writes v as JSON with status.
func encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client may have gone; nothing to do about it
}

// writeError writes err as the API's JSON error. Internal errors are logged
// with their detail and shown to the client only as "internal error".
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	code := core.ErrorCode(err)
	if code == core.EINTERNAL && store.Unavailable(err) {
		// The database is away (restarting, failing over, refusing
		// connections): the same request may succeed in a moment, so the
		// answer says so (503 with Retry-After, which clients retry) rather
		// than report a fault of the server. Seen by make soak.
		logger.WarnContext(r.Context(), "database unavailable", "method", r.Method, "path", r.URL.Path,
			"request_id", core.RequestIDFrom(r.Context()), "err", err)
		err = core.Errorf(core.EUNAVAILABLE, "the database is not available; try again shortly")
		code = core.EUNAVAILABLE
	}
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if code == core.EINTERNAL {
		logger.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path,
			"request_id", core.RequestIDFrom(r.Context()), "err", err)
	}
	if code == core.EUNAVAILABLE && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", retryAfterSeconds()) // e.g. no database connection free in time: come back soon
	}
	detail := api.ErrorDetail{Code: code, Message: core.ErrorMessage(err), RequestID: core.RequestIDFrom(r.Context())}
	var e *core.Error
	if errors.As(err, &e) {
		detail.Message, detail.Field = e.Message, e.Field
	}
	encode(w, status, api.ErrorResponse{Error: detail})
}

// decode reads the JSON body into v. It refuses other media types, unknown
// fields, trailing data, bodies over the limit set by the middleware, and
// strings holding a NUL character anywhere in the body.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !jsonMediaType(mt) {
			return core.Errorf(core.EUNSUPPORTED, "request body must be application/json, not %q", ct)
		}
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return decodeError(err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return decodeError(err)
		}
		return core.Errorf(core.EINVALID, "request body must hold one JSON object")
	}
	return refuseNULInJSON(body)
}

// nulMessage is the error message for a string holding a NUL character.
const nulMessage = `must not contain a NUL character (\u0000)`

// refuseNULInJSON refuses a JSON document holding a NUL character in any
// string, object key or value, at any depth (labels, connector
// configuration), naming where it is. PostgreSQL text cannot hold NUL, so
// such a string must stop here rather than fail in the database. The body
// has already been decoded, so it is well-formed JSON. JSON can only spell
// NUL as the escape \u0000 (a raw NUL byte is a syntax error), so a body
// without that escape needs no walk.
func refuseNULInJSON(body []byte) error {
	if !bytes.Contains(body, []byte(`\u0000`)) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := nulInValue(dec, ""); err != nil {
		var e *core.Error
		if errors.As(err, &e) {
			return err
		}
		return core.Errorf(core.EINVALID, "invalid JSON body: %s", err.Error())
	}
	return nil
}

// nulInValue reads one JSON value from dec; path is where it sits in the
// document, spelled as the API's error fields are ("labels.env", "sans[2]").
func nulInValue(dec *json.Decoder, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case string:
		if strings.IndexByte(t, 0) >= 0 {
			if path == "" {
				return core.Errorf(core.EINVALID, "request body %s", nulMessage)
			}
			return core.Invalid(path, nulMessage)
		}
	case json.Delim:
		switch t {
		case '{':
			for dec.More() {
				tok, err := dec.Token()
				if err != nil {
					return err
				}
				key, _ := tok.(string)
				if strings.IndexByte(key, 0) >= 0 {
					if path == "" {
						return core.Errorf(core.EINVALID, "field names %s", nulMessage)
					}
					return core.Invalid(path, "keys %s", nulMessage)
				}
				sub := key
				if path != "" {
					sub = path + "." + key
				}
				if err := nulInValue(dec, sub); err != nil {
					return err
				}
			}
		case '[':
			for i := 0; dec.More(); i++ {
				if err := nulInValue(dec, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return err
		}
	}
	return nil
}

// jsonMediaType accepts JSON media types, and also curl's default for -d
// (application/x-www-form-urlencoded), so that `curl -d '{...}'` works
// without a header; the body must be JSON whatever the header says.
func jsonMediaType(mt string) bool {
	return mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "application/x-www-form-urlencoded"
}

func decodeError(err error) error {
	var maxErr *http.MaxBytesError
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &maxErr):
		return core.Errorf(core.ETOOLARGE, "request body is larger than %d bytes", maxErr.Limit)
	case errors.Is(err, io.EOF):
		return core.Errorf(core.EINVALID, "request body is empty; a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return core.Errorf(core.EINVALID, "request body is truncated JSON")
	case errors.As(err, &syntaxErr):
		return core.Errorf(core.EINVALID, "malformed JSON at byte %d: %s", syntaxErr.Offset, syntaxErr.Error())
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return core.Errorf(core.EINVALID, "request body must be a JSON object")
		}
		return core.Invalid(field, "must be %s, not JSON %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	}
	// json reports unknown fields only as text; it has no typed error for them.
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return core.Errorf(core.EINVALID, "unknown field %s", field)
	}
	return core.Errorf(core.EINVALID, "invalid JSON body: %s", err.Error())
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "bool":
		return "a boolean"
	case "ptr":
		return "a value of another type"
	default:
		return "a number"
	}
}
