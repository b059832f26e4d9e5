package main

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/certctl/certctl/plugins/internal/notifyhttp"
	"github.com/certctl/certctl/plugins/internal/notifymsg"
	"github.com/certctl/certctl/sdk/plugin"
)

const name = "pagerduty"

// notifier is the PagerDuty plugin: the HTTP notifiers' skeleton with an
// Events API v2 event. Alerts about one certificate share a dedup key, so
// they update one incident; an event triggers one of its own, or with
// resolve_on_events resolves the certificate's incident on
// certificate.renewed/issued.
type notifier = notifyhttp.Notifier[config]

func newNotifier(log *slog.Logger) *notifier {
	return notifyhttp.NewNotifier(log, notifyhttp.Service[config]{
		Info: plugin.Info{Name: name, Version: "1.0.0", Schema: schema,
			Description: "Triggers (and optionally resolves) PagerDuty incidents through the Events API v2."},
		ReadConfig: readConfig,
		Message:    post,
	})
}

// answer is the Events API's reply: 202 {"status": "success", "dedup_key": ...}.
type answer struct {
	Status   string `json:"status"`
	Message  string `json:"message"`
	DedupKey string `json:"dedup_key"`
}

func post(cfg config, n plugin.Notification, kind notifymsg.Kind, now func() time.Time) (notifyhttp.Message, error) {
	ev := newEvent(cfg, n, kind, now())
	body, err := json.Marshal(ev)
	if err != nil {
		return notifyhttp.Message{}, plugin.Errorf(plugin.CodeInvalidInput, "encode event: %v", err)
	}
	return notifyhttp.Message{
		Delivery: cfg.delivery,
		Request:  notifyhttp.Request{Service: name, URL: cfg.enqueueURL, Header: notifyhttp.JSONHeader(name), Body: body},
		Result:   plugin.SendResult{MessageID: ev.DedupKey},
		ReadAnswer: func(body []byte) (plugin.SendResult, bool) {
			var a answer
			if json.Unmarshal(body, &a) == nil && a.DedupKey != "" {
				return plugin.SendResult{MessageID: a.DedupKey}, true
			}
			return plugin.SendResult{}, false
		},
	}, nil
}
