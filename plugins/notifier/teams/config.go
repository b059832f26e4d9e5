package main

import (
	"github.com/certctl/certctl/plugins/internal/notifyconf"
	"github.com/certctl/certctl/sdk/plugin"
)

var schema = plugin.Schema{Fields: append([]plugin.Field{
	{Name: "webhook_url", Type: plugin.TypeString, Required: true, Sensitive: true,
		Description: "The Teams Workflows webhook URL (\"Post to a channel when a webhook request is received\") or a legacy incoming webhook URL. It is a secret: its signature lets anyone post."},
}, notifyconf.Fields(notifyconf.RetriedHTTP)...)}

// config is a Teams notifier's configuration, read and checked.
type config struct {
	webhookURL string
	delivery   notifyconf.Delivery
}

func readConfig(raw plugin.Config) (config, error) {
	cfg, err := notifyconf.Normalize(schema, raw)
	if err != nil {
		return config{}, err
	}
	if err := notifyconf.ValidateURL(cfg, "webhook_url"); err != nil {
		return config{}, err
	}
	return config{webhookURL: cfg.String("webhook_url"), delivery: notifyconf.Read(cfg)}, nil
}
