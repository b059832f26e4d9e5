package main

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/certctl/certctl/plugins/internal/notifyhttp"
	"github.com/certctl/certctl/plugins/internal/notifymsg"
	"github.com/certctl/certctl/sdk/plugin"
)

const name = "opsgenie"

// notifier is the Opsgenie plugin.
type notifier struct {
	sender *notifyhttp.Sender
}

func newNotifier(log *slog.Logger) *notifier {
	return &notifier{sender: notifyhttp.NewSender(log)}
}

func (*notifier) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{
		Name:        name,
		Kind:        plugin.KindNotifier,
		Version:     "1.0.0",
		Description: "Creates Opsgenie alerts through the Alert API.",
		Schema:      schema,
	}, nil
}

func (*notifier) ValidateConfig(_ context.Context, cfg plugin.Config) error {
	_, err := readConfig(cfg)
	return err
}

func (o *notifier) SendAlert(ctx context.Context, cfg plugin.Config, n plugin.Notification) (plugin.SendResult, error) {
	return o.send(ctx, cfg, n, notifymsg.KindAlert)
}

// SendEvent creates an alert too, at P5 unless the event says otherwise:
// Opsgenie has no informational message type.
func (o *notifier) SendEvent(ctx context.Context, cfg plugin.Config, n plugin.Notification) (plugin.SendResult, error) {
	return o.send(ctx, cfg, n, notifymsg.KindEvent)
}

// answer is the Alert API's reply: 202 {"result": "Request will be
// processed", "took": 0.3, "requestId": "..."}; the alert itself is
// created asynchronously.
type answer struct {
	Result    string `json:"result"`
	RequestID string `json:"requestId"`
}

func (o *notifier) send(ctx context.Context, raw plugin.Config, n plugin.Notification, kind notifymsg.Kind) (plugin.SendResult, error) {
	cfg, err := readConfig(raw)
	if err != nil {
		return plugin.SendResult{}, err
	}
	body, err := json.Marshal(newAlert(cfg, n, kind))
	if err != nil {
		return plugin.SendResult{}, plugin.Errorf(plugin.CodeInvalidInput, "encode alert: %v", err)
	}
	header := notifyhttp.JSONHeader(name)
	header.Set("Authorization", "GenieKey "+cfg.apiKey)
	resp, err := o.sender.Post(ctx, cfg.delivery, notifyhttp.Request{
		Service: name, URL: cfg.alertsURL, Header: header, Body: body,
	})
	if err != nil {
		return plugin.SendResult{}, err
	}
	var a answer
	_ = json.Unmarshal(resp.Body, &a)
	return plugin.SendResult{MessageID: a.RequestID}, nil
}
