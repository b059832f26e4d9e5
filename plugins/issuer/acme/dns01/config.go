package dns01

import (
	"fmt"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/miekg/dns"
)

// Configuration field names, all prefixed dns_ so that the ACME plugin can
// put them in its own schema beside its other fields.
const (
	FieldProvider               = "dns_provider"
	FieldNameserver             = "dns_nameserver"
	FieldTSIGKeyName            = "dns_tsig_key_name"
	FieldTSIGAlgorithm          = "dns_tsig_algorithm"
	FieldTSIGSecret             = "dns_tsig_secret"
	FieldZone                   = "dns_zone"
	FieldTTL                    = "dns_ttl"
	FieldHookCommand            = "dns_hook_command"
	FieldHookTimeout            = "dns_hook_timeout"
	FieldCredentials            = "dns_credentials"
	FieldResolvers              = "dns_resolvers"
	FieldPropagationNameservers = "dns_propagation_nameservers"
	FieldPropagationTimeout     = "dns_propagation_timeout"
	FieldPropagationInterval    = "dns_propagation_interval"
)

// Built-in provider names; every other accepted name is a lego provider
// (LegoProviders).
const (
	ProviderRFC2136 = "rfc2136"
	ProviderHook    = "hook"
)

// TSIG algorithms accepted in dns_tsig_algorithm, the RFC 8945 names
// without the trailing dot.
const (
	TSIGHMACSHA256 = "hmac-sha256"
	TSIGHMACSHA512 = "hmac-sha512"
	TSIGHMACSHA1   = "hmac-sha1"
)

// Defaults.
const (
	DefaultTTL                 = 60
	DefaultHookTimeout         = 2 * time.Minute
	DefaultPropagationTimeout  = 5 * time.Minute
	DefaultPropagationInterval = 5 * time.Second
)

// Config is the DNS-01 part of an ACME issuer's configuration.
type Config struct {
	// Provider is "rfc2136", "hook", a name from LegoProviders, or "" when
	// DNS-01 is not configured.
	Provider string

	// RFC 2136.
	Nameserver    string // host:port of the primary that takes updates
	TSIGKeyName   string // fully qualified; "" sends unsigned updates
	TSIGAlgorithm string // one of the TSIG* constants
	TSIGSecret    string // base64, as in BIND's key files
	Zone          string // fully qualified; "" finds it by SOA lookup
	TTL           int    // seconds, of the TXT record written

	// Hook.
	HookCommand []string
	HookTimeout time.Duration

	// Lego: the provider's documented environment variables and values.
	Credentials map[string]string

	// Propagation and lookups. Resolvers answer the recursive questions
	// (CNAME, SOA, NS and their addresses): host:port, empty for the
	// system's. PropagationNameservers, when set, are asked for the TXT
	// record instead of the zone's authoritative servers.
	Resolvers              []string
	PropagationNameservers []string
	PropagationTimeout     time.Duration
	PropagationInterval    time.Duration
}

// Enabled reports whether DNS-01 is configured.
func (c Config) Enabled() bool { return c.Provider != "" }

// SchemaFields returns the DNS-01 fields for the ACME plugin's schema.
func SchemaFields() []plugin.Field {
	providers := append([]string{ProviderRFC2136, ProviderHook}, LegoProviders()...)
	return []plugin.Field{
		{Name: FieldProvider, Type: plugin.TypeString, Enum: providers,
			Description: `How DNS-01 records are published: "rfc2136" (dynamic update with TSIG), "hook" (a command you supply), or a DNS provider's name from lego's catalogue (e.g. "cloudflare", "route53"). Unset: DNS-01 is not used.`},
		{Name: FieldNameserver, Type: plugin.TypeString,
			Description: `rfc2136: the primary nameserver that takes dynamic updates, host or host:port (port 53 if none).`},
		{Name: FieldTSIGKeyName, Type: plugin.TypeString,
			Description: `rfc2136: the TSIG key's name, as in the server's key statement. Unset: updates are sent unsigned.`},
		{Name: FieldTSIGAlgorithm, Type: plugin.TypeString, Default: TSIGHMACSHA256,
			Enum:        []string{TSIGHMACSHA256, TSIGHMACSHA512, TSIGHMACSHA1},
			Description: `rfc2136: the TSIG algorithm.`},
		{Name: FieldTSIGSecret, Type: plugin.TypeString, Sensitive: true,
			Description: `rfc2136: the TSIG key's secret, base64 (the "secret" of a BIND key file or tsig-keygen's output).`},
		{Name: FieldZone, Type: plugin.TypeString,
			Description: `rfc2136: the zone to update. Unset: found by SOA lookup of the record's name (after CNAMEs).`},
		{Name: FieldTTL, Type: plugin.TypeInt, Default: DefaultTTL,
			Description: `rfc2136: TTL in seconds of the TXT records written.`},
		{Name: FieldHookCommand, Type: plugin.TypeStringList,
			Description: `hook: the command and its first arguments (a list, never run by a shell). It is run as <command...> present|cleanup <fqdn> <value>, with CERTCTL_DNS_ACTION, CERTCTL_DNS_FQDN and CERTCTL_DNS_VALUE in its environment, and must exit 0.`},
		{Name: FieldHookTimeout, Type: plugin.TypeDuration, Default: DefaultHookTimeout.String(),
			Description: `hook: how long one run of the command may take before it is killed.`},
		{Name: FieldCredentials, Type: plugin.TypeStringList, Sensitive: true,
			Description: `lego providers: the provider's credentials as NAME=value entries, NAME being the environment variable the provider documents (e.g. CF_DNS_API_TOKEN=... for cloudflare).`},
		{Name: FieldResolvers, Type: plugin.TypeStringList,
			Description: `Recursive resolvers (host or host:port) used to follow CNAMEs and find a zone's SOA and nameservers. Unset: the system's (/etc/resolv.conf).`},
		{Name: FieldPropagationNameservers, Type: plugin.TypeStringList,
			Description: `Nameservers (host or host:port) asked for the TXT record before validation, instead of the zone's authoritative servers (for split-horizon DNS).`},
		{Name: FieldPropagationTimeout, Type: plugin.TypeDuration, Default: DefaultPropagationTimeout.String(),
			Description: `How long to wait for every authoritative nameserver to serve the record before the order fails.`},
		{Name: FieldPropagationInterval, Type: plugin.TypeDuration, Default: DefaultPropagationInterval.String(),
			Description: `Time between two propagation checks.`},
	}
}

var envNamePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// FromConfig reads and checks the DNS-01 fields of cfg. Errors are
// *plugin.Error with CodeInvalidConfig naming the field. Fields for other
// providers than the one chosen are ignored.
func FromConfig(cfg plugin.Config) (Config, error) {
	c := Config{
		Provider:           strings.TrimSpace(cfg.String(FieldProvider)),
		TTL:                DefaultTTL,
		TSIGAlgorithm:      TSIGHMACSHA256,
		HookTimeout:        DefaultHookTimeout,
		PropagationTimeout: DefaultPropagationTimeout,

		PropagationInterval: DefaultPropagationInterval,
	}
	if c.Provider == "" {
		return c, nil
	}
	var err error
	if c.Resolvers, err = hostPorts(cfg, FieldResolvers); err != nil {
		return c, err
	}
	if c.PropagationNameservers, err = hostPorts(cfg, FieldPropagationNameservers); err != nil {
		return c, err
	}
	if c.PropagationTimeout, err = positiveDuration(cfg, FieldPropagationTimeout, DefaultPropagationTimeout); err != nil {
		return c, err
	}
	if c.PropagationInterval, err = positiveDuration(cfg, FieldPropagationInterval, DefaultPropagationInterval); err != nil {
		return c, err
	}

	switch c.Provider {
	case ProviderRFC2136:
		if cfg.String(FieldNameserver) == "" {
			return c, plugin.InvalidConfig(FieldNameserver, "is required with %s %q", FieldProvider, ProviderRFC2136)
		}
		if c.Nameserver, err = hostPort(cfg.String(FieldNameserver)); err != nil {
			return c, plugin.InvalidConfig(FieldNameserver, "%v", err)
		}
		if a := cfg.String(FieldTSIGAlgorithm); a != "" {
			c.TSIGAlgorithm = a
		}
		if tsigAlgorithm(c.TSIGAlgorithm) == "" {
			return c, plugin.InvalidConfig(FieldTSIGAlgorithm, "must be one of %s, %s, %s", TSIGHMACSHA256, TSIGHMACSHA512, TSIGHMACSHA1)
		}
		c.TSIGKeyName = cfg.String(FieldTSIGKeyName)
		c.TSIGSecret = strings.TrimSpace(cfg.String(FieldTSIGSecret))
		switch {
		case c.TSIGKeyName == "" && c.TSIGSecret != "":
			return c, plugin.InvalidConfig(FieldTSIGKeyName, "is required when %s is set", FieldTSIGSecret)
		case c.TSIGKeyName != "" && c.TSIGSecret == "":
			return c, plugin.InvalidConfig(FieldTSIGSecret, "is required when %s is set", FieldTSIGKeyName)
		case c.TSIGKeyName != "":
			if _, ok := dns.IsDomainName(c.TSIGKeyName); !ok {
				return c, plugin.InvalidConfig(FieldTSIGKeyName, "%q is not a DNS name", c.TSIGKeyName)
			}
			c.TSIGKeyName = dns.CanonicalName(c.TSIGKeyName)
			if _, err := decodeSecret(c.TSIGSecret); err != nil {
				return c, plugin.InvalidConfig(FieldTSIGSecret, "must be base64 (as in a BIND key file)")
			}
		}
		if z := cfg.String(FieldZone); z != "" {
			if _, ok := dns.IsDomainName(z); !ok {
				return c, plugin.InvalidConfig(FieldZone, "%q is not a DNS name", z)
			}
			c.Zone = dns.CanonicalName(z)
		}
		if _, ok := cfg[FieldTTL]; ok {
			ttl := cfg.Int(FieldTTL)
			if ttl < 1 || ttl > 86400 {
				return c, plugin.InvalidConfig(FieldTTL, "must be a whole number of seconds from 1 to 86400")
			}
			c.TTL = int(ttl)
		}
	case ProviderHook:
		c.HookCommand = cfg.Strings(FieldHookCommand)
		if len(c.HookCommand) == 0 || strings.TrimSpace(c.HookCommand[0]) == "" {
			return c, plugin.InvalidConfig(FieldHookCommand, "is required with %s %q: a list, the program first", FieldProvider, ProviderHook)
		}
		if c.HookTimeout, err = positiveDuration(cfg, FieldHookTimeout, DefaultHookTimeout); err != nil {
			return c, err
		}
	default:
		if !isLegoProvider(c.Provider) {
			return c, plugin.InvalidConfig(FieldProvider, "unknown DNS provider %q (known: %s, %s, %s)",
				c.Provider, ProviderRFC2136, ProviderHook, strings.Join(LegoProviders(), ", "))
		}
		if c.Credentials, err = credentials(cfg[FieldCredentials]); err != nil {
			return c, err
		}
	}
	return c, nil
}

// credentials reads dns_credentials: a list of NAME=value (the schema has
// no object type), or a JSON object of names to strings.
func credentials(v any) (map[string]string, error) {
	out := map[string]string{}
	add := func(name, value string) error {
		if !envNamePattern.MatchString(name) {
			return plugin.InvalidConfig(FieldCredentials, "%q is not an environment variable name (NAME=value, NAME in capitals)", name)
		}
		if _, dup := out[name]; dup {
			return plugin.InvalidConfig(FieldCredentials, "%s is given twice", name)
		}
		out[name] = value
		return nil
	}
	switch v := v.(type) {
	case nil:
	case map[string]any:
		names := make([]string, 0, len(v))
		for k := range v {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			s, ok := v[k].(string)
			if !ok {
				return nil, plugin.InvalidConfig(FieldCredentials, "the value of %s must be a string", k)
			}
			if err := add(k, s); err != nil {
				return nil, err
			}
		}
	case []string, []any:
		list, ok := plugin.Config{"l": v}.Strings("l"), true
		if l, isAny := v.([]any); isAny && len(list) != len(l) {
			ok = false
		}
		if !ok {
			return nil, plugin.InvalidConfig(FieldCredentials, "must be a list of NAME=value strings")
		}
		for _, e := range list {
			name, value, found := strings.Cut(e, "=")
			if !found {
				// Never echo the entry: it may be a bare secret.
				return nil, plugin.InvalidConfig(FieldCredentials, "each entry must be NAME=value")
			}
			if err := add(strings.TrimSpace(name), value); err != nil {
				return nil, err
			}
		}
	default:
		return nil, plugin.InvalidConfig(FieldCredentials, "must be a list of NAME=value strings")
	}
	return out, nil
}

func positiveDuration(cfg plugin.Config, field string, def time.Duration) (time.Duration, error) {
	if _, ok := cfg[field]; !ok || cfg[field] == nil {
		return def, nil
	}
	d := cfg.Duration(field)
	if d <= 0 {
		return 0, plugin.InvalidConfig(field, `must be a positive duration such as "90s", "5m" or "1h"`)
	}
	return d, nil
}

func hostPorts(cfg plugin.Config, field string) ([]string, error) {
	var out []string
	for _, s := range cfg.Strings(field) {
		hp, err := hostPort(s)
		if err != nil {
			return nil, plugin.InvalidConfig(field, "%v", err)
		}
		out = append(out, hp)
	}
	return out, nil
}

// hostPort adds the DNS port to a host that has none.
func hostPort(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("empty address")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		// No port (or a bare IPv6 address).
		host, port = strings.Trim(s, "[]"), "53"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q: bad port", s)
	}
	if host == "" || strings.ContainsAny(host, " /") {
		return "", fmt.Errorf("%q is not a host or host:port", s)
	}
	return net.JoinHostPort(host, port), nil
}

// tsigAlgorithm maps a configured name to miekg/dns's.
func tsigAlgorithm(name string) string {
	switch strings.TrimSuffix(strings.ToLower(name), ".") {
	case TSIGHMACSHA256:
		return dns.HmacSHA256
	case TSIGHMACSHA512:
		return dns.HmacSHA512
	case TSIGHMACSHA1:
		return dns.HmacSHA1
	}
	return ""
}
