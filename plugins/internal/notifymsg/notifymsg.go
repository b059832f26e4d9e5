// Package notifymsg turns a plugin.Notification into the pieces every
// notifier shows: a title, a severity, and the list of facts (certificate,
// expiry, serial, details) in a fixed order, so that an alert reads the
// same in e-mail, Slack, Teams, PagerDuty and Opsgenie.
package notifymsg

import (
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certctl/certctl/sdk/plugin"
)

// Kind says which call delivered a notification.
type Kind string

// The two kinds: SendAlert and SendEvent.
const (
	KindAlert Kind = "alert"
	KindEvent Kind = "event"
)

// Severity returns n's severity, or the default for its kind when unset:
// warning for alerts, info for events.
func Severity(n plugin.Notification, kind Kind) string {
	if n.Severity != "" {
		return n.Severity
	}
	if kind == KindAlert {
		return plugin.SeverityWarning
	}
	return plugin.SeverityInfo
}

// Title returns n's title, or one made from its event when unset.
func Title(n plugin.Notification) string {
	if t := strings.TrimSpace(n.Title); t != "" {
		return t
	}
	if n.Event != "" {
		return "certctl: " + n.Event
	}
	return "certctl notification"
}

// OccurredAt returns when n happened, or now when unset.
func OccurredAt(n plugin.Notification, now time.Time) time.Time {
	if n.OccurredAt.IsZero() {
		return now.UTC()
	}
	return n.OccurredAt.UTC()
}

// Fact is one labelled value.
type Fact struct {
	Key   string // a stable snake_case key, e.g. "common_name"
	Label string // for people, e.g. "Common name"
	Value string
}

// TimeLayout is how times are shown to people.
const TimeLayout = "2006-01-02 15:04 UTC"

// Facts lists what is known about n, in a fixed order: certificate, common
// name, SANs, serial number, expiry, severity, event, then n.Details by
// key. Empty values are left out.
func Facts(n plugin.Notification, kind Kind) []Fact {
	var out []Fact
	add := func(key, label, value string) {
		if value != "" {
			out = append(out, Fact{Key: key, Label: label, Value: value})
		}
	}
	add("certificate", "Certificate", n.CertificateName)
	add("common_name", "Common name", n.CommonName)
	add("sans", "SANs", strings.Join(n.SANs, ", "))
	add("serial_number", "Serial number", n.SerialNumber)
	if !n.NotAfter.IsZero() {
		add("not_after", "Expires", n.NotAfter.UTC().Format(TimeLayout))
	}
	add("severity", "Severity", Severity(n, kind))
	add("event", "Event", n.Event)
	for _, k := range slices.Sorted(maps.Keys(n.Details)) {
		add(k, DetailLabel(k), n.Details[k])
	}
	return out
}

// DetailLabel turns a details key such as "days_left" into "Days left".
func DetailLabel(key string) string {
	s := strings.TrimSpace(strings.NewReplacer("_", " ", "-", " ", ".", " ").Replace(key))
	if s == "" {
		return key
	}
	r, size := utf8.DecodeRuneInString(s)
	return strings.ToUpper(string(r)) + s[size:]
}

// Truncate shortens s to at most n runes, ending with "…" when cut.
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// Component returns what a notification is about, for services that
// group alerts by it: the certificate's name, else its common name.
func Component(n plugin.Notification) string {
	if n.CertificateName != "" {
		return n.CertificateName
	}
	return n.CommonName
}

// Group returns the family of n's event ("certificate" for
// "certificate.expiring", "agent" for "agent.offline").
func Group(n plugin.Notification) string {
	g, _, _ := strings.Cut(n.Event, ".")
	return g
}
