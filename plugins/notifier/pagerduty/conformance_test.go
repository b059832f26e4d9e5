package main

import (
	"testing"

	"github.com/certctl/certctl/plugins/internal/plugintesting"
	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// TestConformance runs the SDK's conformance kit on the built binary,
// sending to a loopback stand-in for the Events API v2 that counts the
// events it gets.
func TestConformance(t *testing.T) {
	t.Parallel()
	srv := plugintesting.NewHTTPServer(t, plugintesting.Reply{Status: 202,
		Body: `{"status":"success","message":"Event processed","dedup_key":"certctl-cert-plugintest"}`})
	valid := plugin.Config{
		"routing_key": routingKey, "api_url": srv.URL,
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
			{Name: "missing routing_key", Config: with("routing_key", nil), Field: "routing_key"},
			{Name: "empty routing_key", Config: with("routing_key", ""), Field: "routing_key"},
			{Name: "routing_key with space", Config: with("routing_key", "R0UTING KEY"), Field: "routing_key"},
			{Name: "api_url without scheme", Config: with("api_url", "events.pagerduty.com"), Field: "api_url"},
			{Name: "api_url ftp", Config: with("api_url", "ftp://events.pagerduty.com"), Field: "api_url"},
			{Name: "zero attempts", Config: with("max_attempts", 0), Field: "max_attempts"},
			{Name: "timeout over max", Config: with("timeout", "10m"), Field: "timeout"},
		},
		Notifier: &plugintest.NotifierCases{Received: func() int { return len(srv.Requests()) }},
	})
}
