package main

import (
	"strings"
	"unicode"

	"github.com/certctl/certctl/plugins/internal/notifyconf"
	"github.com/certctl/certctl/sdk/plugin"
)

// DefaultAPIURL is Opsgenie's API in its US region; EU accounts use
// https://api.eu.opsgenie.com.
const DefaultAPIURL = "https://api.opsgenie.com"

// Opsgenie's limits on tags: an alert carries at most 20, each at most 50
// characters; one is the event, so configuration may add 19.
const (
	maxTags      = 20
	maxTagLength = 50
)

var schema = plugin.Schema{Fields: append([]plugin.Field{
	{Name: "api_key", Type: plugin.TypeString, Required: true, Sensitive: true,
		Description: "The API key of an Opsgenie API integration (sent as Authorization: GenieKey <api_key>)."},
	{Name: "api_url", Type: plugin.TypeString, Default: DefaultAPIURL,
		Description: "Base URL of the Opsgenie API: https://api.opsgenie.com, or https://api.eu.opsgenie.com for EU accounts. Alerts go to <api_url>/v2/alerts."},
	{Name: "tags", Type: plugin.TypeStringList,
		Description: "Tags added to every alert (at most 19, each at most 50 characters); the event name is always added."},
	{Name: "responders", Type: plugin.TypeStringList,
		Description: "Names of the Opsgenie teams the alerts are assigned to."},
}, notifyconf.Fields(notifyconf.RetriedHTTP)...)}

// config is an Opsgenie notifier's configuration, read and checked.
type config struct {
	apiKey     string
	alertsURL  string
	tags       []string
	responders []string
	delivery   notifyconf.Delivery
}

func readConfig(raw plugin.Config) (config, error) {
	cfg, err := notifyconf.Normalize(schema, raw)
	if err != nil {
		return config{}, err
	}
	key := cfg.String("api_key")
	if len(key) > 128 || strings.ContainsFunc(key, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) {
		return config{}, plugin.InvalidConfig("api_key", "must be an API key: up to 128 characters without spaces")
	}
	if err := notifyconf.ValidateURL(cfg, "api_url"); err != nil {
		return config{}, err
	}
	alerts, err := notifyconf.JoinURL(cfg.String("api_url"), "/v2/alerts")
	if err != nil {
		return config{}, plugin.InvalidConfig("api_url", "is not a valid URL")
	}
	tags := cfg.Strings("tags")
	if len(tags) > maxTags-1 {
		return config{}, plugin.InvalidConfig("tags", "at most %d tags (the event is added as one more)", maxTags-1)
	}
	for i, tag := range tags {
		if tag == "" || len([]rune(tag)) > maxTagLength || strings.ContainsFunc(tag, unicode.IsControl) {
			return config{}, plugin.InvalidConfig("tags", "tag %d must be 1 to %d printable characters", i+1, maxTagLength)
		}
	}
	responders := cfg.Strings("responders")
	for i, r := range responders {
		if strings.TrimSpace(r) == "" || strings.ContainsFunc(r, unicode.IsControl) {
			return config{}, plugin.InvalidConfig("responders", "responder %d must be a team name", i+1)
		}
	}
	return config{apiKey: key, alertsURL: alerts, tags: tags, responders: responders, delivery: notifyconf.Read(cfg)}, nil
}
