package dns01

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/acmetest"
	"github.com/miekg/dns"
)

// TestMain lets the test binary stand in for a hook's DNS tool: the hook
// script the tests write runs it with DNS01_TEST_HOOK=1, and it sends a
// real signed RFC 2136 update with miekg/dns (not this package's code).
func TestMain(m *testing.M) {
	if os.Getenv("DNS01_TEST_HOOK") == "1" {
		if err := hookHelper(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, "hook helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv("DNS01_TEST_LEGO") == "1" {
		if err := legoHelper(os.Args[1], os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "lego helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// legoHelper presents a record for cdn.certctl.test through lego's httpreq
// provider at endpoint, resolving through dnsAddr, as a plugin process
// would: TestLegoLogsToStderr reads what it writes where.
func legoHelper(dnsAddr, endpoint string) error {
	sol, err := New(Config{Provider: "httpreq", Resolvers: []string{dnsAddr},
		Credentials: map[string]string{"HTTPREQ_ENDPOINT": endpoint}})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return sol.Present(ctx, Challenge{Domain: "cdn.certctl.test", KeyAuthorization: "tok.thumb"})
}

// hookHelper: <server> <zone> <key> <secret> present|cleanup <fqdn> <value>
func hookHelper(args []string) error {
	if len(args) != 7 {
		return fmt.Errorf("want 7 arguments, got %q", args)
	}
	server, zone, key, secret, action, fqdn, value := args[0], args[1], args[2], args[3], args[4], args[5], args[6]
	rr := &dns.TXT{Hdr: dns.RR_Header{Name: fqdn, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{value}}
	m := new(dns.Msg)
	m.SetUpdate(zone)
	switch action {
	case "present":
		m.Insert([]dns.RR{rr})
	case "cleanup":
		m.Remove([]dns.RR{rr})
	default:
		return fmt.Errorf("unknown action %q", action)
	}
	m.SetTsig(key, dns.HmacSHA256, 300, time.Now().Unix())
	c := &dns.Client{Net: "tcp", TsigSecret: map[string]string{key: secret}, Timeout: 10 * time.Second}
	r, _, err := c.Exchange(m, server)
	if err != nil {
		return err
	}
	if r.Rcode != dns.RcodeSuccess {
		return errors.New(dns.RcodeToString[r.Rcode])
	}
	return nil
}

// testZone is the zone the test DNS server serves; delegatedZone holds
// the targets of _acme-challenge CNAMEs.
const (
	testZone      = "certctl.test."
	delegatedZone = "delegated.test."
)

func startDNS(t *testing.T) *acmetest.DNSServer {
	t.Helper()
	return acmetest.StartDNS(t, testZone, delegatedZone)
}

// rfc2136Config is the plugin configuration for the rfc2136 provider
// against s, as an operator would write it.
func rfc2136Config(s *acmetest.DNSServer) plugin.Config {
	return plugin.Config{
		FieldProvider:               ProviderRFC2136,
		FieldNameserver:             s.Addr,
		FieldTSIGKeyName:            s.TSIGKeyName,
		FieldTSIGSecret:             s.TSIGSecret,
		FieldResolvers:              []any{s.Addr},
		FieldPropagationNameservers: []any{s.Addr},
		FieldPropagationTimeout:     "3s",
		FieldPropagationInterval:    "100ms",
	}
}

// mustConfig normalises cfg with the fields' schema, as the host does,
// then reads it.
func mustConfig(t *testing.T, cfg plugin.Config) Config {
	t.Helper()
	norm, err := plugin.Schema{Fields: SchemaFields()}.Normalize(cfg)
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	c, err := FromConfig(norm)
	if err != nil {
		t.Fatalf("FromConfig: %v", err)
	}
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func waitPropagated(t *testing.T, cfg Config, fqdn, value string) {
	t.Helper()
	chk, err := NewChecker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := chk.Wait(ctxT(t), fqdn, value); err != nil {
		t.Fatalf("Wait: %v", err)
	}
}

func contains(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not say %q", err, p)
		}
	}
}
