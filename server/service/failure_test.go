package service

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/core"
)

// TestFromPlugin: a plugin's error becomes a Failure with the service's
// code, the retry decision the plugin's code implies, the plugin's message,
// code and Retry-After; anything else passes through untouched.
func TestFromPlugin(t *testing.T) {
	tests := []struct {
		code      string
		want      FailureCode
		retryable bool
	}{
		{plugin.CodeTransient, FailTransient, true},
		{plugin.CodeUnavailable, FailTransient, true},
		{plugin.CodeDeadline, FailTransient, true},
		{plugin.CodePermanent, FailRejected, false},
		{plugin.CodeInvalidConfig, FailRejected, false},
		{plugin.CodeInvalidInput, FailRejected, false},
		{plugin.CodeUnimplemented, FailUnsupported, false},
		{plugin.CodeNotFound, FailNotFound, false},
		{plugin.CodeCanceled, FailCanceled, false},
		{"something_new", FailRejected, false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			pe := &plugin.Error{Code: tt.code, Message: "the CA said no", RetryAfter: 90 * time.Second}
			err := fromPlugin(fmt.Errorf("issue: %w", pe))
			var f *Failure
			if !errors.As(err, &f) {
				t.Fatalf("fromPlugin = %T %v, want a *Failure", err, err)
			}
			if f.Code != tt.want || f.Retryable != tt.retryable || f.Message != "the CA said no" || f.PluginCode != tt.code ||
				f.RetryAfter != 90*time.Second {
				t.Errorf("fromPlugin = %+v", f)
			}
			if retryable(err) != tt.retryable {
				t.Errorf("retryable = %v, want %v", retryable(err), tt.retryable)
			}
			if got := errorText(fmt.Errorf("job: %w", err)); got != "the CA said no ("+tt.code+")" {
				t.Errorf("errorText = %q", got)
			}
			if retryAfterOf(err) != 90*time.Second {
				t.Errorf("retryAfterOf = %s", retryAfterOf(err))
			}
			var back *plugin.Error
			if !errors.As(err, &back) || back != pe {
				t.Error("the plugin's error is not in the Failure's chain")
			}
			if again := fromPlugin(err); again != err {
				t.Errorf("translating twice = %v, want the same Failure", again)
			}
		})
	}
	for _, err := range []error{nil, errors.New("connection reset"), context.DeadlineExceeded,
		core.Errorf(core.EUNAVAILABLE, "busy"), failf(FailCorrupt, "bad row")} {
		if got := fromPlugin(err); got != err {
			t.Errorf("fromPlugin(%v) = %v, want it unchanged", err, got)
		}
	}
}

// TestServiceFailures: the service's own failures are not retried, show
// their own code, and leave the other errors' classification as it was.
func TestServiceFailures(t *testing.T) {
	f := failf(FailBadAnswer, "issuer returned no PEM certificate")
	if retryable(f) || retryable(fmt.Errorf("wrapped: %w", f)) {
		t.Error("a service failure is retried")
	}
	if got := errorText(f); got != "issuer returned no PEM certificate (bad_answer)" {
		t.Errorf("errorText = %q", got)
	}
	if retryAfterOf(f) != 0 || failureCode(f) != FailBadAnswer || failureCode(errors.New("x")) != "" {
		t.Error("retryAfterOf or failureCode is wrong")
	}
	retry := &Failure{Code: FailTransient, Retryable: true, Message: "later"}
	if !retryable(retry) {
		t.Error("an explicitly retryable failure is not retried")
	}
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{errors.New("connection reset"), true},
		{core.Errorf(core.EUNAVAILABLE, "busy"), true},
		{core.Errorf(core.EINTERNAL, "oops"), true},
		{core.Invalid("csr", "bad"), false},
	} {
		if got := retryable(tt.err); got != tt.want {
			t.Errorf("retryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
