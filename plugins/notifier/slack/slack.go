package main

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/certctl/certctl/plugins/internal/notifyhttp"
	"github.com/certctl/certctl/plugins/internal/notifymsg"
	"github.com/certctl/certctl/sdk/plugin"
)

const name = "slack"

// notifier is the Slack plugin.
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
		Description: "Posts notifications to a Slack channel through an incoming webhook.",
		Schema:      schema,
	}, nil
}

func (*notifier) ValidateConfig(_ context.Context, cfg plugin.Config) error {
	_, err := readConfig(cfg)
	return err
}

func (s *notifier) SendAlert(ctx context.Context, cfg plugin.Config, n plugin.Notification) (plugin.SendResult, error) {
	return s.send(ctx, cfg, n, notifymsg.KindAlert)
}

func (s *notifier) SendEvent(ctx context.Context, cfg plugin.Config, n plugin.Notification) (plugin.SendResult, error) {
	return s.send(ctx, cfg, n, notifymsg.KindEvent)
}

// send posts the message. Slack answers 200 "ok"; its errors
// ("invalid_payload", "no_service", "channel_not_found") come with 4xx
// statuses and fail permanently, 429 and 5xx are retried.
func (s *notifier) send(ctx context.Context, raw plugin.Config, n plugin.Notification, kind notifymsg.Kind) (plugin.SendResult, error) {
	cfg, err := readConfig(raw)
	if err != nil {
		return plugin.SendResult{}, err
	}
	body, err := json.Marshal(newMessage(cfg, n, kind))
	if err != nil {
		return plugin.SendResult{}, plugin.Errorf(plugin.CodeInvalidInput, "encode message: %v", err)
	}
	_, err = s.sender.Post(ctx, cfg.delivery, notifyhttp.Request{
		Service: name, URL: cfg.webhookURL, Header: notifyhttp.JSONHeader(name), Body: body,
	})
	return plugin.SendResult{}, err
}
