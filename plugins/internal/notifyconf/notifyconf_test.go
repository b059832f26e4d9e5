package notifyconf

import (
	"errors"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

func TestNormalizeAndRead(t *testing.T) {
	t.Parallel()
	schema := plugin.Schema{Fields: Fields(RetriedHTTP)}
	if err := schema.Check(); err != nil {
		t.Fatal(err)
	}
	cfg, err := Normalize(schema, plugin.Config{})
	if err != nil {
		t.Fatal(err)
	}
	d := Read(cfg)
	if d.Timeout != 10*time.Second || d.Retry.MaxAttempts != 3 || d.Retry.Backoff != time.Second {
		t.Errorf("defaults: %+v", d)
	}
	tests := []struct {
		cfg   plugin.Config
		field string
	}{
		{plugin.Config{"timeout": "5m"}, ""},
		{plugin.Config{"timeout": 30}, ""}, // seconds
		{plugin.Config{"timeout": "0s"}, FieldTimeout},
		{plugin.Config{"timeout": "6m"}, FieldTimeout},
		{plugin.Config{"max_attempts": 10}, ""},
		{plugin.Config{"max_attempts": 0}, FieldMaxAttempts},
		{plugin.Config{"max_attempts": 1.5}, FieldMaxAttempts},
		{plugin.Config{"retry_backoff": "0s"}, ""},
		{plugin.Config{"retry_backoff": "2m"}, FieldRetryBackoff},
	}
	for _, tt := range tests {
		_, err := Normalize(schema, tt.cfg)
		var pe *plugin.Error
		if tt.field == "" && err != nil || tt.field != "" && (!errors.As(err, &pe) || pe.Field != tt.field) {
			t.Errorf("Normalize(%v) = %v, want error on %q", tt.cfg, err, tt.field)
		}
	}
}

func TestValidateURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://hooks.slack.com/services/T/B/X", true},
		{"http://127.0.0.1:8080/x?y=z", true},
		{"", false},
		{"hooks.slack.com/services", false},
		{"ftp://example.com", false},
		{"https://", false},
		{"https://user:pass@example.com/", false},
		{"https://exa mple.com/", false},
	}
	for _, tt := range tests {
		err := ValidateURL(plugin.Config{"u": tt.url}, "u")
		if (err == nil) != tt.ok {
			t.Errorf("ValidateURL(%q) = %v, want ok %v", tt.url, err, tt.ok)
		}
	}
}

func TestRedactAndJoin(t *testing.T) {
	t.Parallel()
	if got := RedactURL("https://hooks.slack.com/services/T/B/SECRET?x=1"); got != "https://hooks.slack.com" {
		t.Errorf("RedactURL = %q", got)
	}
	for base, want := range map[string]string{
		"https://events.pagerduty.com":        "https://events.pagerduty.com/v2/enqueue",
		"https://events.pagerduty.com/":       "https://events.pagerduty.com/v2/enqueue",
		"http://127.0.0.1:9/proxy/pagerduty/": "http://127.0.0.1:9/proxy/pagerduty/v2/enqueue",
	} {
		if got, err := JoinURL(base, "/v2/enqueue"); err != nil || got != want {
			t.Errorf("JoinURL(%q) = %q, %v; want %q", base, got, err, want)
		}
	}
}
