package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/certctl/certctl/plugins/internal/notifymsg"
	"github.com/certctl/certctl/plugins/internal/retry"
	"github.com/certctl/certctl/sdk/plugin"
)

const name = "email"

// notifier is the e-mail plugin.
type notifier struct {
	log *slog.Logger
	now func() time.Time
}

func newNotifier(log *slog.Logger) *notifier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &notifier{log: log, now: time.Now}
}

func (*notifier) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{
		Name:        name,
		Kind:        plugin.KindNotifier,
		Version:     "1.0.0",
		Description: "Sends notifications as e-mail (text and HTML) through an SMTP server, with STARTTLS or implicit TLS and AUTH PLAIN.",
		Schema:      schema,
	}, nil
}

func (*notifier) ValidateConfig(_ context.Context, req plugin.ValidateConfigRequest) error {
	cfg := req.Config
	_, err := readConfig(cfg)
	return err
}

func (e *notifier) SendAlert(ctx context.Context, req plugin.SendRequest) (plugin.SendResult, error) {
	cfg, n := req.Config, req.Notification
	return e.send(ctx, cfg, n, notifymsg.KindAlert)
}

func (e *notifier) SendEvent(ctx context.Context, req plugin.SendRequest) (plugin.SendResult, error) {
	cfg, n := req.Config, req.Notification
	return e.send(ctx, cfg, n, notifymsg.KindEvent)
}

// send builds the message once and delivers it, retrying transient
// failures; every attempt carries the same Message-ID, which it returns.
func (e *notifier) send(ctx context.Context, raw plugin.Config, n plugin.Notification, kind notifymsg.Kind) (plugin.SendResult, error) {
	cfg, err := readConfig(raw)
	if err != nil {
		return plugin.SendResult{}, err
	}
	msg, id, err := buildMessage(cfg, n, kind, e.now())
	if err != nil {
		return plugin.SendResult{}, plugin.Errorf(plugin.CodeInvalidInput, "build message: %v", err)
	}
	policy := cfg.delivery.Retry
	policy.OnRetry = func(attempt int, err error, wait time.Duration) {
		e.log.Warn("delivery attempt failed, retrying", "service", name, "server", cfg.addr(),
			"attempt", attempt, "wait", wait.String(), "err", err.Error())
	}
	err = retry.Do(ctx, policy, func(ctx context.Context, _ int) error {
		return deliver(ctx, cfg, msg)
	})
	if err != nil {
		return plugin.SendResult{}, err
	}
	return plugin.SendResult{MessageID: id}, nil
}
