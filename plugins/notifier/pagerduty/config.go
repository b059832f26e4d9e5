package main

import (
	"strings"
	"unicode"

	"github.com/certctl/certctl/plugins/internal/notifyconf"
	"github.com/certctl/certctl/sdk/plugin"
)

// DefaultAPIURL is PagerDuty's Events API endpoint (the same for its US
// and EU service regions).
const DefaultAPIURL = "https://events.pagerduty.com"

var schema = plugin.Schema{Fields: append([]plugin.Field{
	{Name: "routing_key", Type: plugin.TypeString, Required: true, Sensitive: true,
		Description: "The integration key of an Events API v2 integration on a PagerDuty service (or of an event orchestration)."},
	{Name: "api_url", Type: plugin.TypeString, Default: DefaultAPIURL,
		Description: "Base URL of the Events API; events go to <api_url>/v2/enqueue."},
	{Name: "resolve_on_events", Type: plugin.TypeBool, Default: false,
		Description: "When true, a certificate.renewed or certificate.issued event resolves the open incident that alerts about the same certificate opened, instead of triggering an info event."},
}, notifyconf.Fields(notifyconf.RetriedHTTP)...)}

// config is a PagerDuty notifier's configuration, read and checked.
type config struct {
	routingKey      string
	enqueueURL      string
	resolveOnEvents bool
	delivery        notifyconf.Delivery
}

func readConfig(raw plugin.Config) (config, error) {
	cfg, err := notifyconf.Normalize(schema, raw)
	if err != nil {
		return config{}, err
	}
	key := cfg.String("routing_key")
	if len(key) > 128 || strings.ContainsFunc(key, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) {
		return config{}, plugin.InvalidConfig("routing_key", "must be an integration key: up to 128 characters without spaces")
	}
	if err := notifyconf.ValidateURL(cfg, "api_url"); err != nil {
		return config{}, err
	}
	enqueue, err := notifyconf.JoinURL(cfg.String("api_url"), "/v2/enqueue")
	if err != nil {
		return config{}, plugin.InvalidConfig("api_url", "is not a valid URL")
	}
	return config{
		routingKey:      key,
		enqueueURL:      enqueue,
		resolveOnEvents: cfg.Bool("resolve_on_events"),
		delivery:        notifyconf.Read(cfg),
	}, nil
}
