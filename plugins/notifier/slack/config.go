package main

import (
	"regexp"

	"github.com/certctl/certctl/plugins/internal/notifyconf"
	"github.com/certctl/certctl/sdk/plugin"
)

var schema = plugin.Schema{Fields: append([]plugin.Field{
	{Name: "webhook_url", Type: plugin.TypeString, Required: true, Sensitive: true,
		Description: "The Slack incoming webhook URL (https://hooks.slack.com/services/...). It is a secret: anyone who has it can post."},
	{Name: "channel", Type: plugin.TypeString,
		Description: "Channel override, e.g. \"#pki\" (legacy webhooks only; app webhooks post to the channel they were made for)."},
	{Name: "username", Type: plugin.TypeString,
		Description: "Sender name override (legacy webhooks only)."},
	{Name: "icon_emoji", Type: plugin.TypeString,
		Description: "Sender icon override such as \":lock:\" (legacy webhooks only)."},
}, notifyconf.Fields(notifyconf.RetriedHTTP)...)}

// config is a Slack notifier's configuration, read and checked.
type config struct {
	webhookURL string
	channel    string
	username   string
	iconEmoji  string
	delivery   notifyconf.Delivery
}

var emojiPattern = regexp.MustCompile(`^:[a-z0-9_+'-]+:$`)

func readConfig(raw plugin.Config) (config, error) {
	cfg, err := notifyconf.Normalize(schema, raw)
	if err != nil {
		return config{}, err
	}
	if err := notifyconf.ValidateURL(cfg, "webhook_url"); err != nil {
		return config{}, err
	}
	for _, f := range []string{"channel", "username"} {
		if err := notifyconf.CheckPrintable(f, cfg.String(f)); err != nil {
			return config{}, err
		}
	}
	if e := cfg.String("icon_emoji"); e != "" && !emojiPattern.MatchString(e) {
		return config{}, plugin.InvalidConfig("icon_emoji", "must look like :name:")
	}
	return config{
		webhookURL: cfg.String("webhook_url"),
		channel:    cfg.String("channel"),
		username:   cfg.String("username"),
		iconEmoji:  cfg.String("icon_emoji"),
		delivery:   notifyconf.Read(cfg),
	}, nil
}
