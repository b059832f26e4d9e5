package dns01

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// resolvConf is where the system's resolvers are listed.
const resolvConf = "/etc/resolv.conf"

// queryTimeout bounds one DNS exchange with one server.
const queryTimeout = 5 * time.Second

// resolver asks the configured recursive resolvers the questions DNS-01
// needs: where a CNAME points, which zone holds a name, who serves a zone.
type resolver struct {
	servers []string // host:port
}

func newResolver(servers []string) (*resolver, error) {
	if len(servers) > 0 {
		return &resolver{servers: servers}, nil
	}
	conf, err := dns.ClientConfigFromFile(resolvConf)
	if err != nil {
		return nil, fmt.Errorf("dns01: no resolvers configured and the system's cannot be read: %w", err)
	}
	r := &resolver{}
	for _, s := range conf.Servers {
		r.servers = append(r.servers, net.JoinHostPort(s, conf.Port))
	}
	if len(r.servers) == 0 {
		return nil, fmt.Errorf("dns01: no resolvers configured and %s lists none", resolvConf)
	}
	return r, nil
}

// exchange sends m to server over UDP, again over TCP when the answer is
// truncated. A reply may come back with an error (a TSIG that does not
// verify); the caller sees both.
func exchange(ctx context.Context, m *dns.Msg, server string, tsig map[string]string) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	c := &dns.Client{Net: "udp", TsigSecret: tsig}
	r, _, err := c.ExchangeContext(ctx, m, server)
	if err == nil && r != nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.ExchangeContext(ctx, m, server)
	}
	return r, err
}

// query asks the resolvers in turn until one gives an answer (NOERROR or
// NXDOMAIN).
func (r *resolver) query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = true
	m.SetEdns0(4096, false)
	var errs []error
	for _, s := range r.servers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		resp, err := exchange(ctx, m, s, nil)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %w", s, err))
		case resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError:
			errs = append(errs, fmt.Errorf("%s: %s", s, dns.RcodeToString[resp.Rcode]))
		default:
			return resp, nil
		}
	}
	return nil, fmt.Errorf("dns01: %s %s: no resolver answered: %w", dns.TypeToString[qtype], name, errors.Join(errs...))
}

// maxCNAMEs bounds a CNAME chain, as resolvers do.
const maxCNAMEs = 16

// followCNAME returns where fqdn's CNAME chain ends (fqdn itself when it
// has no CNAME): the name whose TXT record the CA will read.
func (r *resolver) followCNAME(ctx context.Context, fqdn string) (string, error) {
	name := dns.CanonicalName(fqdn)
	seen := map[string]bool{name: true}
	for range maxCNAMEs {
		resp, err := r.query(ctx, name, dns.TypeCNAME)
		if err != nil {
			return "", err
		}
		next := ""
		for _, rr := range resp.Answer {
			if c, ok := rr.(*dns.CNAME); ok && dns.CanonicalName(c.Hdr.Name) == name {
				next = dns.CanonicalName(c.Target)
			}
		}
		if next == "" {
			return name, nil
		}
		if seen[next] {
			return "", fmt.Errorf("dns01: CNAME loop at %s", next)
		}
		seen[next] = true
		name = next
	}
	return "", fmt.Errorf("dns01: more than %d CNAMEs from %s", maxCNAMEs, fqdn)
}

// findZone returns the zone that holds fqdn: the closest enclosing name
// with an SOA record.
func (r *resolver) findZone(ctx context.Context, fqdn string) (string, error) {
	name := dns.CanonicalName(fqdn)
	for {
		resp, err := r.query(ctx, name, dns.TypeSOA)
		if err != nil {
			return "", err
		}
		for _, rr := range resp.Answer {
			if soa, ok := rr.(*dns.SOA); ok && dns.CanonicalName(soa.Hdr.Name) == name {
				return name, nil
			}
		}
		// A negative answer carries the zone's SOA in its authority
		// section, which saves walking up label by label.
		for _, rr := range resp.Ns {
			if soa, ok := rr.(*dns.SOA); ok && dns.IsSubDomain(dns.CanonicalName(soa.Hdr.Name), name) {
				return dns.CanonicalName(soa.Hdr.Name), nil
			}
		}
		if name == "." {
			return "", fmt.Errorf("dns01: no zone (SOA record) found for %s", fqdn)
		}
		i, _ := dns.NextLabel(name, 0)
		name = name[i:]
		if name == "" {
			name = "."
		}
	}
}

// nameservers returns the addresses (host:port) of zone's authoritative
// servers, from its NS records and their A and AAAA records.
func (r *resolver) nameservers(ctx context.Context, zone, port string) ([]nameserver, error) {
	resp, err := r.query(ctx, zone, dns.TypeNS)
	if err != nil {
		return nil, err
	}
	var out []nameserver
	for _, rr := range resp.Answer {
		ns, ok := rr.(*dns.NS)
		if !ok {
			continue
		}
		host := dns.CanonicalName(ns.Ns)
		var addrs []string
		var lookupErr error
		for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
			a, err := r.query(ctx, host, qtype)
			if err != nil {
				lookupErr = err
				continue
			}
			for _, rr := range a.Answer {
				switch rr := rr.(type) {
				case *dns.A:
					addrs = append(addrs, rr.A.String())
				case *dns.AAAA:
					addrs = append(addrs, rr.AAAA.String())
				}
			}
		}
		srv := nameserver{name: host}
		for _, a := range addrs {
			srv.addrs = append(srv.addrs, net.JoinHostPort(a, port))
		}
		if len(addrs) == 0 {
			srv.err = lookupErr
			if srv.err == nil {
				srv.err = fmt.Errorf("no A or AAAA record")
			}
		}
		out = append(out, srv)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("dns01: zone %s has no NS records", zone)
	}
	return out, nil
}

// nameserver is one authoritative server to ask, at any of its addresses
// (IPv4 and IPv6: the first that answers counts, as a host without IPv6
// reaches the server over IPv4); err says why it has no address.
type nameserver struct {
	name  string // NS host name, or the address when configured directly
	addrs []string
	err   error
}

// label names the server and the address it was asked at.
func label(name, addr string) string {
	switch {
	case addr == "":
		return strings.TrimSuffix(name, ".")
	case name == "" || name == addr:
		return addr
	}
	return strings.TrimSuffix(name, ".") + " (" + addr + ")"
}
