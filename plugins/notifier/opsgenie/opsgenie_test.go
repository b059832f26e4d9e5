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

const apiKey = "eb243592-faa2-4ba2-a551q-1afdf565c889"

var fullNote = plugin.Notification{
	ID:              "ntf-0001",
	Event:           "certificate.renewal_failed",
	Severity:        plugin.SeverityCritical,
	Title:           "Renewal of www failed",
	Message:         "The CA refused the order.",
	OccurredAt:      time.Date(2026, 3, 1, 11, 59, 0, 0, time.UTC),
	URL:             "https://certctl.example.com/certificates/c-1",
	CertificateID:   "c-1",
	CertificateName: "www",
	CommonName:      "www.example.com",
	SANs:            []string{"www.example.com", "example.com"},
	SerialNumber:    "0a1b2c",
	NotAfter:        time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC),
	Details:         map[string]string{"error": "rateLimited"},
}

const accepted = `{"result":"Request will be processed","took":0.302,"requestId":"43a29c5c-3dbf-4fa4-9c26-f4f71023e120"}`

func TestSendPayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		alert   bool
		note    plugin.Notification
		extra   plugin.Config
		apiPath string
		want    map[string]any
	}{
		{
			name:  "alert about a certificate, with tags and responders",
			alert: true,
			note:  fullNote,
			extra: plugin.Config{"tags": []any{"pki", "prod"}, "responders": []any{"Platform"}},
			want: map[string]any{
				"message": "Renewal of www failed",
				"alias":   "certctl-c-1-certificate.renewal_failed",
				"description": "The CA refused the order.\n\n" +
					"Certificate: www\nCommon name: www.example.com\nSANs: www.example.com, example.com\n" +
					"Serial number: 0a1b2c\nExpires: 2026-03-04 00:00 UTC\nSeverity: critical\n" +
					"Event: certificate.renewal_failed\nError: rateLimited\n\nhttps://certctl.example.com/certificates/c-1",
				"responders": []any{map[string]any{"name": "Platform", "type": "team"}},
				"tags":       []any{"pki", "prod", "certificate.renewal_failed"},
				"details": map[string]any{
					"certificate": "www", "common_name": "www.example.com", "sans": "www.example.com, example.com",
					"serial_number": "0a1b2c", "not_after": "2026-03-04T00:00:00Z", "severity": "critical",
					"event": "certificate.renewal_failed", "error": "rateLimited", "certificate_id": "c-1",
					"url": "https://certctl.example.com/certificates/c-1", "notification_id": "ntf-0001",
				},
				"entity":   "www",
				"source":   "certctl",
				"priority": "P1",
			},
		},
		{
			name:    "event without certificate, EU-style base URL with a path",
			note:    plugin.Notification{ID: "ntf-2", Event: "agent.offline", Title: "agent a1 offline"},
			apiPath: "/og",
			want: map[string]any{
				"message":     "agent a1 offline",
				"alias":       "ntf-2",
				"description": "Severity: info\nEvent: agent.offline",
				"tags":        []any{"agent.offline"},
				"details":     map[string]any{"severity": "info", "event": "agent.offline", "notification_id": "ntf-2"},
				"source":      "certctl",
				"priority":    "P5",
			},
		},
		{
			name:  "warning alert",
			alert: true,
			note:  plugin.Notification{ID: "ntf-3", Event: "certificate.expiring", Severity: "warning", Title: strings.Repeat("x", 200)},
			want: map[string]any{
				"message":     strings.Repeat("x", 129) + "…",
				"alias":       "ntf-3",
				"description": "Severity: warning\nEvent: certificate.expiring",
				"tags":        []any{"certificate.expiring"},
				"details":     map[string]any{"severity": "warning", "event": "certificate.expiring", "notification_id": "ntf-3"},
				"source":      "certctl",
				"priority":    "P3",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := plugintesting.NewHTTPServer(t, plugintesting.Reply{Status: 202, Body: accepted})
			cfg := tt.extra.Clone()
			cfg["api_key"] = apiKey
			cfg["api_url"] = srv.URL + tt.apiPath
			o := newNotifier(nil)
			send := o.SendEvent
			if tt.alert {
				send = o.SendAlert
			}
			res, err := send(context.Background(), plugin.SendRequest{Config: cfg, Notification: tt.note})
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			if res.MessageID != "43a29c5c-3dbf-4fa4-9c26-f4f71023e120" {
				t.Errorf("MessageID %q", res.MessageID)
			}
			req := srv.Last(t)
			if req.Path != tt.apiPath+"/v2/alerts" {
				t.Errorf("path %q", req.Path)
			}
			if got := req.Header.Get("Authorization"); got != "GenieKey "+apiKey {
				t.Errorf("Authorization %q", got)
			}
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
				t.Errorf("alert:\n got %s\nwant %s", g, w)
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
		{"bad key", []plugintesting.Reply{{Status: 401, Body: `{"message":"Key format is not valid!","took":0.0,"requestId":"x"}`}}, plugin.CodePermanent, 1},
		{"invalid alert", []plugintesting.Reply{{Status: 422, Body: `{"message":"Request body is not processable."}`}}, plugin.CodePermanent, 1},
		{"rate limited then accepted", []plugintesting.Reply{{Status: 429, Header: map[string]string{"Retry-After": "0"}}, {Status: 202, Body: accepted}}, "", 2},
		{"503 twice then accepted", []plugintesting.Reply{{Status: 503}, {Status: 503}, {Status: 202, Body: accepted}}, "", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := plugintesting.NewHTTPServer(t, tt.replies...)
			var logs bytes.Buffer
			o := newNotifier(slog.New(slog.NewJSONHandler(&logs, nil)))
			_, err := o.SendAlert(context.Background(), plugin.SendRequest{Config: plugin.Config{"api_key": apiKey, "api_url": srv.URL, "retry_backoff": "1ms"}, Notification: fullNote})
			if got := plugin.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("error %v: code %q, want %q", err, got, tt.wantCode)
			}
			if (err != nil && strings.Contains(err.Error(), apiKey)) || strings.Contains(logs.String(), apiKey) {
				t.Errorf("API key leaked: %v\n%s", err, logs.String())
			}
			if got := len(srv.Requests()); got != tt.wantReqs {
				t.Errorf("%d requests, want %d", got, tt.wantReqs)
			}
		})
	}
}

func TestValidateConfig(t *testing.T) {
	t.Parallel()
	many := make([]any, 20)
	for i := range many {
		many[i] = "t"
	}
	tests := []struct {
		name      string
		cfg       plugin.Config
		wantField string
	}{
		{"minimal", plugin.Config{"api_key": apiKey}, ""},
		{"EU with tags and responders", plugin.Config{"api_key": apiKey, "api_url": "https://api.eu.opsgenie.com", "tags": []any{"pki"}, "responders": []any{"Platform"}}, ""},
		{"missing key", plugin.Config{}, "api_key"},
		{"key with space", plugin.Config{"api_key": "a b"}, "api_key"},
		{"bad api_url", plugin.Config{"api_key": apiKey, "api_url": "ftp://api.opsgenie.com"}, "api_url"},
		{"too many tags", plugin.Config{"api_key": apiKey, "tags": many}, "tags"},
		{"long tag", plugin.Config{"api_key": apiKey, "tags": []any{strings.Repeat("t", 51)}}, "tags"},
		{"empty tag", plugin.Config{"api_key": apiKey, "tags": []any{""}}, "tags"},
		{"empty responder", plugin.Config{"api_key": apiKey, "responders": []any{" "}}, "responders"},
		{"tags not a list", plugin.Config{"api_key": apiKey, "tags": "pki"}, "tags"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := newNotifier(nil).ValidateConfig(context.Background(), plugin.ValidateConfigRequest{Config: tt.cfg})
			plugintesting.WantInvalidField(t, err, tt.wantField)
			if err != nil && strings.Contains(err.Error(), apiKey) {
				t.Errorf("error reveals the API key: %v", err)
			}
		})
	}
}

func TestPluginProcess(t *testing.T) {
	t.Parallel()
	n := plugintesting.OpenNotifier(t, ".", "opsgenie")
	plugintesting.WantSensitive(t, n, "api_key")
	srv := plugintesting.NewHTTPServer(t, plugintesting.Reply{Status: 202, Body: accepted})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := n.SendAlert(ctx, plugin.SendRequest{Config: plugin.Config{"api_key": apiKey, "api_url": srv.URL}, Notification: fullNote})
	if err != nil {
		t.Fatalf("SendAlert: %v", err)
	}
	if res.MessageID != "43a29c5c-3dbf-4fa4-9c26-f4f71023e120" {
		t.Errorf("MessageID %q", res.MessageID)
	}
	if got := srv.Last(t).Header.Get("Authorization"); got != "GenieKey "+apiKey {
		t.Errorf("Authorization %q", got)
	}
}
