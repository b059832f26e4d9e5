package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/plugins/internal/plugintesting"
	"github.com/certctl/certctl/sdk/plugin"
)

var (
	fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	fullNote = plugin.Notification{
		ID:              "ntf-0001",
		Event:           "certificate.expiring",
		Severity:        plugin.SeverityCritical,
		Title:           "www.example.com expires in 3 days",
		Message:         "Renewal failed twice; check the ACME account.",
		OccurredAt:      time.Date(2026, 3, 1, 11, 59, 0, 0, time.FixedZone("CET", 3600)),
		URL:             "https://certctl.example.com/certificates/c-1",
		CertificateID:   "c-1",
		CertificateName: "www",
		CommonName:      "www.example.com",
		SANs:            []string{"www.example.com", "example.com"},
		SerialNumber:    "0a1b2c",
		NotAfter:        time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC),
		Details:         map[string]string{"days_left": "3"},
	}
)

func testNotifier() *notifier {
	n := newNotifier(nil)
	n.Now = func() time.Time { return fixedNow }
	return n
}

func TestSendPayloadAndHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		alert   bool
		note    plugin.Notification
		cfg     plugin.Config
		want    map[string]any
		headers map[string]string // "" means absent
	}{
		{
			name:  "alert with every field, signed, extra headers",
			alert: true,
			note:  fullNote,
			cfg:   plugin.Config{"secret": "s3cr3t", "headers": []any{"Authorization: Bearer tok", "X-Team: pki"}},
			want: map[string]any{
				"id": "ntf-0001", "kind": "alert", "event": "certificate.expiring", "severity": "critical",
				"title": "www.example.com expires in 3 days", "message": "Renewal failed twice; check the ACME account.",
				"occurred_at": "2026-03-01T10:59:00Z", "url": "https://certctl.example.com/certificates/c-1",
				"certificate": map[string]any{
					"id": "c-1", "name": "www", "common_name": "www.example.com",
					"sans": []any{"www.example.com", "example.com"}, "serial_number": "0a1b2c",
					"not_after": "2026-03-04T00:00:00Z",
				},
				"details": map[string]any{"days_left": "3"},
			},
			headers: map[string]string{
				"Content-Type": "application/json", "User-Agent": "certctl-notifier-webhook/1.0",
				"X-Certctl-Event": "certificate.expiring", "X-Certctl-Delivery": "ntf-0001",
				"X-Certctl-Timestamp": strconv.FormatInt(fixedNow.Unix(), 10),
				"Authorization":       "Bearer tok", "X-Team": "pki",
			},
		},
		{
			name: "event without certificate, unsigned",
			note: plugin.Notification{ID: "ntf-2", Event: "agent.offline", Title: "agent a1 offline", Message: "no heartbeat"},
			cfg:  plugin.Config{},
			want: map[string]any{
				"id": "ntf-2", "kind": "event", "event": "agent.offline", "severity": "info",
				"title": "agent a1 offline", "message": "no heartbeat", "occurred_at": "2026-03-01T12:00:00Z",
			},
			headers: map[string]string{
				"X-Certctl-Event": "agent.offline", "X-Certctl-Delivery": "ntf-2",
				"X-Certctl-Signature": "", "X-Certctl-Timestamp": "",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := plugintesting.NewHTTPServer(t, plugintesting.Reply{Status: 204})
			cfg := tt.cfg.Clone()
			cfg["url"] = srv.URL + "/hooks/certctl"
			w := testNotifier()
			send := w.SendEvent
			if tt.alert {
				send = w.SendAlert
			}
			if _, err := send(context.Background(), plugin.SendRequest{Config: cfg, Notification: tt.note}); err != nil {
				t.Fatalf("send: %v", err)
			}
			req := srv.Last(t)
			if req.Path != "/hooks/certctl" {
				t.Errorf("path %q", req.Path)
			}
			var got map[string]any
			if err := json.Unmarshal(req.Body, &got); err != nil {
				t.Fatalf("body is not JSON: %v\n%s", err, req.Body)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("payload:\n got %v\nwant %v", got, tt.want)
			}
			for k, v := range tt.headers {
				if g := req.Header.Get(k); g != v {
					t.Errorf("header %s = %q, want %q", k, g, v)
				}
			}
			if secret := cfg.String("secret"); secret != "" {
				// Recompute the signature the way the documentation tells receivers to.
				ts := req.Header.Get("X-Certctl-Timestamp")
				m := hmac.New(sha256.New, []byte(secret))
				m.Write([]byte(ts + "."))
				m.Write(req.Body)
				want := "sha256=" + hex.EncodeToString(m.Sum(nil))
				if g := req.Header.Get("X-Certctl-Signature"); g != want {
					t.Errorf("signature %q, want %q", g, want)
				}
				if !verify(secret, ts, req.Header.Get("X-Certctl-Signature"), req.Body, fixedNow, 5*time.Minute) {
					t.Error("verify rejects a good signature")
				}
			}
		})
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"x"}`)
	ts, sig := sign("k", fixedNow, body)
	tests := []struct {
		name            string
		secret, ts, sig string
		body            []byte
		now             time.Time
		want            bool
	}{
		{"good", "k", ts, sig, body, fixedNow, true},
		{"wrong secret", "other", ts, sig, body, fixedNow, false},
		{"body changed", "k", ts, sig, []byte(`{"id":"y"}`), fixedNow, false},
		{"timestamp changed", "k", strconv.FormatInt(fixedNow.Unix()+1, 10), sig, body, fixedNow, false},
		{"too old", "k", ts, sig, body, fixedNow.Add(10 * time.Minute), false},
		{"no prefix", "k", ts, strings.TrimPrefix(sig, "sha256="), body, fixedNow, false},
		{"not hex", "k", ts, "sha256=zz", body, fixedNow, false},
	}
	for _, tt := range tests {
		if got := verify(tt.secret, tt.ts, tt.sig, tt.body, tt.now, 5*time.Minute); got != tt.want {
			t.Errorf("%s: verify = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestSendRetriesAndFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		replies  []plugintesting.Reply
		wantCode string
		wantReqs int
	}{
		{"503 twice then 200", []plugintesting.Reply{{Status: 503}, {Status: 503}, {Status: 200}}, "", 3},
		{"400 at once", []plugintesting.Reply{{Status: 400}}, plugin.CodePermanent, 1},
		{"429 with Retry-After 0 then 200", []plugintesting.Reply{{Status: 429, Header: map[string]string{"Retry-After": "0"}}, {Status: 200}}, "", 2},
		{"5xx exhausted", []plugintesting.Reply{{Status: 502}}, plugin.CodeTransient, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := plugintesting.NewHTTPServer(t, tt.replies...)
			cfg := plugin.Config{"url": srv.URL, "secret": "s", "retry_backoff": "1ms"}
			_, err := testNotifier().SendAlert(context.Background(), plugin.SendRequest{Config: cfg, Notification: fullNote})
			if got := plugin.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("error %v: code %q, want %q", err, got, tt.wantCode)
			}
			reqs := srv.Requests()
			if len(reqs) != tt.wantReqs {
				t.Fatalf("%d requests, want %d", len(reqs), tt.wantReqs)
			}
			for _, r := range reqs {
				if r.Header.Get("X-Certctl-Delivery") != fullNote.ID || !bytes.Equal(r.Body, reqs[0].Body) {
					t.Error("retries must carry the same delivery id and body")
				}
			}
		})
	}
}

func TestValidateConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cfg       plugin.Config
		wantField string // "" for valid
	}{
		{"minimal", plugin.Config{"url": "https://hooks.example.com/x"}, ""},
		{"everything", plugin.Config{"url": "http://127.0.0.1:8080/x?y=1", "secret": "s", "headers": []any{"Authorization: Bearer x"},
			"timeout": "30s", "max_attempts": 5, "retry_backoff": "2s"}, ""},
		{"missing url", plugin.Config{}, "url"},
		{"empty url", plugin.Config{"url": ""}, "url"},
		{"ftp url", plugin.Config{"url": "ftp://example.com/x"}, "url"},
		{"relative url", plugin.Config{"url": "/hooks"}, "url"},
		{"url with credentials", plugin.Config{"url": "https://u:p@example.com/"}, "url"},
		{"unknown field", plugin.Config{"url": "https://example.com", "colour": "red"}, "colour"},
		{"header without colon", plugin.Config{"url": "https://example.com", "headers": []any{"Authorization Bearer x"}}, "headers"},
		{"header with bad name", plugin.Config{"url": "https://example.com", "headers": []any{"Bad Name: x"}}, "headers"},
		{"reserved header", plugin.Config{"url": "https://example.com", "headers": []any{"Content-Type: text/plain"}}, "headers"},
		{"certctl header", plugin.Config{"url": "https://example.com", "headers": []any{"x-certctl-signature: x"}}, "headers"},
		{"header with line break", plugin.Config{"url": "https://example.com", "headers": []any{"X-A: b\r\nX-B: c"}}, "headers"},
		{"zero timeout", plugin.Config{"url": "https://example.com", "timeout": "0s"}, "timeout"},
		{"huge timeout", plugin.Config{"url": "https://example.com", "timeout": "1h"}, "timeout"},
		{"zero attempts", plugin.Config{"url": "https://example.com", "max_attempts": 0}, "max_attempts"},
		{"too many attempts", plugin.Config{"url": "https://example.com", "max_attempts": 11}, "max_attempts"},
		{"negative backoff", plugin.Config{"url": "https://example.com", "retry_backoff": "-1s"}, "retry_backoff"},
		{"wrong type", plugin.Config{"url": "https://example.com", "max_attempts": "three"}, "max_attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := testNotifier().ValidateConfig(context.Background(), plugin.ValidateConfigRequest{Config: tt.cfg})
			plugintesting.WantInvalidField(t, err, tt.wantField)
			if err != nil && strings.Contains(err.Error(), "Bearer") {
				t.Errorf("error reveals a header value: %v", err)
			}
		})
	}
}

func TestPluginProcess(t *testing.T) {
	t.Parallel()
	n := plugintesting.OpenNotifier(t, ".", "webhook")
	plugintesting.WantSensitive(t, n, "url", "secret", "headers")
	srv := plugintesting.NewHTTPServer(t, plugintesting.Reply{Status: 200})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := plugin.Config{"url": srv.URL + "/in", "secret": "process-secret"}
	if err := n.ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: cfg}); err != nil {
		t.Fatalf("ValidateConfig: %v", err)
	}
	if _, err := n.SendAlert(ctx, plugin.SendRequest{Config: cfg, Notification: fullNote}); err != nil {
		t.Fatalf("SendAlert: %v", err)
	}
	req := srv.Last(t)
	var p Payload
	if err := json.Unmarshal(req.Body, &p); err != nil || p.ID != fullNote.ID || p.Kind != "alert" || p.Certificate == nil || p.Certificate.Name != "www" {
		t.Fatalf("payload %s (%v)", req.Body, err)
	}
	if !verify("process-secret", req.Header.Get("X-Certctl-Timestamp"), req.Header.Get("X-Certctl-Signature"), req.Body, time.Now(), time.Minute) {
		t.Error("signature from the plugin process does not verify")
	}
	plugintesting.WantInvalidField(t, n.ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: plugin.Config{"url": "ftp://x"}}), "url")
	bad := plugintesting.NewHTTPServer(t, plugintesting.Reply{Status: 410})
	if _, err := n.SendEvent(ctx, plugin.SendRequest{Config: plugin.Config{"url": bad.URL}, Notification: fullNote}); plugin.ErrorCode(err) != plugin.CodePermanent {
		t.Errorf("410 through the process: %v, want permanent", err)
	}
}
