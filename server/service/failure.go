package service

// How the service's own work fails, in its own terms. A job's attempt that
// fails ends with a Failure (or a core.Error, or plain database or network
// trouble), and failJob reads from it whether to try again and after how
// long. Plugins speak the plugin SDK's codes; their errors are translated
// into a Failure once, where the service calls a plugin (fromPlugin), and
// nothing further in the service looks at plugin codes.

import (
	"errors"
	"fmt"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

// FailureCode classifies a Failure.
type FailureCode string

// Failure codes.
const (
	// FailTransient: may succeed later (a plugin down, busy or slow; a CA
	// asking to be left alone for a while).
	FailTransient FailureCode = "transient"
	// FailRejected: a plugin refused the request for good (invalid input
	// or configuration, a CA's policy).
	FailRejected FailureCode = "rejected"
	// FailUnsupported: the plugin, or this server, does not do what the
	// work needs.
	FailUnsupported FailureCode = "unsupported"
	// FailNotFound: something the work needs does not exist (a plugin, a
	// deleted issuer, a notification).
	FailNotFound FailureCode = "not_found"
	// FailBadAnswer: a plugin answered something the service cannot use
	// (no certificate, one for another key, a malformed challenge).
	FailBadAnswer FailureCode = "bad_answer"
	// FailCorrupt: stored data the work needs does not read.
	FailCorrupt FailureCode = "corrupt"
	// FailTimedOut: the work went on longer than the service waits for it.
	FailTimedOut FailureCode = "timed_out"
	// FailCanceled: the party called gave up.
	FailCanceled FailureCode = "canceled"
)

// Failure is a failed piece of the service's work: what happened, in a
// message fit for job records and alerts, and whether trying again may
// help.
type Failure struct {
	Code      FailureCode
	Retryable bool
	Message   string
	// PluginCode is the plugin's own code when a plugin failed ("transient",
	// "invalid_config", ...): job records show it, as operators and plugin
	// authors know it, rather than Code.
	PluginCode string
	// RetryAfter is how long the failing party asked to be left alone (a
	// CA's Retry-After); 0 when it did not ask.
	RetryAfter time.Duration
	// Err is the plugin's error, when a plugin failed.
	Err error
}

// Error is the message and the code shown in job records: "message (code)".
func (f *Failure) Error() string {
	code := string(f.Code)
	if f.PluginCode != "" {
		code = f.PluginCode
	}
	return fmt.Sprintf("%s (%s)", f.Message, code)
}

func (f *Failure) Unwrap() error { return f.Err }

// failf is a failure of the service's own that trying again will not mend.
func failf(code FailureCode, format string, args ...any) *Failure {
	return &Failure{Code: code, Message: fmt.Sprintf(format, args...)}
}

// fromPlugin translates an error a plugin call (or the plugin host)
// returned into a Failure, keeping the plugin's message, its code for
// display and the wait it asked for. Errors without a plugin code (a
// context's, one of the service's own) come back as they are.
func fromPlugin(err error) error {
	var pe *plugin.Error
	if err == nil || !errors.As(err, &pe) {
		return err
	}
	var f *Failure
	if errors.As(err, &f) {
		return err // translated already
	}
	out := &Failure{Code: FailRejected, Retryable: plugin.Retryable(pe), Message: pe.Message, PluginCode: pe.Code,
		RetryAfter: pe.RetryAfter, Err: err}
	switch pe.Code {
	case plugin.CodeTransient, plugin.CodeUnavailable, plugin.CodeDeadline:
		out.Code = FailTransient
	case plugin.CodeUnimplemented:
		out.Code = FailUnsupported
	case plugin.CodeNotFound:
		out.Code = FailNotFound
	case plugin.CodeCanceled:
		out.Code = FailCanceled
	}
	return out
}

// failureCode is the code of the Failure in err's chain, "" for none.
func failureCode(err error) FailureCode {
	var f *Failure
	if errors.As(err, &f) {
		return f.Code
	}
	return ""
}

// retryAfterOf is the wait the Failure in err's chain asks for, 0 for none.
func retryAfterOf(err error) time.Duration {
	var f *Failure
	if errors.As(err, &f) {
		return f.RetryAfter
	}
	return 0
}
