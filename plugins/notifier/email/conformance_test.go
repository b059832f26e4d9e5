package main

import (
	"testing"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// TestConformance runs the SDK's conformance kit on the built binary,
// sending through an in-process SMTP server (STARTTLS and AUTH PLAIN,
// as a submission server does) that counts the messages it accepts.
func TestConformance(t *testing.T) {
	t.Parallel()
	be := &backend{user: "certctl", pass: "conformance-secret"}
	host, port := startSMTP(t, withSTARTTLS, be)
	valid := baseConfig(host, port, tlsStartTLS)
	valid["username"], valid["password"] = "certctl", "conformance-secret"
	valid["timeout"], valid["max_attempts"], valid["retry_backoff"] = "5s", 2, "10ms"
	with := func(k string, v any) plugin.Config {
		c := valid.Clone()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	plugintest.Run(t, plugintest.Options{
		Binary:      plugintest.Build(t, "."),
		Kind:        plugin.KindNotifier,
		ValidConfig: valid,
		InvalidConfigs: []plugintest.InvalidConfig{
			{Name: "missing host", Config: with("host", nil), Field: "host"},
			{Name: "host with port", Config: with("host", "smtp.example.com:587"), Field: "host"},
			{Name: "port out of range", Config: with("port", 70000), Field: "port"},
			{Name: "unknown tls mode", Config: with("tls", "ssl"), Field: "tls"},
			{Name: "credentials without TLS", Config: with("tls", tlsNone), Field: "tls"},
			{Name: "username without password", Config: with("password", nil), Field: "password"},
			{Name: "bad from", Config: with("from", "certctl"), Field: "from"},
			{Name: "no recipients", Config: with("to", []any{}), Field: "to"},
			{Name: "recipient with line break", Config: with("to", []any{"ops@example.com\r\nRCPT TO:<x@y>"}), Field: "to"},
			{Name: "zero timeout", Config: with("timeout", "0s"), Field: "timeout"},
		},
		Notifier: &plugintest.NotifierCases{Received: func() int { return len(be.received()) }},
	})
}
