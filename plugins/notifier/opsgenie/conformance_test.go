package main

import (
	"strings"
	"testing"

	"github.com/certctl/certctl/plugins/internal/plugintesting"
	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// TestConformance runs the SDK's conformance kit on the built binary,
// sending to a loopback stand-in for the Alert API that counts the alerts
// it gets.
func TestConformance(t *testing.T) {
	t.Parallel()
	srv := plugintesting.NewHTTPServer(t, plugintesting.Reply{Status: 202, Body: accepted})
	valid := plugin.Config{
		"api_key": apiKey, "api_url": srv.URL, "tags": []any{"pki"}, "responders": []any{"Platform"},
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
	tooMany := make([]any, maxTags)
	for i := range tooMany {
		tooMany[i] = "t"
	}
	plugintest.Run(t, plugintest.Options{
		Binary:      plugintest.Build(t, "."),
		Kind:        plugin.KindNotifier,
		ValidConfig: valid,
		InvalidConfigs: []plugintest.InvalidConfig{
			{Name: "missing api_key", Config: with("api_key", nil), Field: "api_key"},
			{Name: "api_key with space", Config: with("api_key", "eb243592 faa2"), Field: "api_key"},
			{Name: "api_url ftp", Config: with("api_url", "ftp://api.opsgenie.com"), Field: "api_url"},
			{Name: "too many tags", Config: with("tags", tooMany), Field: "tags"},
			{Name: "tag too long", Config: with("tags", []any{strings.Repeat("t", maxTagLength+1)}), Field: "tags"},
			{Name: "blank responder", Config: with("responders", []any{" "}), Field: "responders"},
			{Name: "backoff over max", Config: with("retry_backoff", "2m"), Field: "retry_backoff"},
		},
		Notifier: &plugintest.NotifierCases{Received: func() int { return len(srv.Requests()) }},
	})
}
