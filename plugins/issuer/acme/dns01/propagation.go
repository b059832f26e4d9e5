package dns01

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Checker tells whether a challenge record is served by every
// authoritative nameserver of its zone (or by the configured propagation
// nameservers), so that the CA, which asks those servers, finds it.
type Checker struct {
	res      *resolver
	override []string
	timeout  time.Duration
	interval time.Duration
	// nsPort is the port the zone's NS hosts are asked on; tests run the
	// authoritative server on another port than 53.
	nsPort string
}

// NewChecker returns the Checker that cfg describes.
func NewChecker(cfg Config) (*Checker, error) {
	res, err := newResolver(cfg.Resolvers)
	if err != nil {
		return nil, err
	}
	c := &Checker{res: res, override: cfg.PropagationNameservers,
		timeout: cfg.PropagationTimeout, interval: cfg.PropagationInterval, nsPort: "53"}
	if c.timeout <= 0 {
		c.timeout = DefaultPropagationTimeout
	}
	if c.interval <= 0 {
		c.interval = DefaultPropagationInterval
	}
	return c, nil
}

// Timeout is how long after Present the record may take to propagate.
func (c *Checker) Timeout() time.Duration { return c.timeout }

// Interval is the time to leave between two checks.
func (c *Checker) Interval() time.Duration { return c.interval }

// PropagationError says that the bound passed before every nameserver
// served the record.
type PropagationError struct {
	FQDN    string   // the challenge record's name
	Target  string   // where its CNAME chain ends (FQDN without one)
	Missing []string // the servers that did not serve the value, with why
	Timeout time.Duration
	Err     error // the last lookup error, when the servers could not even be found
}

func (e *PropagationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dns01: TXT record %s", e.FQDN)
	if e.Target != "" && e.Target != e.FQDN {
		fmt.Fprintf(&b, " (CNAME to %s)", e.Target)
	}
	fmt.Fprintf(&b, " not propagated after %s", e.Timeout)
	if len(e.Missing) > 0 {
		fmt.Fprintf(&b, ": not served by %s", strings.Join(e.Missing, "; "))
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *PropagationError) Unwrap() error { return e.Err }

// result is one round of checks.
type result struct {
	target  string
	found   []string
	missing []string
}

func (r result) detail(fqdn string) string {
	var b strings.Builder
	b.WriteString(fqdn)
	if r.target != "" && r.target != fqdn {
		fmt.Fprintf(&b, " (CNAME to %s)", r.target)
	}
	if len(r.missing) == 0 {
		fmt.Fprintf(&b, ": served by %s", strings.Join(r.found, ", "))
		return b.String()
	}
	fmt.Fprintf(&b, ": not served by %s", strings.Join(r.missing, "; "))
	if len(r.found) > 0 {
		fmt.Fprintf(&b, "; served by %s", strings.Join(r.found, ", "))
	}
	return b.String()
}

// Check asks once, without waiting, whether every nameserver serves the
// TXT value at fqdn (after following its CNAMEs). detail names the servers
// that do and do not. err is set when the nameservers could not be found
// at all (resolvers unreachable, no zone); that may pass, so callers retry
// it within the bound like a record not yet propagated.
func (c *Checker) Check(ctx context.Context, fqdn, value string) (propagated bool, detail string, err error) {
	r, err := c.check(ctx, fqdn, value)
	if err != nil {
		return false, "", err
	}
	return len(r.missing) == 0, r.detail(dns.CanonicalName(fqdn)), nil
}

// CheckBy is Check for a caller that checks once per call across calls:
// when the record has not propagated and deadline has passed, it returns a
// *PropagationError naming the servers that lack it.
func (c *Checker) CheckBy(ctx context.Context, fqdn, value string, deadline time.Time) (propagated bool, detail string, err error) {
	r, err := c.check(ctx, fqdn, value)
	if err == nil && len(r.missing) == 0 {
		return true, r.detail(dns.CanonicalName(fqdn)), nil
	}
	if time.Now().Before(deadline) {
		if err != nil {
			return false, "", err
		}
		return false, r.detail(dns.CanonicalName(fqdn)), nil
	}
	if ctx.Err() != nil {
		return false, "", ctx.Err()
	}
	pe := &PropagationError{FQDN: dns.CanonicalName(fqdn), Target: r.target, Missing: r.missing, Timeout: c.timeout, Err: err}
	return false, "", pe
}

// Wait checks every Interval until the record has propagated, ctx ends,
// or Timeout has passed, which gives a *PropagationError.
func (c *Checker) Wait(ctx context.Context, fqdn, value string) error {
	deadline := time.Now().Add(c.timeout)
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		ok, _, err := c.CheckBy(ctx, fqdn, value, deadline)
		var pe *PropagationError
		switch {
		case ok:
			return nil
		case errors.As(err, &pe):
			return err
		case ctx.Err() != nil:
			return ctx.Err()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (c *Checker) check(ctx context.Context, fqdn, value string) (result, error) {
	var r result
	target, err := c.res.followCNAME(ctx, fqdn)
	if err != nil {
		return r, err
	}
	r.target = target
	var servers []nameserver
	if len(c.override) > 0 {
		for _, s := range c.override {
			servers = append(servers, nameserver{name: s, addrs: []string{s}})
		}
	} else {
		zone, err := c.res.findZone(ctx, target)
		if err != nil {
			return r, err
		}
		if servers, err = c.res.nameservers(ctx, zone, c.nsPort); err != nil {
			return r, err
		}
	}
	// The servers are asked at once, so that one that does not answer
	// costs one query timeout per call, not one per server.
	type answer struct {
		has       bool
		addr, why string
	}
	answers := make([]answer, len(servers))
	var wg sync.WaitGroup
	for i, ns := range servers {
		if ns.err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := &answers[i]
			a.has, a.addr, a.why = serves(ctx, ns.addrs, target, value)
		}()
	}
	wg.Wait()
	for i, ns := range servers {
		switch a := answers[i]; {
		case ns.err != nil:
			r.missing = append(r.missing, fmt.Sprintf("%s (%v)", label(ns.name, ""), ns.err))
		case a.has:
			r.found = append(r.found, label(ns.name, a.addr))
		default:
			r.missing = append(r.missing, fmt.Sprintf("%s (%s)", label(ns.name, a.addr), a.why))
		}
	}
	return r, nil
}

// serves asks one authoritative server, without recursion, for name's TXT
// records and says whether value is among them, or why not. Of the
// server's addresses, the first that answers decides; addr is the one that
// answered (or the last tried).
func serves(ctx context.Context, addrs []string, name, value string) (has bool, addr, why string) {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeTXT)
	m.RecursionDesired = false
	m.SetEdns0(4096, false)
	var resp *dns.Msg
	var err error
	for _, addr = range addrs {
		if resp, err = exchange(ctx, m, addr, nil); err == nil {
			break
		}
	}
	if err != nil {
		return false, addr, err.Error()
	}
	if resp.Rcode != dns.RcodeSuccess {
		return false, addr, dns.RcodeToString[resp.Rcode]
	}
	n := 0
	for _, rr := range resp.Answer {
		if txt, ok := rr.(*dns.TXT); ok && dns.CanonicalName(txt.Hdr.Name) == name {
			n++
			if strings.Join(txt.Txt, "") == value {
				return true, addr, ""
			}
		}
	}
	if n == 0 {
		return false, addr, "no TXT record"
	}
	return false, addr, fmt.Sprintf("%d TXT record(s), none with the value", n)
}
