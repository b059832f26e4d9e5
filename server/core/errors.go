// Package core holds certctl's domain: the types of the control plane, the
// error type every layer speaks, and the validation rules for what clients
// send. It depends on nothing else in the project.
package core

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each to a status in one table.
const (
	ECONFLICT     = "conflict"     // a name is taken, or the resource is in use
	EFORBIDDEN    = "forbidden"    // authenticated, but the role may not do this
	EINTERNAL     = "internal"     // a bug or an unreachable dependency; details only in logs
	EINVALID      = "invalid"      // the request is malformed or a value is wrong
	ENOTFOUND     = "not_found"    // no such resource
	ETOOLARGE     = "too_large"    // the request body is over the limit
	EUNAUTHORIZED = "unauthorized" // no credential, or a bad/expired/revoked one
	EUNAVAILABLE  = "unavailable"  // not ready yet (e.g. database starting)
	EUNSUPPORTED  = "unsupported_media_type"
)

// Error is an application error: a machine code and a message that is safe
// to show to the client. Field, when set, names the offending input field.
type Error struct {
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error about one input field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// EINTERNAL for any other error, or "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err: the *Error's message,
// or "internal error" for anything else, so that no internal detail leaks.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		if e.Field != "" {
			return e.Field + ": " + e.Message
		}
		return e.Message
	}
	return "internal error"
}
