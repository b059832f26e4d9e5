package main

import (
	"time"

	"github.com/certctl/certctl/plugins/internal/notifymsg"
	"github.com/certctl/certctl/sdk/plugin"
)

// event is an Events API v2 event.
type event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"` // trigger or resolve
	DedupKey    string   `json:"dedup_key,omitempty"`
	Payload     *payload `json:"payload,omitempty"` // not sent with resolve
	Links       []link   `json:"links,omitempty"`
}

type payload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"` // critical, error, warning or info
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

type link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

const (
	maxSummary = 1024
	source     = "certctl"
)

// pdSeverity maps certctl's severities to PagerDuty's: the same names,
// and "error" for any other value.
func pdSeverity(s string) string {
	switch s {
	case plugin.SeverityCritical, plugin.SeverityWarning, plugin.SeverityInfo:
		return s
	}
	return "error"
}

// certificateKey is the dedup key shared by every alert about one
// certificate, so that they update one incident, and by the event that
// resolves it.
func certificateKey(n plugin.Notification) string {
	return "certctl-" + n.CertificateID
}

// resolves reports whether n should resolve its certificate's incident.
func resolves(cfg config, n plugin.Notification, kind notifymsg.Kind) bool {
	return kind == notifymsg.KindEvent && cfg.resolveOnEvents && n.CertificateID != "" &&
		(n.Event == "certificate.renewed" || n.Event == "certificate.issued")
}

func newEvent(cfg config, n plugin.Notification, kind notifymsg.Kind, now time.Time) event {
	e := event{RoutingKey: cfg.routingKey}
	if resolves(cfg, n, kind) {
		e.EventAction = "resolve"
		e.DedupKey = certificateKey(n)
		return e
	}
	e.EventAction = "trigger"
	e.DedupKey = n.ID
	if kind == notifymsg.KindAlert && n.CertificateID != "" {
		e.DedupKey = certificateKey(n)
	}
	e.Payload = &payload{
		Summary:       notifymsg.Truncate(notifymsg.Title(n), maxSummary),
		Source:        source,
		Severity:      pdSeverity(notifymsg.Severity(n, kind)),
		Timestamp:     notifymsg.OccurredAt(n, now).Format(time.RFC3339),
		Component:     notifymsg.Component(n),
		Group:         notifymsg.Group(n),
		Class:         n.Event,
		CustomDetails: customDetails(n),
	}
	if n.URL != "" {
		e.Links = []link{{Href: n.URL, Text: "Open in certctl"}}
	}
	return e
}

// customDetails carries everything else the notification says.
func customDetails(n plugin.Notification) map[string]any {
	d := map[string]any{}
	set := func(k, v string) {
		if v != "" {
			d[k] = v
		}
	}
	set("message", n.Message)
	set("notification_id", n.ID)
	set("certificate_id", n.CertificateID)
	set("certificate_name", n.CertificateName)
	set("common_name", n.CommonName)
	set("serial_number", n.SerialNumber)
	set("url", n.URL)
	if len(n.SANs) > 0 {
		d["sans"] = n.SANs
	}
	if !n.NotAfter.IsZero() {
		d["not_after"] = n.NotAfter.UTC().Format(time.RFC3339)
	}
	if len(n.Details) > 0 {
		d["details"] = n.Details
	}
	return d
}
