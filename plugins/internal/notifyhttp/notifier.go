package notifyhttp

import (
	"context"
	"log/slog"
	"time"

	"github.com/certctl/certctl/plugins/internal/notifyconf"
	"github.com/certctl/certctl/plugins/internal/notifymsg"
	"github.com/certctl/certctl/sdk/plugin"
)

// Service is what one HTTP notifier (Slack, Teams, PagerDuty, Opsgenie, a
// webhook) adds to the skeleton that Notifier provides: who it is, how it
// reads its configuration, and how a notification becomes a POST.
type Service[C any] struct {
	// Info describes the plugin; its Kind is set to notifier.
	Info plugin.Info
	// ReadConfig checks and reads a configuration (ValidateConfig and
	// every send use it).
	ReadConfig func(plugin.Config) (C, error)
	// Message makes the POST for a notification of kind (alert or
	// event); now is the notifier's clock (a signature made per attempt
	// reads it again).
	Message func(cfg C, n plugin.Notification, kind notifymsg.Kind, now func() time.Time) (Message, error)
}

// Message is one notification as a POST.
type Message struct {
	Delivery notifyconf.Delivery // timeout and retries of this configuration
	Request  Request
	// Result is what a delivered message reports; ReadAnswer, when set,
	// may give a better one from the service's answer (the id it made).
	Result     plugin.SendResult
	ReadAnswer func(body []byte) (plugin.SendResult, bool)
}

// Notifier is a plugin.Notifier for a Service: Info, ValidateConfig,
// SendAlert and SendEvent, delivered through a Sender.
type Notifier[C any] struct {
	service Service[C]
	sender  *Sender
	// Now is the clock messages are dated with; tests set it.
	Now func() time.Time
}

// NewNotifier returns the notifier of service, logging through log.
func NewNotifier[C any](log *slog.Logger, service Service[C]) *Notifier[C] {
	service.Info.Kind = plugin.KindNotifier
	return &Notifier[C]{service: service, sender: NewSender(log), Now: time.Now}
}

// Info describes the plugin.
func (n *Notifier[C]) Info(context.Context) (plugin.Info, error) { return n.service.Info, nil }

// ValidateConfig checks a configuration with the service's ReadConfig.
func (n *Notifier[C]) ValidateConfig(_ context.Context, req plugin.ValidateConfigRequest) error {
	cfg := req.Config
	_, err := n.service.ReadConfig(cfg)
	return err
}

// SendAlert delivers something that needs attention.
func (n *Notifier[C]) SendAlert(ctx context.Context, req plugin.SendRequest) (plugin.SendResult, error) {
	cfg, note := req.Config, req.Notification
	return n.send(ctx, cfg, note, notifymsg.KindAlert)
}

// SendEvent delivers news of a lifecycle event.
func (n *Notifier[C]) SendEvent(ctx context.Context, req plugin.SendRequest) (plugin.SendResult, error) {
	cfg, note := req.Config, req.Notification
	return n.send(ctx, cfg, note, notifymsg.KindEvent)
}

func (n *Notifier[C]) send(ctx context.Context, raw plugin.Config, note plugin.Notification, kind notifymsg.Kind) (plugin.SendResult, error) {
	cfg, err := n.service.ReadConfig(raw)
	if err != nil {
		return plugin.SendResult{}, err
	}
	msg, err := n.service.Message(cfg, note, kind, n.Now)
	if err != nil {
		return plugin.SendResult{}, err
	}
	resp, err := n.sender.Post(ctx, msg.Delivery, msg.Request)
	if err != nil {
		return plugin.SendResult{}, err
	}
	if msg.ReadAnswer != nil {
		if r, ok := msg.ReadAnswer(resp.Body); ok {
			return r, nil
		}
	}
	return msg.Result, nil
}
