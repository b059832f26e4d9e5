package main

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/plugins/internal/plugintesting"
	"github.com/certctl/certctl/sdk/plugin"
)

const hookPath = "/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=SECRETSIG"

var fullNote = plugin.Notification{
	ID:              "ntf-0001",
	Event:           "deployment.failed",
	Severity:        plugin.SeverityWarning,
	Title:           "Deployment of www to nginx-1 failed",
	Message:         "nginx -t failed; the previous certificate is still served.",
	OccurredAt:      time.Date(2026, 3, 1, 11, 59, 0, 0, time.UTC),
	URL:             "https://certctl.example.com/certificates/c-1",
	CertificateID:   "c-1",
	CertificateName: "www",
	CommonName:      "www.example.com",
	SerialNumber:    "0a1b2c",
	NotAfter:        time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC),
	Details:         map[string]string{"target": "nginx-1"},
}

func wantCard(body []any, actions []any) map[string]any {
	c := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body":    body,
		"msteams": map[string]any{"width": "Full"},
	}
	if actions != nil {
		c["actions"] = actions
	}
	return map[string]any{
		"type": "message",
		"attachments": []any{map[string]any{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content":     c,
		}},
	}
}

func wantFact(title, value string) map[string]any {
	return map[string]any{"title": title, "value": value}
}

func TestSendPayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		alert bool
		note  plugin.Notification
		want  map[string]any
	}{
		{
			name:  "alert with certificate and link",
			alert: true,
			note:  fullNote,
			want: wantCard([]any{
				map[string]any{"type": "TextBlock", "text": "Deployment of www to nginx-1 failed", "size": "Large", "weight": "Bolder", "color": "Warning", "wrap": true},
				map[string]any{"type": "TextBlock", "text": "nginx -t failed; the previous certificate is still served.", "wrap": true},
				map[string]any{"type": "FactSet", "facts": []any{
					wantFact("Certificate", "www"), wantFact("Common name", "www.example.com"), wantFact("Serial number", "0a1b2c"),
					wantFact("Expires", "2026-03-04 00:00 UTC"), wantFact("Severity", "warning"), wantFact("Event", "deployment.failed"),
					wantFact("Target", "nginx-1"),
				}},
			}, []any{map[string]any{"type": "Action.OpenUrl", "title": "Open in certctl", "url": "https://certctl.example.com/certificates/c-1"}}),
		},
		{
			name: "event, no link",
			note: plugin.Notification{ID: "n2", Event: "certificate.renewed", Title: "www renewed"},
			want: wantCard([]any{
				map[string]any{"type": "TextBlock", "text": "www renewed", "size": "Large", "weight": "Bolder", "color": "Accent", "wrap": true},
				map[string]any{"type": "FactSet", "facts": []any{wantFact("Severity", "info"), wantFact("Event", "certificate.renewed")}},
			}, nil),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := plugintesting.NewHTTPServer(t, plugintesting.Reply{Status: 202})
			s := newNotifier(nil)
			send := s.SendEvent
			if tt.alert {
				send = s.SendAlert
			}
			if _, err := send(context.Background(), plugin.SendRequest{Config: plugin.Config{"webhook_url": srv.URL + hookPath}, Notification: tt.note}); err != nil {
				t.Fatalf("send: %v", err)
			}
			req := srv.Last(t)
			if req.Header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", req.Header.Get("Content-Type"))
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

func TestSendErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		replies  []plugintesting.Reply
		wantCode string
		wantReqs int
	}{
		{"bad request", []plugintesting.Reply{{Status: 400, Body: `{"error":{"code":"TriggerInputSchemaMismatch"}}`}}, plugin.CodePermanent, 1},
		{"unauthorized", []plugintesting.Reply{{Status: 401}}, plugin.CodePermanent, 1},
		{"throttled then ok", []plugintesting.Reply{{Status: 429, Header: map[string]string{"Retry-After": "0"}}, {Status: 202}}, "", 2},
		{"502 then ok", []plugintesting.Reply{{Status: 502}, {Status: 200, Body: "1"}}, "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := plugintesting.NewHTTPServer(t, tt.replies...)
			_, err := newNotifier(nil).SendAlert(context.Background(), plugin.SendRequest{Config: plugin.Config{"webhook_url": srv.URL + hookPath, "retry_backoff": "1ms"}, Notification: fullNote})
			if got := plugin.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("error %v: code %q, want %q", err, got, tt.wantCode)
			}
			if err != nil && strings.Contains(err.Error(), "SECRETSIG") {
				t.Errorf("error reveals the webhook signature: %v", err)
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
		{"workflows URL", plugin.Config{"webhook_url": "https://prod-01.westeurope.logic.azure.com:443/workflows/x/triggers/manual/paths/invoke?sig=y"}, ""},
		{"with timeout", plugin.Config{"webhook_url": "https://example.webhook.office.com/webhookb2/x", "timeout": "3s"}, ""},
		{"missing", plugin.Config{}, "webhook_url"},
		{"no scheme", plugin.Config{"webhook_url": "example.webhook.office.com/x"}, "webhook_url"},
		{"no host", plugin.Config{"webhook_url": "https:///x"}, "webhook_url"},
		{"bad timeout", plugin.Config{"webhook_url": "https://x.example/", "timeout": "soon"}, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			plugintesting.WantInvalidField(t, newNotifier(nil).ValidateConfig(context.Background(), plugin.ValidateConfigRequest{Config: tt.cfg}), tt.wantField)
		})
	}
}

func TestPluginProcess(t *testing.T) {
	t.Parallel()
	n := plugintesting.OpenNotifier(t, ".", "teams")
	plugintesting.WantSensitive(t, n, "webhook_url")
	srv := plugintesting.NewHTTPServer(t, plugintesting.Reply{Status: 202})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := n.SendEvent(ctx, plugin.SendRequest{Config: plugin.Config{"webhook_url": srv.URL + hookPath}, Notification: fullNote}); err != nil {
		t.Fatalf("SendEvent: %v", err)
	}
	var m message
	if err := json.Unmarshal(srv.Last(t).Body, &m); err != nil || m.Type != "message" || len(m.Attachments) != 1 ||
		m.Attachments[0].Content.Version != "1.4" {
		t.Errorf("message %s (%v)", srv.Last(t).Body, err)
	}
}
