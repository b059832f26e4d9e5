package main

import (
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/plugins/internal/notifymsg"
	"github.com/certctl/certctl/sdk/plugin"
)

// alert is an Opsgenie "create alert" request.
type alert struct {
	Message     string            `json:"message"`
	Alias       string            `json:"alias,omitempty"`
	Description string            `json:"description,omitempty"`
	Responders  []responder       `json:"responders,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	Details     map[string]string `json:"details,omitempty"`
	Entity      string            `json:"entity,omitempty"`
	Source      string            `json:"source"`
	Priority    string            `json:"priority"`
}

type responder struct {
	Name string `json:"name"`
	Type string `json:"type"` // "team"
}

// Opsgenie's field limits.
const (
	maxMessage     = 130
	maxAlias       = 512
	maxDescription = 15000
	maxEntity      = 512
	source         = "certctl"
)

// priority maps certctl's severities to Opsgenie priorities: critical P1,
// warning P3, info P5, anything else P3.
func priority(severity string) string {
	switch severity {
	case plugin.SeverityCritical:
		return "P1"
	case plugin.SeverityInfo:
		return "P5"
	}
	return "P3"
}

// alias is Opsgenie's deduplication key: notifications of one event about
// one certificate update one open alert (its count goes up) rather than
// opening another; others dedup by notification ID, so a retry never
// opens a second alert.
func alias(n plugin.Notification) string {
	if n.CertificateID != "" {
		return notifymsg.Truncate("certctl-"+n.CertificateID+"-"+n.Event, maxAlias)
	}
	return notifymsg.Truncate(n.ID, maxAlias)
}

func newAlert(cfg config, n plugin.Notification, kind notifymsg.Kind) alert {
	a := alert{
		Message:     notifymsg.Truncate(notifymsg.Title(n), maxMessage),
		Alias:       alias(n),
		Description: notifymsg.Truncate(description(n, kind), maxDescription),
		Entity:      notifymsg.Truncate(notifymsg.Component(n), maxEntity),
		Source:      source,
		Priority:    priority(notifymsg.Severity(n, kind)),
		Details:     details(n, kind),
	}
	a.Tags = append(a.Tags, cfg.tags...)
	if n.Event != "" && !slices.Contains(a.Tags, n.Event) {
		a.Tags = append(a.Tags, notifymsg.Truncate(n.Event, maxTagLength))
	}
	for _, r := range cfg.responders {
		a.Responders = append(a.Responders, responder{Name: r, Type: "team"})
	}
	return a
}

// description is the message, the facts one per line, and the link.
func description(n plugin.Notification, kind notifymsg.Kind) string {
	var b strings.Builder
	if n.Message != "" {
		b.WriteString(n.Message)
		b.WriteString("\n\n")
	}
	for _, f := range notifymsg.Facts(n, kind) {
		b.WriteString(f.Label + ": " + f.Value + "\n")
	}
	if n.URL != "" {
		b.WriteString("\n" + n.URL + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// details are the alert's key-value properties: the facts by their stable
// keys, the link and the notification ID.
func details(n plugin.Notification, kind notifymsg.Kind) map[string]string {
	d := map[string]string{}
	for _, f := range notifymsg.Facts(n, kind) {
		d[f.Key] = f.Value
	}
	if !n.NotAfter.IsZero() {
		d["not_after"] = n.NotAfter.UTC().Format(time.RFC3339)
	}
	if n.CertificateID != "" {
		d["certificate_id"] = n.CertificateID
	}
	if n.URL != "" {
		d["url"] = n.URL
	}
	if n.ID != "" {
		d["notification_id"] = n.ID
	}
	return d
}
