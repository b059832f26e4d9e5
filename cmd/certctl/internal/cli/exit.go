package cli

// exit.go maps what went wrong to the process's exit status. Scripts rely
// on these numbers: docs/cli.md lists them, and changing one is a breaking
// change.

import (
	"errors"
	"fmt"

	"github.com/certctl/certctl/sdk/client"
)

// Exit statuses of certctl.
const (
	ExitOK           = 0 // the command did what it was asked
	ExitError        = 1 // anything else: network, server error, local I/O
	ExitUsage        = 2 // the command line is wrong (unknown command or flag, missing argument, bad value)
	ExitNotFound     = 3 // the named resource does not exist (API 404, or no resource of that name)
	ExitUnauthorized = 4 // no API key, a key the server refuses (401), or a role too low (403)
	ExitConflict     = 5 // the server refused the change as a conflict (409): a name taken, a state that forbids it
	ExitTimeout      = 6 // a wait ended before what it waited for happened (--timeout)
	ExitInvalid      = 7 // the server refused the input (400) and said which field
	ExitFailed       = 8 // what a wait waited for ended in failure (a failed issuance, job or deployment)
)

// exitError carries an exit status with its error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withCode wraps err so that the process exits with code.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// usageErrorf is a mistake on the command line.
func usageErrorf(format string, a ...any) error {
	return withCode(ExitUsage, fmt.Errorf(format, a...))
}

// notFoundErrorf is a name that matches no resource.
func notFoundErrorf(format string, a ...any) error {
	return withCode(ExitNotFound, fmt.Errorf(format, a...))
}

// exitCode returns the exit status for err: an explicit one first, then
// the API's error code.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	switch {
	case client.IsNotFound(err):
		return ExitNotFound
	case client.IsUnauthorized(err), client.IsForbidden(err):
		return ExitUnauthorized
	case client.IsConflict(err):
		return ExitConflict
	case client.IsInvalid(err):
		return ExitInvalid
	}
	return ExitError
}
