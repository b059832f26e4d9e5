// This file holds the notifier checks: an alert and an event are each
// delivered, exactly once.

package plugintest

import (
	"context"
	"fmt"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

// NotifierCases say what to ask of a notifier plugin.
type NotifierCases struct {
	// Config is the configuration to send with; nil means ValidConfig.
	// Point it at a receiver the test controls (e.g. an httptest server).
	Config plugin.Config
	// Received, if set, returns how many messages the test's receiver has
	// got so far: each send must add exactly one.
	Received func() int
	// Alert and Event are sent; zero values mean SampleAlert and
	// SampleEvent.
	Alert, Event plugin.Notification
}

// SampleAlert is a notification that needs attention: a certificate about
// to expire.
func SampleAlert() plugin.Notification {
	now := time.Now().UTC().Truncate(time.Second)
	return plugin.Notification{
		ID: fmt.Sprintf("plugintest-alert-%d", now.UnixNano()), Event: "certificate.expiring",
		Severity: plugin.SeverityWarning, Title: "Certificate plugintest expires in 7 days",
		Message:    "The certificate plugintest (plugintest.example.com) expires in 7 days and has not been renewed.",
		OccurredAt: now, URL: "https://certctl.example.com/certificates/cert-plugintest",
		CertificateID: "cert-plugintest", CertificateName: "plugintest", CommonName: "plugintest.example.com",
		SANs: []string{"plugintest.example.com", "www.plugintest.example.com"}, SerialNumber: "4f3a2b1c",
		NotAfter: now.Add(7 * 24 * time.Hour), Details: map[string]string{"days_left": "7"},
	}
}

// SampleEvent is an informational notification: a certificate renewed.
func SampleEvent() plugin.Notification {
	n := SampleAlert()
	n.ID = fmt.Sprintf("plugintest-event-%d", n.OccurredAt.UnixNano())
	n.Event, n.Severity = "certificate.renewed", plugin.SeverityInfo
	n.Title = "Certificate plugintest renewed"
	n.Message = "The certificate plugintest (plugintest.example.com) was renewed."
	n.NotAfter = n.OccurredAt.Add(90 * 24 * time.Hour)
	n.Details = map[string]string{"previous_serial": "4f3a2b1c"}
	return n
}

func (s *Session) notifierChecks() []Check {
	c := NotifierCases{}
	if s.Options.Notifier != nil {
		c = *s.Options.Notifier
	}
	if c.Alert.ID == "" && c.Alert.Event == "" {
		c.Alert = SampleAlert()
	}
	if c.Event.ID == "" && c.Event.Event == "" {
		c.Event = SampleEvent()
	}
	n := s.Process.Notifier()
	return []Check{
		{"send_alert", func(ctx context.Context) error { return s.checkSend(ctx, c, "SendAlert", n.SendAlert, c.Alert) }},
		{"send_event", func(ctx context.Context) error { return s.checkSend(ctx, c, "SendEvent", n.SendEvent, c.Event) }},
	}
}

// receiveWait is how long a delivery may take to be counted after the send
// returned.
const receiveWait = 2 * time.Second

// checkSend sends n and checks that it arrives, once.
func (s *Session) checkSend(ctx context.Context, c NotifierCases, what string,
	send func(context.Context, plugin.SendRequest) (plugin.SendResult, error), n plugin.Notification) error {
	cfg := c.Config
	if cfg == nil {
		cfg = s.Options.ValidConfig
	}
	cfg, err := s.Info.Schema.Normalize(cfg)
	if err != nil {
		return fmt.Errorf("the notifier configuration does not fit the plugin's schema: %w", err)
	}
	before := 0
	if c.Received != nil {
		before = c.Received()
	}
	if _, err := send(ctx, plugin.SendRequest{Config: cfg, Notification: n}); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if c.Received == nil {
		return nil
	}
	deadline := time.Now().Add(receiveWait)
	got := c.Received() - before
	for got < 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		got = c.Received() - before
	}
	if got != 1 {
		return fmt.Errorf("%s succeeded and the receiver got %d messages, want exactly 1", what, got)
	}
	return nil
}
