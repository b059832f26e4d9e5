package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/plugins/internal/plugintesting"
	"github.com/certctl/certctl/sdk/plugin"
)

const hookPath = "/services/T0001/B0001/SECRETTOKEN"

var fullNote = plugin.Notification{
	ID:              "ntf-0001",
	Event:           "certificate.expiring",
	Severity:        plugin.SeverityCritical,
	Title:           "www.example.com expires in 3 days",
	Message:         "Renewal failed: <ACME> & co.",
	OccurredAt:      time.Date(2026, 3, 1, 11, 59, 0, 0, time.UTC),
	URL:             "https://certctl.example.com/certificates/c-1",
	CertificateID:   "c-1",
	CertificateName: "www",
	CommonName:      "www.example.com",
	SANs:            []string{"www.example.com", "example.com"},
	SerialNumber:    "0a1b2c",
	NotAfter:        time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC),
	Details:         map[string]string{"days_left": "3"},
}

func field(s string) map[string]any { return map[string]any{"type": "mrkdwn", "text": s} }

func TestSendPayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		alert bool
		note  plugin.Notification
		extra plugin.Config
		want  map[string]any
	}{
		{
			name:  "alert with certificate, link and overrides",
			alert: true,
			note:  fullNote,
			extra: plugin.Config{"channel": "#pki", "username": "certctl", "icon_emoji": ":lock:"},
			want: map[string]any{
				"text":       "[CRITICAL] www.example.com expires in 3 days: Renewal failed: &lt;ACME&gt; &amp; co.",
				"channel":    "#pki",
				"username":   "certctl",
				"icon_emoji": ":lock:",
				"blocks": []any{
					map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": ":rotating_light: www.example.com expires in 3 days", "emoji": true}},
					map[string]any{"type": "section", "text": field("Renewal failed: &lt;ACME&gt; &amp; co.")},
					map[string]any{"type": "section", "fields": []any{
						field("*Certificate*\nwww"),
						field("*Common name*\nwww.example.com"),
						field("*SANs*\nwww.example.com, example.com"),
						field("*Serial number*\n0a1b2c"),
						field("*Expires*\n2026-03-04 00:00 UTC"),
						field("*Severity*\ncritical"),
						field("*Event*\ncertificate.expiring"),
						field("*Days left*\n3"),
					}},
					map[string]any{"type": "actions", "elements": []any{map[string]any{
						"type": "button", "text": map[string]any{"type": "plain_text", "text": "Open in certctl"},
						"url": "https://certctl.example.com/certificates/c-1", "action_id": "certctl_open",
					}}},
					map[string]any{"type": "context", "elements": []any{map[string]any{"type": "mrkdwn", "text": "certctl · notification ntf-0001"}}},
				},
			},
		},
		{
			name: "event without certificate or link",
			note: plugin.Notification{ID: "ntf-2", Event: "agent.offline", Title: "agent a1 offline"},
			want: map[string]any{
				"text": "[INFO] agent a1 offline",
				"blocks": []any{
					map[string]any{"type": "header", "text": map[string]any{"type": "plain_text", "text": ":information_source: agent a1 offline", "emoji": true}},
					map[string]any{"type": "section", "fields": []any{field("*Severity*\ninfo"), field("*Event*\nagent.offline")}},
					map[string]any{"type": "context", "elements": []any{map[string]any{"type": "mrkdwn", "text": "certctl · notification ntf-2"}}},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := plugintesting.NewHTTPServer(t, plugintesting.Reply{Status: 200, Body: "ok"})
			cfg := tt.extra.Clone()
			cfg["webhook_url"] = srv.URL + hookPath
			s := newNotifier(nil)
			send := s.SendEvent
			if tt.alert {
				send = s.SendAlert
			}
			if _, err := send(context.Background(), plugin.SendRequest{Config: cfg, Notification: tt.note}); err != nil {
				t.Fatalf("send: %v", err)
			}
			req := srv.Last(t)
			if req.Path != hookPath || req.Header.Get("Content-Type") != "application/json" {
				t.Errorf("request %s, Content-Type %q", req.Path, req.Header.Get("Content-Type"))
			}
			var got map[string]any
			if err := json.Unmarshal(req.Body, &got); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				g, _ := json.MarshalIndent(got, "", "  ")
				w, _ := json.MarshalIndent(tt.want, "", "  ")
				t.Errorf("payload:\n got %s\nwant %s", g, w)
			}
		})
	}
}

func TestSendLimits(t *testing.T) {
	t.Parallel()
	n := fullNote
	n.Title = strings.Repeat("t", 400)
	n.Details = map[string]string{}
	for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
		n.Details[k] = strings.Repeat("v", 2500)
	}
	m := newMessage(config{}, n, "alert")
	sections := 0
	for _, b := range m.Blocks {
		if b.Type == "header" && len([]rune(b.Text.Text)) > maxHeader {
			t.Errorf("header of %d characters", len([]rune(b.Text.Text)))
		}
		if len(b.Fields) > 0 {
			sections++
			if len(b.Fields) > maxFieldsPerItem {
				t.Errorf("%d fields in one section", len(b.Fields))
			}
			for _, f := range b.Fields {
				if len([]rune(f.Text)) > maxFieldText {
					t.Errorf("field of %d characters", len([]rune(f.Text)))
				}
			}
		}
	}
	if sections != 2 {
		t.Errorf("13 facts in %d sections, want 2", sections)
	}
}

func TestSendErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		replies  []plugintesting.Reply
		wantCode string
		wantMsg  string
		wantReqs int
	}{
		{"invalid_payload", []plugintesting.Reply{{Status: 400, Body: "invalid_payload"}}, plugin.CodePermanent, "invalid_payload", 1},
		{"no_service", []plugintesting.Reply{{Status: 404, Body: "no_service"}}, plugin.CodePermanent, "no_service", 1},
		{"rate limited then ok", []plugintesting.Reply{{Status: 429, Header: map[string]string{"Retry-After": "0"}}, {Body: "ok"}}, "", "", 2},
		{"503 twice then ok", []plugintesting.Reply{{Status: 503}, {Status: 503}, {Body: "ok"}}, "", "", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := plugintesting.NewHTTPServer(t, tt.replies...)
			var logs bytes.Buffer
			s := newNotifier(slog.New(slog.NewJSONHandler(&logs, nil)))
			_, err := s.SendAlert(context.Background(), plugin.SendRequest{Config: plugin.Config{"webhook_url": srv.URL + hookPath, "retry_backoff": "1ms"}, Notification: fullNote})
			if got := plugin.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("error %v: code %q, want %q", err, got, tt.wantCode)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not say %q", err, tt.wantMsg)
			}
			if err != nil && strings.Contains(err.Error(), "SECRETTOKEN") || strings.Contains(logs.String(), "SECRETTOKEN") {
				t.Errorf("webhook URL leaked: %v\n%s", err, logs.String())
			}
			if got := len(srv.Requests()); got != tt.wantReqs {
				t.Errorf("%d requests, want %d", got, tt.wantReqs)
			}
		})
	}
}

func TestValidateConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cfg       plugin.Config
		wantField string
	}{
		{"minimal", plugin.Config{"webhook_url": "https://hooks.slack.com/services/T/B/X"}, ""},
		{"overrides", plugin.Config{"webhook_url": "https://hooks.slack.com/services/T/B/X", "channel": "#pki", "username": "certctl", "icon_emoji": ":lock:"}, ""},
		{"missing url", plugin.Config{}, "webhook_url"},
		{"not a URL", plugin.Config{"webhook_url": "hooks.slack.com/services/T/B/X"}, "webhook_url"},
		{"bad scheme", plugin.Config{"webhook_url": "file:///etc/passwd"}, "webhook_url"},
		{"bad emoji", plugin.Config{"webhook_url": "https://hooks.slack.com/x", "icon_emoji": "lock"}, "icon_emoji"},
		{"channel with newline", plugin.Config{"webhook_url": "https://hooks.slack.com/x", "channel": "#a\nb"}, "channel"},
		{"bad attempts", plugin.Config{"webhook_url": "https://hooks.slack.com/x", "max_attempts": 100}, "max_attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := newNotifier(nil).ValidateConfig(context.Background(), plugin.ValidateConfigRequest{Config: tt.cfg})
			plugintesting.WantInvalidField(t, err, tt.wantField)
			if err != nil && strings.Contains(err.Error(), "hooks.slack.com") {
				t.Errorf("error repeats the webhook URL: %v", err)
			}
		})
	}
}

func TestPluginProcess(t *testing.T) {
	t.Parallel()
	n := plugintesting.OpenNotifier(t, ".", "slack")
	plugintesting.WantSensitive(t, n, "webhook_url")
	info, err := n.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := info.Schema.Field("webhook_url"); !ok || !f.Sensitive || !f.Required {
		t.Errorf("webhook_url must be a required secret: %+v", f)
	}
	srv := plugintesting.NewHTTPServer(t, plugintesting.Reply{Status: 200, Body: "ok"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := n.SendAlert(ctx, plugin.SendRequest{Config: plugin.Config{"webhook_url": srv.URL + hookPath}, Notification: fullNote}); err != nil {
		t.Fatalf("SendAlert: %v", err)
	}
	var m message
	if err := json.Unmarshal(srv.Last(t).Body, &m); err != nil || len(m.Blocks) != 5 || !strings.HasPrefix(m.Text, "[CRITICAL]") {
		t.Errorf("message %s (%v)", srv.Last(t).Body, err)
	}
}
