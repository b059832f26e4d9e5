// Package notifyconf holds the configuration every notifier plugin shares:
// the schema fields for the per-attempt timeout and the retry policy, how
// to read them, and the checks that URLs and ranges are sound.
package notifyconf

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/certctl/certctl/plugins/internal/retry"
	"github.com/certctl/certctl/sdk/plugin"
)

// Names and defaults of the shared fields.
const (
	FieldTimeout      = "timeout"
	FieldMaxAttempts  = "max_attempts"
	FieldRetryBackoff = "retry_backoff"

	DefaultTimeout      = "10s"
	DefaultMaxAttempts  = 3
	DefaultRetryBackoff = "1s"

	// Limits of the shared fields.
	MaxTimeout      = 5 * time.Minute
	MaxAttemptsMax  = 10
	MaxRetryBackoff = time.Minute
)

// RetriedHTTP says what HTTP notifiers retry, for Fields.
const RetriedHTTP = "Network errors, timeouts, rate limiting (429) and server errors (5xx) are retried"

// Fields returns the schema fields every notifier has: timeout,
// max_attempts and retry_backoff. retried says which failures are
// retried, e.g. RetriedHTTP.
func Fields(retried string) []plugin.Field {
	return []plugin.Field{
		{Name: FieldTimeout, Type: plugin.TypeDuration, Default: DefaultTimeout,
			Description: "Time allowed for one delivery attempt (connect, send, read the answer), at most 5m."},
		{Name: FieldMaxAttempts, Type: plugin.TypeInt, Default: DefaultMaxAttempts,
			Description: "Attempts per delivery, 1 to 10. " + retried + "; other failures are not. When all attempts fail the host retries the notification later."},
		{Name: FieldRetryBackoff, Type: plugin.TypeDuration, Default: DefaultRetryBackoff,
			Description: "Wait before the second attempt; it doubles for each further attempt (with jitter, at most 30s). A Retry-After answer of up to 1m is honoured instead."},
	}
}

// Delivery is the shared configuration, read.
type Delivery struct {
	Timeout time.Duration
	Retry   retry.Policy
}

// Read reads the shared fields of a normalized configuration.
func Read(cfg plugin.Config) Delivery {
	return Delivery{
		Timeout: cfg.Duration(FieldTimeout),
		Retry: retry.Policy{
			MaxAttempts: int(cfg.Int(FieldMaxAttempts)),
			Backoff:     cfg.Duration(FieldRetryBackoff),
		},
	}
}

// Validate checks the ranges of the shared fields of a normalized
// configuration.
func Validate(cfg plugin.Config) error {
	d := Read(cfg)
	if d.Timeout <= 0 || d.Timeout > MaxTimeout {
		return plugin.InvalidConfig(FieldTimeout, "must be more than 0 and at most %s", MaxTimeout)
	}
	if d.Retry.MaxAttempts < 1 || d.Retry.MaxAttempts > MaxAttemptsMax {
		return plugin.InvalidConfig(FieldMaxAttempts, "must be between 1 and %d", MaxAttemptsMax)
	}
	if d.Retry.Backoff < 0 || d.Retry.Backoff > MaxRetryBackoff {
		return plugin.InvalidConfig(FieldRetryBackoff, "must be between 0s and %s", MaxRetryBackoff)
	}
	return nil
}

// Normalize applies schema to cfg (defaults, types, required fields) and
// then checks the shared fields. Plugins call it first in ValidateConfig
// and in every send, so that they work the same whether or not the host
// normalized the configuration already.
func Normalize(schema plugin.Schema, cfg plugin.Config) (plugin.Config, error) {
	out, err := schema.Normalize(cfg)
	if err != nil {
		return nil, err
	}
	if err := Validate(out); err != nil {
		return nil, err
	}
	return out, nil
}

// ValidateURL checks that the URL in field is absolute, http or https,
// with a host. Its messages never repeat the URL: webhook URLs carry
// tokens.
func ValidateURL(cfg plugin.Config, field string) error {
	raw := cfg.String(field)
	if raw == "" {
		return plugin.InvalidConfig(field, "is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return plugin.InvalidConfig(field, "is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return plugin.InvalidConfig(field, "must be an http or https URL")
	}
	if u.Host == "" || u.Hostname() == "" {
		return plugin.InvalidConfig(field, "must name a host")
	}
	if u.User != nil {
		return plugin.InvalidConfig(field, "must not carry a user name or password")
	}
	return nil
}

// RedactURL returns what of a URL is safe to show: scheme and host. Paths
// and queries of webhook URLs are secrets.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	return u.Scheme + "://" + u.Host
}

// CheckPrintable reports a string with control characters (which would
// let a value break out of a header or a line).
func CheckPrintable(field, value string) error {
	if strings.ContainsFunc(value, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return plugin.InvalidConfig(field, "must not contain control characters or line breaks")
	}
	return nil
}

// JoinURL appends path to a base URL such as "https://events.pagerduty.com"
// (with or without a trailing slash, possibly with a path prefix of its
// own, e.g. behind a proxy).
func JoinURL(base, path string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("invalid base URL")
	}
	return u.JoinPath(path).String(), nil
}
