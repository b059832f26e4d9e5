package main

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/certctl/certctl/plugins/internal/notifyhttp"
	"github.com/certctl/certctl/plugins/internal/notifymsg"
	"github.com/certctl/certctl/sdk/plugin"
)

const name = "opsgenie"

// notifier is the Opsgenie plugin: the HTTP notifiers' skeleton with an
// Alert API request. An event creates an alert too, at P5 unless the event
// says otherwise: Opsgenie has no informational message type.
type notifier = notifyhttp.Notifier[config]

func newNotifier(log *slog.Logger) *notifier {
	return notifyhttp.NewNotifier(log, notifyhttp.Service[config]{
		Info: plugin.Info{Name: name, Version: "1.0.0", Schema: schema,
			Description: "Creates Opsgenie alerts through the Alert API."},
		ReadConfig: readConfig,
		Message:    post,
	})
}

// answer is the Alert API's reply: 202 {"result": "Request will be
// processed", "took": 0.3, "requestId": "..."}; the alert itself is
// created asynchronously.
type answer struct {
	Result    string `json:"result"`
	RequestID string `json:"requestId"`
}

func post(cfg config, n plugin.Notification, kind notifymsg.Kind, _ func() time.Time) (notifyhttp.Message, error) {
	body, err := json.Marshal(newAlert(cfg, n, kind))
	if err != nil {
		return notifyhttp.Message{}, plugin.Errorf(plugin.CodeInvalidInput, "encode alert: %v", err)
	}
	header := notifyhttp.JSONHeader(name)
	header.Set("Authorization", "GenieKey "+cfg.apiKey)
	return notifyhttp.Message{
		Delivery: cfg.delivery,
		Request:  notifyhttp.Request{Service: name, URL: cfg.alertsURL, Header: header, Body: body},
		ReadAnswer: func(body []byte) (plugin.SendResult, bool) {
			var a answer
			_ = json.Unmarshal(body, &a)
			return plugin.SendResult{MessageID: a.RequestID}, true
		},
	}, nil
}
