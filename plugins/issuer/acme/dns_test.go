package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/plugins/issuer/acme/dns01"
	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/acmetest"
)

// dnsConfig is an issuer configuration for DNS-01 through RFC 2136 at the
// test DNS server, which Pebble resolves through.
func dnsConfig(p *acmetest.Pebble, d *acmetest.DNSServer) plugin.Config {
	cfg := baseConfig(p)
	cfg[fieldChallenge] = challengeDNS01
	cfg[dns01.FieldProvider] = dns01.ProviderRFC2136
	cfg[dns01.FieldNameserver] = d.Addr
	cfg[dns01.FieldTSIGKeyName] = d.TSIGKeyName
	cfg[dns01.FieldTSIGSecret] = d.TSIGSecret
	cfg[dns01.FieldResolvers] = []any{d.Addr}
	cfg[dns01.FieldPropagationNameservers] = []any{d.Addr}
	cfg[dns01.FieldPropagationInterval] = "1s"
	return cfg
}

// TestDNS01 issues for a name, its wildcard and a name whose
// _acme-challenge is delegated by CNAME to another zone, through RFC 2136
// updates of a real DNS server that Pebble validates against: the plugin
// presents the records itself, returns pending without challenges while
// they propagate, and removes them once the names are validated.
func TestDNS01(t *testing.T) {
	d := acmetest.StartDNS(t, "certctl.test.", "delegated.test.")
	p := acmetest.StartPebble(t, acmetest.PebbleOptions{DNSServer: d.Addr, AuthzReusePercent: -1})
	iss := startPlugin(t).Issuer()
	cfg := provision(t, iss, dnsConfig(p, d))

	base := strings.TrimSuffix(uniqueName(t, "dns"), ".example.com") + ".certctl.test"
	wild, delegated := "*."+base, "cname-"+base
	d.SetCNAME("_acme-challenge."+delegated, "challenges.delegated.test.")
	key, csr := newCSR(t, base, wild, delegated)
	res, err := drive(t, iss, plugin.IssueRequest{Config: cfg, CSR: csr, CommonName: base, SANs: []string{wild, delegated}},
		driveOpts{stopWhen: func(res plugin.IssueResult) bool {
			if len(res.Challenges) > 0 {
				t.Errorf("DNS-01 returned challenges for the host: %+v", res.Challenges)
			}
			return false
		}})
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	verifyIssued(t, res, key, p.Roots(t, 0), base, "x."+base, delegated)

	// The records went through RFC 2136, the delegated one to its CNAME's
	// target, and are gone.
	var names []string
	for _, u := range d.Updates() {
		if u.Rcode != "NOERROR" || u.KeyName != d.TSIGKeyName {
			t.Errorf("update %+v", u)
		}
		for _, r := range u.Records {
			names = append(names, strings.Fields(r)[0])
		}
	}
	for _, n := range []string{"_acme-challenge." + base + ".", "challenges.delegated.test."} {
		if !slices.Contains(names, n) {
			t.Errorf("no update for %s in %v", n, names)
		}
		if v := d.TXT(n); len(v) != 0 {
			t.Errorf("records left at %s: %v", n, v)
		}
	}
}

// TestDNS01NeverPropagates: the DNS server acknowledges the updates but
// never serves the records; the order stays pending (the host calls
// again) until the propagation bound since presentation passes, then
// fails with a permanent error naming the server that lacks the record.
func TestDNS01NeverPropagates(t *testing.T) {
	d := acmetest.StartDNS(t, "certctl.test.")
	p := acmetest.StartPebble(t, acmetest.PebbleOptions{DNSServer: d.Addr, AuthzReusePercent: -1})
	iss := startPlugin(t).Issuer()
	cfg := dnsConfig(p, d)
	cfg[dns01.FieldPropagationTimeout] = "4s"
	cfg = provision(t, iss, cfg)
	d.SetServeUpdates(false)

	name := strings.TrimSuffix(uniqueName(t, "never"), ".example.com") + ".certctl.test"
	_, csr := newCSR(t, name)
	pendings := 0
	_, err := drive(t, iss, plugin.IssueRequest{Config: cfg, CSR: csr, CommonName: name},
		driveOpts{stopWhen: func(plugin.IssueResult) bool { pendings++; return false }})
	pe := wantCode(t, err, plugin.CodePermanent, "_acme-challenge."+name, "not propagated", d.Addr)
	if pendings < 2 {
		t.Errorf("%d pending answers before the error, want the order followed until the bound", pendings)
	}
	if pe.RetryAfter != 0 {
		t.Errorf("RetryAfter %s on a permanent error", pe.RetryAfter)
	}
}

// TestDNS01Hook publishes the records through a hook command, here one
// that sets them in pebble-challtestsrv's DNS through its management API
// with curl.
func TestDNS01Hook(t *testing.T) {
	p := acmetest.StartPebble(t, acmetest.PebbleOptions{AuthzReusePercent: -1})
	iss := startPlugin(t).Issuer()
	cfg := baseConfig(p)
	cfg[fieldChallenge] = challengeDNS01
	cfg[dns01.FieldProvider] = dns01.ProviderHook
	const script = `case "$CERTCTL_DNS_ACTION" in
present) curl -fsS -d "{\"host\":\"$CERTCTL_DNS_FQDN\",\"value\":\"$CERTCTL_DNS_VALUE\"}" "$MGMT/set-txt" ;;
cleanup) curl -fsS -d "{\"host\":\"$CERTCTL_DNS_FQDN\"}" "$MGMT/clear-txt" ;;
esac`
	cfg[dns01.FieldHookCommand] = []any{"env", "MGMT=" + p.Challtestsrv.ManagementURL, "sh", "-c", script, "hook"}
	cfg[dns01.FieldResolvers] = []any{p.DNSServer}
	cfg[dns01.FieldPropagationNameservers] = []any{p.DNSServer}
	cfg[dns01.FieldPropagationInterval] = "1s"
	cfg = provision(t, iss, cfg)

	name := uniqueName(t, "hook")
	key, csr := newCSR(t, name, "*."+name)
	res, err := drive(t, iss, plugin.IssueRequest{Config: cfg, CSR: csr, CommonName: name, SANs: []string{"*." + name}}, driveOpts{})
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	verifyIssued(t, res, key, p.Roots(t, 0), name, "a."+name)
}
