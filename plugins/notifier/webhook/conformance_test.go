package main

import (
	"testing"

	"github.com/certctl/certctl/plugins/internal/plugintesting"
	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// TestConformance runs the SDK's conformance kit on the built binary,
// sending to a loopback receiver that counts the POSTs it gets.
func TestConformance(t *testing.T) {
	t.Parallel()
	srv := plugintesting.NewHTTPServer(t, plugintesting.Reply{Status: 200})
	valid := plugin.Config{
		"url": srv.URL + "/hooks/certctl", "secret": "conformance-secret", "headers": []any{"Authorization: Bearer conformance"},
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
			{Name: "missing url", Config: with("url", nil), Field: "url"},
			{Name: "ftp url", Config: with("url", "ftp://hooks.example.com/token"), Field: "url"},
			{Name: "url with credentials", Config: with("url", "https://user:pass@hooks.example.com/"), Field: "url"},
			{Name: "reserved header", Config: with("headers", []any{"Content-Type: text/plain"}), Field: "headers"},
			{Name: "timeout over max", Config: with("timeout", "1h"), Field: "timeout"},
			{Name: "zero attempts", Config: with("max_attempts", 0), Field: "max_attempts"},
			{Name: "backoff over max", Config: with("retry_backoff", "2m"), Field: "retry_backoff"},
		},
		Notifier: &plugintest.NotifierCases{Received: func() int { return len(srv.Requests()) }},
	})
}
