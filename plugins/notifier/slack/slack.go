package main

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/certctl/certctl/plugins/internal/notifyhttp"
	"github.com/certctl/certctl/plugins/internal/notifymsg"
	"github.com/certctl/certctl/sdk/plugin"
)

const name = "slack"

// notifier is the Slack plugin: the HTTP notifiers' skeleton with Slack's
// message.
type notifier = notifyhttp.Notifier[config]

func newNotifier(log *slog.Logger) *notifier {
	return notifyhttp.NewNotifier(log, notifyhttp.Service[config]{
		Info: plugin.Info{Name: name, Version: "1.0.0", Schema: schema,
			Description: "Posts notifications to a Slack channel through an incoming webhook."},
		ReadConfig: readConfig,
		Message:    post,
	})
}

// post posts a Block Kit message to the webhook. Slack answers 200
// "ok"; its errors ("invalid_payload", "no_service", "channel_not_found")
// come with 4xx statuses and fail permanently, 429 and 5xx are retried.
func post(cfg config, n plugin.Notification, kind notifymsg.Kind, _ func() time.Time) (notifyhttp.Message, error) {
	body, err := json.Marshal(newMessage(cfg, n, kind))
	if err != nil {
		return notifyhttp.Message{}, plugin.Errorf(plugin.CodeInvalidInput, "encode message: %v", err)
	}
	return notifyhttp.Message{Delivery: cfg.delivery, Request: notifyhttp.Request{
		Service: name, URL: cfg.webhookURL, Header: notifyhttp.JSONHeader(name), Body: body,
	}}, nil
}
