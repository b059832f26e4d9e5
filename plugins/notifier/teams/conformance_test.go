package main

import (
	"testing"

	"github.com/certctl/certctl/plugins/internal/plugintesting"
	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// TestConformance runs the SDK's conformance kit on the built binary,
// posting to a loopback stand-in for a Teams Workflows webhook that counts
// the cards it gets.
func TestConformance(t *testing.T) {
	t.Parallel()
	srv := plugintesting.NewHTTPServer(t, plugintesting.Reply{Status: 202})
	valid := plugin.Config{"webhook_url": srv.URL + hookPath, "timeout": "5s", "max_attempts": 2, "retry_backoff": "10ms"}
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
			{Name: "webhook_url without scheme", Config: with("webhook_url", "example.webhook.office.com/x"), Field: "webhook_url"},
			{Name: "webhook_url without host", Config: with("webhook_url", "https:///x"), Field: "webhook_url"},
			{Name: "zero timeout", Config: with("timeout", "0s"), Field: "timeout"},
			{Name: "too many attempts", Config: with("max_attempts", 11), Field: "max_attempts"},
			{Name: "backoff over max", Config: with("retry_backoff", "2m"), Field: "retry_backoff"},
		},
		Notifier: &plugintest.NotifierCases{Received: func() int { return len(srv.Requests()) }},
	})
}
