package dns01

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

func TestSchemaFields(t *testing.T) {
	s := plugin.Schema{Fields: SchemaFields()}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if got := s.SensitiveFields(); !slices.Equal(got, []string{FieldTSIGSecret, FieldCredentials}) {
		t.Fatalf("sensitive fields %v", got)
	}
	f, _ := s.Field(FieldProvider)
	for _, name := range []string{ProviderRFC2136, ProviderHook, "cloudflare", "route53", "httpreq"} {
		if !slices.Contains(f.Enum, name) {
			t.Errorf("%s enum lacks %q", FieldProvider, name)
		}
	}
}

func TestFromConfig(t *testing.T) {
	base := plugin.Config{
		FieldProvider:    ProviderRFC2136,
		FieldNameserver:  "ns.example.com",
		FieldTSIGKeyName: "acme-key",
		FieldTSIGSecret:  "c2VjcmV0IHNlY3JldCBzZWNyZXQ=",
	}
	c := mustConfig(t, base)
	if c.Nameserver != "ns.example.com:53" || c.TSIGKeyName != "acme-key." || c.TSIGAlgorithm != TSIGHMACSHA256 ||
		c.TTL != DefaultTTL || c.PropagationTimeout != DefaultPropagationTimeout || c.PropagationInterval != DefaultPropagationInterval {
		t.Fatalf("defaults: %+v", c)
	}

	off, err := FromConfig(plugin.Config{})
	if err != nil || off.Enabled() {
		t.Fatalf("no provider: %+v %v", off, err)
	}

	with := func(kv ...any) plugin.Config {
		cfg := maps.Clone(base)
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(cfg, kv[i].(string))
			} else {
				cfg[kv[i].(string)] = kv[i+1]
			}
		}
		return cfg
	}
	for _, tc := range []struct {
		name  string
		cfg   plugin.Config
		field string
	}{
		{"unknown provider", plugin.Config{FieldProvider: "nosuch"}, FieldProvider},
		{"no nameserver", with(FieldNameserver, nil), FieldNameserver},
		{"bad nameserver port", with(FieldNameserver, "ns:99999"), FieldNameserver},
		{"secret without key", with(FieldTSIGKeyName, nil), FieldTSIGKeyName},
		{"key without secret", with(FieldTSIGSecret, nil), FieldTSIGSecret},
		{"secret not base64", with(FieldTSIGSecret, "not base64!"), FieldTSIGSecret},
		{"bad algorithm", with(FieldTSIGAlgorithm, "hmac-md5"), FieldTSIGAlgorithm},
		{"bad zone", with(FieldZone, "a..b"), FieldZone},
		{"ttl zero", with(FieldTTL, 0), FieldTTL},
		{"bad resolver", with(FieldResolvers, []any{"1.2.3.4:0"}), FieldResolvers},
		{"bad propagation ns", with(FieldPropagationNameservers, []any{""}), FieldPropagationNameservers},
		{"zero timeout", with(FieldPropagationTimeout, "0s"), FieldPropagationTimeout},
		{"hook without command", plugin.Config{FieldProvider: ProviderHook}, FieldHookCommand},
		{"hook empty program", plugin.Config{FieldProvider: ProviderHook, FieldHookCommand: []any{""}}, FieldHookCommand},
		{"credentials not a list", plugin.Config{FieldProvider: "cloudflare", FieldCredentials: "CF_DNS_API_TOKEN=x"}, FieldCredentials},
		{"credential without =", plugin.Config{FieldProvider: "cloudflare", FieldCredentials: []any{"sekrit"}}, FieldCredentials},
		{"credential bad name", plugin.Config{FieldProvider: "cloudflare", FieldCredentials: []any{"cf-token=x"}}, FieldCredentials},
		{"credential twice", plugin.Config{FieldProvider: "cloudflare", FieldCredentials: []any{"A=1", "A=2"}}, FieldCredentials},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromConfig(tc.cfg)
			var pe *plugin.Error
			if !errors.As(err, &pe) || pe.Code != plugin.CodeInvalidConfig || pe.Field != tc.field {
				t.Fatalf("got %v, want invalid_config on %s", err, tc.field)
			}
			if tc.name == "credential without =" && strings.Contains(pe.Message, "sekrit") {
				t.Fatalf("error repeats the secret: %v", pe)
			}
		})
	}

	hook := mustConfig(t, plugin.Config{FieldProvider: ProviderHook, FieldHookCommand: []any{"/usr/local/bin/dns-hook", "--zone", "x"}, FieldHookTimeout: "30s"})
	if !slices.Equal(hook.HookCommand, []string{"/usr/local/bin/dns-hook", "--zone", "x"}) || hook.HookTimeout != 30*time.Second {
		t.Fatalf("hook: %+v", hook)
	}
	lego := mustConfig(t, plugin.Config{FieldProvider: "cloudflare", FieldCredentials: []any{"CF_DNS_API_TOKEN=a=b"}})
	if lego.Credentials["CF_DNS_API_TOKEN"] != "a=b" {
		t.Fatalf("credentials: %v", lego.Credentials)
	}
	obj, err := FromConfig(plugin.Config{FieldProvider: "cloudflare", FieldCredentials: map[string]any{"CF_DNS_API_TOKEN": "t"}})
	if err != nil || obj.Credentials["CF_DNS_API_TOKEN"] != "t" {
		t.Fatalf("credentials as an object: %v %v", obj.Credentials, err)
	}
}

// FromConfig never panics, and every refusal is an invalid_config error
// naming a dns_ field.
func FuzzFromConfig(f *testing.F) {
	for _, seed := range []string{
		`{"dns_provider":"rfc2136","dns_nameserver":"ns:53","dns_tsig_key_name":"k","dns_tsig_secret":"c2VjcmV0"}`,
		`{"dns_provider":"hook","dns_hook_command":["/bin/true"],"dns_hook_timeout":"1m"}`,
		`{"dns_provider":"cloudflare","dns_credentials":["CF_DNS_API_TOKEN=x"]}`,
		`{"dns_provider":"cloudflare","dns_credentials":{"A":1}}`,
		`{"dns_provider":"rfc2136","dns_nameserver":"[::1]","dns_ttl":-5,"dns_resolvers":[1]}`,
		`{"dns_provider":"rfc2136","dns_nameserver":"x","dns_propagation_timeout":"-1s"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var cfg plugin.Config
		if json.Unmarshal(data, &cfg) != nil {
			return
		}
		_, err := FromConfig(cfg)
		if err == nil {
			return
		}
		var pe *plugin.Error
		if !errors.As(err, &pe) || pe.Code != plugin.CodeInvalidConfig || !strings.HasPrefix(pe.Field, "dns_") {
			t.Fatalf("FromConfig(%s): %v, want invalid_config on a dns_ field", data, err)
		}
	})
}
