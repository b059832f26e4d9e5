package plugin

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Codes of an *Error. They tell the host what to do next.
const (
	CodeInvalidConfig = "invalid_config" // fix the configuration; retrying will not help
	CodeInvalidInput  = "invalid_input"  // the request (CSR, serial, ...) is wrong
	CodeNotFound      = "not_found"      // the thing asked about does not exist
	CodeTransient     = "transient"      // try again later (network, rate limit, CA busy)
	CodePermanent     = "permanent"      // failed for good (CA refused, policy violation)
	CodeUnimplemented = "unimplemented"  // this plugin does not do that
	CodeUnavailable   = "unavailable"    // the plugin process is down or restarting: set by the host only; a plugin that returns it is read as transient
	CodeDeadline      = "deadline"       // the call ran out of time
	CodeCanceled      = "canceled"       // the caller gave up
)

// Error is an error with a code that crosses the plugin boundary. Field
// names the configuration field at fault, for CodeInvalidConfig.
type Error struct {
	Code    string
	Message string
	Field   string
	// RetryAfter, on a CodeTransient error, is how long the failing party
	// asked to be left alone (an ACME CA's Retry-After on a 429 or
	// rateLimited problem): the host retries no sooner.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, e.Message)
	}
	return e.Code + ": " + e.Message
}

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidConfig returns a CodeInvalidConfig error about field.
func InvalidConfig(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidConfig, Field: field, Message: fmt.Sprintf(format, args...)}
}

// A plugin returns context errors as they are (ctx.Err(), or wrapped with
// %w), not inside an *Error, so that ErrorCode reports them as canceled or
// deadline.

// ErrorCode returns the code of err: that of an *Error in its chain,
// CodeDeadline or CodeCanceled for context errors, CodePermanent otherwise.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	case errors.Is(err, context.DeadlineExceeded):
		return CodeDeadline
	case errors.Is(err, context.Canceled):
		return CodeCanceled
	}
	return CodePermanent
}

// Retryable reports whether the operation that failed with err may succeed
// if tried again: a transient failure, a plugin that was down, or a deadline.
func Retryable(err error) bool {
	switch ErrorCode(err) {
	case CodeTransient, CodeUnavailable, CodeDeadline:
		return true
	}
	return false
}

// RetryAfter returns the delay an *Error in err's chain asks for, or 0.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
