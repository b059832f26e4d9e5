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

const routingKey = "R0UTINGKEY0123456789abcdefABCDEF"

var (
	fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	fullNote = plugin.Notification{
		ID:              "ntf-0001",
		Event:           "certificate.expiring",
		Severity:        plugin.SeverityCritical,
		Title:           "www.example.com expires in 3 days",
		Message:         "Renewal failed twice.",
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
	renewed = plugin.Notification{
		ID: "ntf-0002", Event: "certificate.renewed", Title: "www renewed", CertificateID: "c-1",
		CertificateName: "www", OccurredAt: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
	}
)

const accepted = `{"status":"success","message":"Event processed","dedup_key":"%s"}`

func TestSendPayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		alert       bool
		note        plugin.Notification
		extra       plugin.Config
		apiPath     string // appended to the server URL as api_url
		reply       string
		want        map[string]any
		wantPath    string
		wantMessage string
	}{
		{
			name:  "alert about a certificate",
			alert: true,
			note:  fullNote,
			reply: strings.Replace(accepted, "%s", "certctl-c-1", 1),
			want: map[string]any{
				"routing_key": routingKey, "event_action": "trigger", "dedup_key": "certctl-c-1",
				"payload": map[string]any{
					"summary": "www.example.com expires in 3 days", "source": "certctl", "severity": "critical",
					"timestamp": "2026-03-01T11:59:00Z", "component": "www", "group": "certificate", "class": "certificate.expiring",
					"custom_details": map[string]any{
						"message": "Renewal failed twice.", "notification_id": "ntf-0001", "certificate_id": "c-1",
						"certificate_name": "www", "common_name": "www.example.com", "serial_number": "0a1b2c",
						"url": "https://certctl.example.com/certificates/c-1", "sans": []any{"www.example.com", "example.com"},
						"not_after": "2026-03-04T00:00:00Z", "details": map[string]any{"days_left": "3"},
					},
				},
				"links": []any{map[string]any{"href": "https://certctl.example.com/certificates/c-1", "text": "Open in certctl"}},
			},
			wantPath:    "/v2/enqueue",
			wantMessage: "certctl-c-1",
		},
		{
			name:  "alert without certificate, api_url with a path",
			alert: true,
			note: plugin.Notification{ID: "ntf-9", Event: "agent.offline", Severity: plugin.SeverityWarning,
				Title: "agent a1 offline", Details: map[string]string{"agent_id": "a1"}},
			apiPath: "/proxy/",
			reply:   `{"status":"success"}`,
			want: map[string]any{
				"routing_key": routingKey, "event_action": "trigger", "dedup_key": "ntf-9",
				"payload": map[string]any{
					"summary": "agent a1 offline", "source": "certctl", "severity": "warning",
					"timestamp": "2026-03-01T12:00:00Z", "group": "agent", "class": "agent.offline",
					"custom_details": map[string]any{"notification_id": "ntf-9", "details": map[string]any{"agent_id": "a1"}},
				},
			},
			wantPath:    "/proxy/v2/enqueue",
			wantMessage: "ntf-9",
		},
		{
			name:  "event triggers at info by default",
			note:  renewed,
			reply: strings.Replace(accepted, "%s", "ntf-0002", 1),
			want: map[string]any{
				"routing_key": routingKey, "event_action": "trigger", "dedup_key": "ntf-0002",
				"payload": map[string]any{
					"summary": "www renewed", "source": "certctl", "severity": "info",
					"timestamp": "2026-03-02T00:00:00Z", "component": "www", "group": "certificate", "class": "certificate.renewed",
					"custom_details": map[string]any{"notification_id": "ntf-0002", "certificate_id": "c-1", "certificate_name": "www"},
				},
			},
			wantPath:    "/v2/enqueue",
			wantMessage: "ntf-0002",
		},
		{
			name:        "renewal resolves with resolve_on_events",
			note:        renewed,
			extra:       plugin.Config{"resolve_on_events": true},
			reply:       strings.Replace(accepted, "%s", "certctl-c-1", 1),
			want:        map[string]any{"routing_key": routingKey, "event_action": "resolve", "dedup_key": "certctl-c-1"},
			wantPath:    "/v2/enqueue",
			wantMessage: "certctl-c-1",
		},
		{
			name:  "other events still trigger with resolve_on_events",
			note:  plugin.Notification{ID: "ntf-3", Event: "certificate.revoked", Severity: "unusual", CertificateID: "c-1", Title: "revoked"},
			extra: plugin.Config{"resolve_on_events": true},
			reply: `{}`,
			want: map[string]any{
				"routing_key": routingKey, "event_action": "trigger", "dedup_key": "ntf-3",
				"payload": map[string]any{
					"summary": "revoked", "source": "certctl", "severity": "error",
					"timestamp": "2026-03-01T12:00:00Z", "group": "certificate", "class": "certificate.revoked",
					"custom_details": map[string]any{"notification_id": "ntf-3", "certificate_id": "c-1"},
				},
			},
			wantPath:    "/v2/enqueue",
			wantMessage: "ntf-3",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := plugintesting.NewHTTPServer(t, plugintesting.Reply{Status: 202, Body: tt.reply})
			cfg := tt.extra.Clone()
			cfg["routing_key"] = routingKey
			cfg["api_url"] = srv.URL + tt.apiPath
			p := newNotifier(nil)
			p.Now = func() time.Time { return fixedNow }
			send := p.SendEvent
			if tt.alert {
				send = p.SendAlert
			}
			res, err := send(context.Background(), plugin.SendRequest{Config: cfg, Notification: tt.note})
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			if res.MessageID != tt.wantMessage {
				t.Errorf("MessageID %q, want %q", res.MessageID, tt.wantMessage)
			}
			req := srv.Last(t)
			if req.Path != tt.wantPath || req.Header.Get("Content-Type") != "application/json" {
				t.Errorf("request to %s with Content-Type %q", req.Path, req.Header.Get("Content-Type"))
			}
			var got map[string]any
			if err := json.Unmarshal(req.Body, &got); err != nil {
				t.Fatalf("body is not JSON: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				g, _ := json.MarshalIndent(got, "", "  ")
				w, _ := json.MarshalIndent(tt.want, "", "  ")
				t.Errorf("event:\n got %s\nwant %s", g, w)
			}
		})
	}
}

func TestSummaryLimit(t *testing.T) {
	t.Parallel()
	n := fullNote
	n.Title = strings.Repeat("é", 2000)
	e := newEvent(config{}, n, "alert", fixedNow)
	if got := len([]rune(e.Payload.Summary)); got != maxSummary {
		t.Errorf("summary of %d characters, want %d", got, maxSummary)
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
		{"invalid event", []plugintesting.Reply{{Status: 400, Body: `{"status":"invalid event","message":"Event object is invalid","errors":["'payload.summary' is missing"]}`}}, plugin.CodePermanent, 1},
		{"rate limited then accepted", []plugintesting.Reply{{Status: 429, Header: map[string]string{"Retry-After": "0"}}, {Status: 202, Body: `{"status":"success","dedup_key":"k"}`}}, "", 2},
		{"500 until the attempts run out", []plugintesting.Reply{{Status: 500}}, plugin.CodeTransient, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := plugintesting.NewHTTPServer(t, tt.replies...)
			var logs bytes.Buffer
			p := newNotifier(slog.New(slog.NewJSONHandler(&logs, nil)))
			_, err := p.SendAlert(context.Background(), plugin.SendRequest{Config: plugin.Config{"routing_key": routingKey, "api_url": srv.URL, "retry_backoff": "1ms"}, Notification: fullNote})
			if got := plugin.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("error %v: code %q, want %q", err, got, tt.wantCode)
			}
			if (err != nil && strings.Contains(err.Error(), routingKey)) || strings.Contains(logs.String(), routingKey) {
				t.Errorf("routing key leaked: %v\n%s", err, logs.String())
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
		{"minimal", plugin.Config{"routing_key": routingKey}, ""},
		{"everything", plugin.Config{"routing_key": routingKey, "api_url": "https://events.eu.pagerduty.com", "resolve_on_events": true, "max_attempts": 1}, ""},
		{"missing key", plugin.Config{}, "routing_key"},
		{"empty key", plugin.Config{"routing_key": ""}, "routing_key"},
		{"key with space", plugin.Config{"routing_key": "abc def"}, "routing_key"},
		{"bad api_url", plugin.Config{"routing_key": routingKey, "api_url": "events.pagerduty.com"}, "api_url"},
		{"empty api_url", plugin.Config{"routing_key": routingKey, "api_url": ""}, "api_url"},
		{"resolve_on_events not a bool", plugin.Config{"routing_key": routingKey, "resolve_on_events": "yes"}, "resolve_on_events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := newNotifier(nil).ValidateConfig(context.Background(), plugin.ValidateConfigRequest{Config: tt.cfg})
			plugintesting.WantInvalidField(t, err, tt.wantField)
			if err != nil && strings.Contains(err.Error(), routingKey) {
				t.Errorf("error reveals the routing key: %v", err)
			}
		})
	}
}

func TestPluginProcess(t *testing.T) {
	t.Parallel()
	n := plugintesting.OpenNotifier(t, ".", "pagerduty")
	plugintesting.WantSensitive(t, n, "routing_key")
	srv := plugintesting.NewHTTPServer(t, plugintesting.Reply{Status: 202, Body: `{"status":"success","message":"Event processed","dedup_key":"certctl-c-1"}`})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := n.SendAlert(ctx, plugin.SendRequest{Config: plugin.Config{"routing_key": routingKey, "api_url": srv.URL}, Notification: fullNote})
	if err != nil {
		t.Fatalf("SendAlert: %v", err)
	}
	if res.MessageID != "certctl-c-1" {
		t.Errorf("MessageID %q", res.MessageID)
	}
	var e event
	if err := json.Unmarshal(srv.Last(t).Body, &e); err != nil || e.EventAction != "trigger" || e.RoutingKey != routingKey {
		t.Errorf("event %s (%v)", srv.Last(t).Body, err)
	}
}
