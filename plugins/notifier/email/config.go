package main

import (
	"errors"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"unicode"

	"github.com/certctl/certctl/plugins/internal/notifyconf"
	"github.com/certctl/certctl/sdk/plugin"
)

// TLS modes.
const (
	tlsStartTLS = "starttls" // plain connection upgraded with STARTTLS, which the server must offer
	tlsImplicit = "tls"      // TLS from the first byte (SMTPS, usually port 465)
	tlsNone     = "none"     // no TLS; only for relays on a trusted network, and never with credentials
)

var schema = plugin.Schema{Fields: append([]plugin.Field{
	{Name: "host", Type: plugin.TypeString, Required: true,
		Description: "SMTP server host name or IP address."},
	{Name: "port", Type: plugin.TypeInt, Default: 587,
		Description: "SMTP server port: 587 for submission with STARTTLS, 465 for implicit TLS, 25 for relays."},
	{Name: "tls", Type: plugin.TypeString, Default: tlsStartTLS, Enum: []string{tlsStartTLS, tlsImplicit, tlsNone},
		Description: "starttls: upgrade with STARTTLS and fail if the server does not offer it; tls: implicit TLS (SMTPS); none: no encryption (trusted relays only; credentials are refused)."},
	{Name: "username", Type: plugin.TypeString,
		Description: "User name for SMTP AUTH PLAIN (sent only over TLS). Leave empty for servers that need no authentication."},
	{Name: "password", Type: plugin.TypeString, Sensitive: true,
		Description: "Password for SMTP AUTH PLAIN."},
	{Name: "from", Type: plugin.TypeString, Required: true,
		Description: "Sender address, e.g. \"certctl <certctl@example.com>\"."},
	{Name: "to", Type: plugin.TypeStringList, Required: true,
		Description: "Recipient addresses."},
	{Name: "insecure_skip_verify", Type: plugin.TypeBool, Default: false,
		Description: "Do not verify the server's TLS certificate. For tests and labs only."},
	{Name: "server_name", Type: plugin.TypeString,
		Description: "Name to verify the server's TLS certificate against, when it differs from host (e.g. host is an IP address)."},
}, notifyconf.Fields("Connection failures, timeouts and temporary (4xx) SMTP replies are retried")...)}

// config is an e-mail notifier's configuration, read and checked.
type config struct {
	host, port         string
	tlsMode            string
	username, password string
	from               *mail.Address
	to                 []*mail.Address
	insecureSkipVerify bool
	serverName         string
	delivery           notifyconf.Delivery
}

func readConfig(raw plugin.Config) (config, error) {
	cfg, err := notifyconf.Normalize(schema, raw)
	if err != nil {
		return config{}, err
	}
	host := cfg.String("host")
	if !validHost(host) {
		return config{}, plugin.InvalidConfig("host", "must be a host name or IP address, without scheme or port")
	}
	port := cfg.Int("port")
	if port < 1 || port > 65535 {
		return config{}, plugin.InvalidConfig("port", "must be between 1 and 65535")
	}
	user, pass := cfg.String("username"), cfg.String("password")
	if err := notifyconf.CheckPrintable("username", user); err != nil {
		return config{}, err
	}
	if (user == "") != (pass == "") {
		return config{}, plugin.InvalidConfig("password", "username and password must be set together")
	}
	mode := cfg.String("tls")
	if user != "" && mode == tlsNone {
		return config{}, plugin.InvalidConfig("tls", "credentials are only sent over TLS: use starttls or tls, or remove username and password")
	}
	from, err := parseAddress(cfg.String("from"))
	if err != nil {
		return config{}, plugin.InvalidConfig("from", "is not an e-mail address: %v", err)
	}
	toList := cfg.Strings("to")
	if len(toList) == 0 {
		return config{}, plugin.InvalidConfig("to", "needs at least one recipient")
	}
	var to []*mail.Address
	for i, s := range toList {
		a, err := parseAddress(s)
		if err != nil {
			return config{}, plugin.InvalidConfig("to", "recipient %d is not an e-mail address: %v", i+1, err)
		}
		to = append(to, a)
	}
	serverName := cfg.String("server_name")
	if serverName != "" && !validHost(serverName) {
		return config{}, plugin.InvalidConfig("server_name", "must be a host name")
	}
	return config{
		host: host, port: strconv.FormatInt(port, 10), tlsMode: mode,
		username: user, password: pass, from: from, to: to,
		insecureSkipVerify: cfg.Bool("insecure_skip_verify"), serverName: serverName,
		delivery: notifyconf.Read(cfg),
	}, nil
}

// parseAddress reads one RFC 5322 address, with or without a name.
func parseAddress(s string) (*mail.Address, error) {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, err
	}
	if strings.ContainsFunc(a.Address, unicode.IsSpace) {
		return nil, errors.New("address contains a space")
	}
	return a, nil
}

// validHost accepts a DNS name or an IP address (no brackets, port, scheme
// or path).
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if net.ParseIP(h) != nil {
		return true
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}
