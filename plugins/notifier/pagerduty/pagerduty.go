package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/certctl/certctl/plugins/internal/notifyhttp"
	"github.com/certctl/certctl/plugins/internal/notifymsg"
	"github.com/certctl/certctl/sdk/plugin"
)

const name = "pagerduty"

// notifier is the PagerDuty plugin.
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
		Description: "Triggers (and optionally resolves) PagerDuty incidents through the Events API v2.",
		Schema:      schema,
	}, nil
}

func (*notifier) ValidateConfig(_ context.Context, cfg plugin.Config) error {
	_, err := readConfig(cfg)
	return err
}

// SendAlert triggers an event; alerts about one certificate share a dedup
// key, so they update one incident.
func (p *notifier) SendAlert(ctx context.Context, cfg plugin.Config, n plugin.Notification) (plugin.SendResult, error) {
	return p.send(ctx, cfg, n, notifymsg.KindAlert)
}

// SendEvent triggers an event of its own, or with resolve_on_events
// resolves the certificate's incident on certificate.renewed/issued.
func (p *notifier) SendEvent(ctx context.Context, cfg plugin.Config, n plugin.Notification) (plugin.SendResult, error) {
	return p.send(ctx, cfg, n, notifymsg.KindEvent)
}

// answer is the Events API's reply: 202 {"status": "success", "dedup_key": ...}.
type answer struct {
	Status   string `json:"status"`
	Message  string `json:"message"`
	DedupKey string `json:"dedup_key"`
}

func (p *notifier) send(ctx context.Context, raw plugin.Config, n plugin.Notification, kind notifymsg.Kind) (plugin.SendResult, error) {
	cfg, err := readConfig(raw)
	if err != nil {
		return plugin.SendResult{}, err
	}
	ev := newEvent(cfg, n, kind, p.now())
	body, err := json.Marshal(ev)
	if err != nil {
		return plugin.SendResult{}, plugin.Errorf(plugin.CodeInvalidInput, "encode event: %v", err)
	}
	resp, err := p.sender.Post(ctx, cfg.delivery, notifyhttp.Request{
		Service: name, URL: cfg.enqueueURL, Header: notifyhttp.JSONHeader(name), Body: body,
	})
	if err != nil {
		return plugin.SendResult{}, err
	}
	var a answer
	if json.Unmarshal(resp.Body, &a) == nil && a.DedupKey != "" {
		return plugin.SendResult{MessageID: a.DedupKey}, nil
	}
	return plugin.SendResult{MessageID: ev.DedupKey}, nil
}
