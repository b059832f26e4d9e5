package notifymsg

import (
	"reflect"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

func TestFacts(t *testing.T) {
	t.Parallel()
	n := plugin.Notification{
		Event: "certificate.expiring", CertificateName: "www", CommonName: "www.example.com",
		SANs: []string{"a", "b"}, SerialNumber: "01", NotAfter: time.Date(2026, 3, 4, 5, 6, 0, 0, time.FixedZone("X", 3600)),
		Details: map[string]string{"zeta": "z", "days_left": "3", "empty": ""},
	}
	want := []Fact{
		{"certificate", "Certificate", "www"},
		{"common_name", "Common name", "www.example.com"},
		{"sans", "SANs", "a, b"},
		{"serial_number", "Serial number", "01"},
		{"not_after", "Expires", "2026-03-04 04:06 UTC"},
		{"severity", "Severity", "warning"},
		{"event", "Event", "certificate.expiring"},
		{"days_left", "Days left", "3"},
		{"zeta", "Zeta", "z"},
	}
	if got := Facts(n, KindAlert); !reflect.DeepEqual(got, want) {
		t.Errorf("Facts:\n got %v\nwant %v", got, want)
	}
}

func TestHelpers(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{Severity(plugin.Notification{}, KindAlert), "warning"},
		{Severity(plugin.Notification{}, KindEvent), "info"},
		{Severity(plugin.Notification{Severity: "critical"}, KindEvent), "critical"},
		{Title(plugin.Notification{Title: " t "}), "t"},
		{Title(plugin.Notification{Event: "agent.offline"}), "certctl: agent.offline"},
		{Title(plugin.Notification{}), "certctl notification"},
		{Truncate("héllo", 5), "héllo"},
		{Truncate("héllo", 4), "hél…"},
		{Truncate("abc", 0), ""},
		{Component(plugin.Notification{CommonName: "cn"}), "cn"},
		{Group(plugin.Notification{Event: "deployment.failed"}), "deployment"},
		{DetailLabel("agent-id"), "Agent id"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%d: got %q, want %q", i, tt.got, tt.want)
		}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := OccurredAt(plugin.Notification{}, now); !got.Equal(now) {
		t.Errorf("OccurredAt default %v", got)
	}
}
