package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/certctl/certctl/plugins/internal/notifyhttp"
	"github.com/certctl/certctl/plugins/internal/notifymsg"
	"github.com/certctl/certctl/sdk/plugin"
)

const name = "webhook"

// notifier is the webhook plugin: the HTTP notifiers' skeleton with
// certctl's own JSON payload, optionally signed.
type notifier = notifyhttp.Notifier[config]

func newNotifier(log *slog.Logger) *notifier {
	return notifyhttp.NewNotifier(log, notifyhttp.Service[config]{
		Info: plugin.Info{Name: name, Version: "1.0.0", Schema: schema,
			Description: "POSTs notifications as JSON to any URL, optionally signed with HMAC-SHA256."},
		ReadConfig: readConfig,
		Message:    post,
	})
}

// post is the payload with the configured headers; with a secret,
// every attempt is signed anew (its timestamp is the attempt's).
func post(cfg config, n plugin.Notification, kind notifymsg.Kind, now func() time.Time) (notifyhttp.Message, error) {
	body, err := json.Marshal(newPayload(n, kind, now()))
	if err != nil {
		return notifyhttp.Message{}, plugin.Errorf(plugin.CodeInvalidInput, "encode notification: %v", err)
	}
	header := notifyhttp.JSONHeader(name)
	for k, v := range cfg.headers {
		header[k] = v
	}
	header.Set("X-Certctl-Event", n.Event)
	header.Set("X-Certctl-Delivery", n.ID)
	req := notifyhttp.Request{Service: name, URL: cfg.url, Header: header, Body: body}
	if cfg.secret != "" {
		req.Prepare = func(h http.Header) {
			ts, sig := sign(cfg.secret, now(), body)
			h.Set(headerTimestamp, ts)
			h.Set(headerSignature, sig)
		}
	}
	return notifyhttp.Message{Delivery: cfg.delivery, Request: req}, nil
}
