package main

import (
	"net/http"
	"slices"
	"strings"

	"github.com/certctl/certctl/plugins/internal/notifyconf"
	"github.com/certctl/certctl/sdk/plugin"
)

var schema = plugin.Schema{Fields: append([]plugin.Field{
	{Name: "url", Type: plugin.TypeString, Required: true, Sensitive: true,
		Description: "The http or https URL that receives the JSON POST. Treated as secret, since many receivers (automation tools, chat services) put a token in it."},
	{Name: "secret", Type: plugin.TypeString, Sensitive: true,
		Description: "Shared secret; when set each request carries X-Certctl-Timestamp and X-Certctl-Signature: sha256=<hex HMAC-SHA256 of \"<timestamp>.<body>\">."},
	{Name: "headers", Type: plugin.TypeStringList, Sensitive: true,
		Description: "Extra request headers as \"Name: value\", e.g. \"Authorization: Bearer ...\". Treated as secret."},
}, notifyconf.Fields(notifyconf.RetriedHTTP)...)}

// config is a webhook's configuration, read and checked.
type config struct {
	url      string
	secret   string
	headers  http.Header
	delivery notifyconf.Delivery
}

// reservedHeaders are set by the plugin and cannot be overridden.
var reservedHeaders = []string{"Content-Type", "Content-Length", "Host", "Transfer-Encoding", "Connection", "User-Agent"}

func readConfig(raw plugin.Config) (config, error) {
	cfg, err := notifyconf.Normalize(schema, raw)
	if err != nil {
		return config{}, err
	}
	if err := notifyconf.ValidateURL(cfg, "url"); err != nil {
		return config{}, err
	}
	headers, err := parseHeaders(cfg.Strings("headers"))
	if err != nil {
		return config{}, err
	}
	return config{
		url:      cfg.String("url"),
		secret:   cfg.String("secret"),
		headers:  headers,
		delivery: notifyconf.Read(cfg),
	}, nil
}

// parseHeaders reads "Name: value" lines. Its errors name the header by
// position and name, never by value.
func parseHeaders(lines []string) (http.Header, error) {
	h := http.Header{}
	for i, line := range lines {
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || !validHeaderName(name) {
			return nil, plugin.InvalidConfig("headers", "entry %d must be \"Name: value\" with a valid header name", i+1)
		}
		canon := http.CanonicalHeaderKey(name)
		if slices.Contains(reservedHeaders, canon) || strings.HasPrefix(canon, "X-Certctl-") {
			return nil, plugin.InvalidConfig("headers", "entry %d: header %s is set by certctl and cannot be overridden", i+1, canon)
		}
		value = strings.TrimSpace(value)
		if strings.ContainsAny(value, "\r\n\x00") {
			return nil, plugin.InvalidConfig("headers", "entry %d: header %s has a line break in its value", i+1, canon)
		}
		h.Add(canon, value)
	}
	return h, nil
}

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("!#$%&'*+-.^_`|~", r):
		default:
			return false
		}
	}
	return true
}
