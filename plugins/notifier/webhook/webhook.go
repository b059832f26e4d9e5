package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/certctl/certctl/plugins/internal/notifyhttp"
	"github.com/certctl/certctl/plugins/internal/notifymsg"
	"github.com/certctl/certctl/sdk/plugin"
)

const name = "webhook"

// notifier is the webhook plugin.
type notifier struct {
	sender *notifyhttp.Sender
	now    func() time.Time
}

func newNotifier(log *slog.Logger) *notifier {
	return &notifier{sender: notifyhttp.NewSender(log), now: time.Now}
}

func (*notifier) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{
		Name:        name,
		Kind:        plugin.KindNotifier,
		Version:     "1.0.0",
		Description: "POSTs notifications as JSON to any URL, optionally signed with HMAC-SHA256.",
		Schema:      schema,
	}, nil
}

func (*notifier) ValidateConfig(_ context.Context, cfg plugin.Config) error {
	_, err := readConfig(cfg)
	return err
}

func (w *notifier) SendAlert(ctx context.Context, cfg plugin.Config, n plugin.Notification) (plugin.SendResult, error) {
	return w.send(ctx, cfg, n, notifymsg.KindAlert)
}

func (w *notifier) SendEvent(ctx context.Context, cfg plugin.Config, n plugin.Notification) (plugin.SendResult, error) {
	return w.send(ctx, cfg, n, notifymsg.KindEvent)
}

func (w *notifier) send(ctx context.Context, raw plugin.Config, n plugin.Notification, kind notifymsg.Kind) (plugin.SendResult, error) {
	cfg, err := readConfig(raw)
	if err != nil {
		return plugin.SendResult{}, err
	}
	body, err := json.Marshal(newPayload(n, kind, w.now()))
	if err != nil {
		return plugin.SendResult{}, plugin.Errorf(plugin.CodeInvalidInput, "encode notification: %v", err)
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
			ts, sig := sign(cfg.secret, w.now(), body)
			h.Set(headerTimestamp, ts)
			h.Set(headerSignature, sig)
		}
	}
	if _, err := w.sender.Post(ctx, cfg.delivery, req); err != nil {
		return plugin.SendResult{}, err
	}
	return plugin.SendResult{}, nil
}
