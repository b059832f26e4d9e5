package main

import (
	"testing"

	"github.com/certctl/certctl/plugins/internal/plugintesting"
	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// TestConformance runs the SDK's conformance kit on the built binary,
// posting to a loopback stand-in for Slack's incoming webhook that counts
// the messages it gets.
func TestConformance(t *testing.T) {
	t.Parallel()
	srv := plugintesting.NewHTTPServer(t, plugintesting.Reply{Status: 200, Body: "ok"})
	valid := plugin.Config{
		"webhook_url": srv.URL + hookPath, "channel": "#pki", "username": "certctl", "icon_emoji": ":lock:",
		"timeout": "5s", "max_attempts": 2, "retry_backoff": "10ms",
	}
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
			{Name: "missing webhook_url", Config: with("webhook_url", nil), Field: "webhook_url"},
			{Name: "webhook_url without scheme", Config: with("webhook_url", "hooks.slack.com/services/T/B/X"), Field: "webhook_url"},
			{Name: "webhook_url file scheme", Config: with("webhook_url", "file:///etc/passwd"), Field: "webhook_url"},
			{Name: "bad icon_emoji", Config: with("icon_emoji", "lock"), Field: "icon_emoji"},
			{Name: "channel with line break", Config: with("channel", "#pki\nX-Injected: 1"), Field: "channel"},
			{Name: "too many attempts", Config: with("max_attempts", 100), Field: "max_attempts"},
		},
		Notifier: &plugintest.NotifierCases{Received: func() int { return len(srv.Requests()) }},
	})
}
