package main

import (
	"time"

	"github.com/certctl/certctl/plugins/internal/notifymsg"
	"github.com/certctl/certctl/sdk/plugin"
)

// Payload is the JSON body of a webhook delivery. Its shape is stable:
// fields are added, never renamed or removed. Optional fields (url,
// certificate and its members, details) are left out when empty.
type Payload struct {
	ID          string            `json:"id"`   // the notification ID, the same on every retry: drop duplicates by it
	Kind        string            `json:"kind"` // "alert" (needs attention) or "event" (informational)
	Event       string            `json:"event"`
	Severity    string            `json:"severity"` // "info", "warning" or "critical"
	Title       string            `json:"title"`
	Message     string            `json:"message"`
	OccurredAt  string            `json:"occurred_at"` // RFC 3339, UTC
	URL         string            `json:"url,omitempty"`
	Certificate *Certificate      `json:"certificate,omitempty"`
	Details     map[string]string `json:"details,omitempty"`
}

// Certificate is the certificate a notification is about.
type Certificate struct {
	ID           string   `json:"id,omitempty"`
	Name         string   `json:"name,omitempty"`
	CommonName   string   `json:"common_name,omitempty"`
	SANs         []string `json:"sans,omitempty"`
	SerialNumber string   `json:"serial_number,omitempty"` // hexadecimal
	NotAfter     string   `json:"not_after,omitempty"`     // RFC 3339, UTC
}

func newPayload(n plugin.Notification, kind notifymsg.Kind, now time.Time) Payload {
	p := Payload{
		ID:         n.ID,
		Kind:       string(kind),
		Event:      n.Event,
		Severity:   notifymsg.Severity(n, kind),
		Title:      notifymsg.Title(n),
		Message:    n.Message,
		OccurredAt: notifymsg.OccurredAt(n, now).Format(time.RFC3339),
		URL:        n.URL,
	}
	if len(n.Details) > 0 {
		p.Details = n.Details
	}
	c := Certificate{ID: n.CertificateID, Name: n.CertificateName, CommonName: n.CommonName,
		SANs: n.SANs, SerialNumber: n.SerialNumber}
	if !n.NotAfter.IsZero() {
		c.NotAfter = n.NotAfter.UTC().Format(time.RFC3339)
	}
	if c.ID != "" || c.Name != "" || c.CommonName != "" || len(c.SANs) > 0 || c.SerialNumber != "" || c.NotAfter != "" {
		p.Certificate = &c
	}
	return p
}
