package client

// errors.go turns error replies into *Error and tests errors for the API's
// codes.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/certctl/certctl/sdk/api"
)

// Error is a reply with a status other than 2xx.
type Error struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the API's error code (api.CodeNotFound, api.CodeInvalid, ...),
	// or "http_<status>" when the reply was not the API's JSON error (from a
	// proxy in between, say).
	Code string
	// Message says what went wrong, in words; for a reply that was not the
	// API's JSON error, the start of its body.
	Message string
	// Field names the offending input, when there is one: a body field
	// ("sans[2]", "config.url"), a query parameter ("limit") or a path
	// variable ("id").
	Field string
	// RequestID is the ID the server gave the request, for its logs and audit
	// trail.
	RequestID string

	body []byte // the start of the reply's body
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "certctl: %d %s", e.StatusCode, e.Code)
	if e.Field != "" {
		fmt.Fprintf(&b, " (%s)", e.Field)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request %s]", e.RequestID)
	}
	return b.String()
}

// maxErrorBody bounds how much of an error reply is read.
const maxErrorBody = 64 << 10

// snippetLen bounds how much of a non-JSON error body goes into a message.
const snippetLen = 200

// readError reads an error reply into an *Error and closes its body.
func readError(resp *http.Response) *Error {
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody)) // let the connection be reused
	e := &Error{StatusCode: resp.StatusCode, RequestID: resp.Header.Get("X-Request-ID"), body: data}
	var body api.ErrorResponse
	if json.Unmarshal(data, &body) == nil && body.Error.Code != "" {
		e.Code, e.Message, e.Field = body.Error.Code, body.Error.Message, body.Error.Field
		if body.Error.RequestID != "" {
			e.RequestID = body.Error.RequestID
		}
		return e
	}
	e.Code = "http_" + strconv.Itoa(resp.StatusCode)
	e.Message = snippet(data)
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// snippet is the start of a body as one line of valid text.
func snippet(data []byte) string {
	s := strings.ToValidUTF8(string(data), "\uFFFD")
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > snippetLen {
		r := []rune(s)
		s = string(r[:snippetLen]) + "…"
	}
	return s
}

// AsError returns the *Error in err's chain, if there is one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Code returns the API error code of err ("not_found", "conflict", ...,
// or "http_<status>"), or "" when err is not an *Error (nil, a network
// error, a cancelled context).
func Code(err error) string {
	if e, ok := AsError(err); ok {
		return e.Code
	}
	return ""
}

func hasCode(err error, code string) bool { return Code(err) == code }

// IsNotFound says err is the API's 404 not_found: no such resource (or,
// for a path the server does not know, no such route).
func IsNotFound(err error) bool { return hasCode(err, api.CodeNotFound) }

// IsConflict says err is the API's 409 conflict: a name taken, a resource
// in use, or a state that does not allow the action.
func IsConflict(err error) bool { return hasCode(err, api.CodeConflict) }

// IsInvalid says err is the API's 400 invalid; Error.Field names the input.
func IsInvalid(err error) bool { return hasCode(err, api.CodeInvalid) }

// IsUnauthorized says err is the API's 401: no API key, or an unknown,
// expired or revoked one.
func IsUnauthorized(err error) bool { return hasCode(err, api.CodeUnauthorized) }

// IsForbidden says err is the API's 403: the key's role may not do this.
func IsForbidden(err error) bool { return hasCode(err, api.CodeForbidden) }

// IsUnavailable says err is the API's 503 unavailable: a connector plugin
// cannot be reached, or the server is not ready. Trying later may succeed.
func IsUnavailable(err error) bool { return hasCode(err, api.CodeUnavailable) }
