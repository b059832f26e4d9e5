package main

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/certctl/certctl/plugins/internal/notifyhttp"
	"github.com/certctl/certctl/plugins/internal/notifymsg"
	"github.com/certctl/certctl/sdk/plugin"
)

const name = "teams"

// notifier is the Microsoft Teams plugin: the HTTP notifiers' skeleton
// with an Adaptive Card.
type notifier = notifyhttp.Notifier[config]

func newNotifier(log *slog.Logger) *notifier {
	return notifyhttp.NewNotifier(log, notifyhttp.Service[config]{
		Info: plugin.Info{Name: name, Version: "1.0.0", Schema: schema,
			Description: "Posts notifications to a Microsoft Teams channel as Adaptive Cards through a webhook."},
		ReadConfig: readConfig,
		Message:    post,
	})
}

// post posts the card. Workflows webhooks answer 202, legacy ones 200;
// 429 (Teams throttles busy channels) and 5xx are retried.
func post(cfg config, n plugin.Notification, kind notifymsg.Kind, _ func() time.Time) (notifyhttp.Message, error) {
	body, err := json.Marshal(newMessage(n, kind))
	if err != nil {
		return notifyhttp.Message{}, plugin.Errorf(plugin.CodeInvalidInput, "encode card: %v", err)
	}
	return notifyhttp.Message{Delivery: cfg.delivery, Request: notifyhttp.Request{
		Service: name, URL: cfg.webhookURL, Header: notifyhttp.JSONHeader(name), Body: body,
	}}, nil
}
