package dns01

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/miekg/dns"
)

// tsigFudge is the clock skew a TSIG signature tolerates (RFC 8945 §5.2.3
// recommends 300 seconds).
const tsigFudge = 300

// rfc2136 publishes records by dynamic update (RFC 2136) to the primary
// nameserver, signed with TSIG (RFC 8945) when a key is configured.
type rfc2136 struct {
	cfg Config
	res *resolver
}

func newRFC2136(cfg Config) (*rfc2136, error) {
	if cfg.Nameserver == "" {
		return nil, plugin.InvalidConfig(FieldNameserver, "is required with %s %q", FieldProvider, ProviderRFC2136)
	}
	if cfg.TSIGKeyName != "" {
		if tsigAlgorithm(cfg.TSIGAlgorithm) == "" {
			return nil, plugin.InvalidConfig(FieldTSIGAlgorithm, "unknown TSIG algorithm %q", cfg.TSIGAlgorithm)
		}
		if _, err := decodeSecret(cfg.TSIGSecret); err != nil {
			return nil, plugin.InvalidConfig(FieldTSIGSecret, "must be base64 (as in a BIND key file)")
		}
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	res, err := newResolver(cfg.Resolvers)
	if err != nil {
		return nil, err
	}
	return &rfc2136{cfg: cfg, res: res}, nil
}

func decodeSecret(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err == nil && len(b) == 0 {
		err = fmt.Errorf("empty secret")
	}
	return b, err
}

// Present adds the TXT record. Adding a record the zone already has is a
// no-op for the server (RFC 2136 §3.4.2.2), so Present can be repeated.
func (s *rfc2136) Present(ctx context.Context, ch Challenge) error {
	return s.update(ctx, ch, true)
}

// CleanUp deletes exactly this TXT record, leaving others at the same name
// (another order's challenge for the same domain) in place.
func (s *rfc2136) CleanUp(ctx context.Context, ch Challenge) error {
	return s.update(ctx, ch, false)
}

func (s *rfc2136) update(ctx context.Context, ch Challenge, add bool) error {
	if err := ch.check(); err != nil {
		return err
	}
	fqdn, value := ch.Record()
	target, err := s.res.followCNAME(ctx, fqdn)
	if err != nil {
		return fmt.Errorf("dns01 rfc2136: %w", err)
	}
	zone := s.cfg.Zone
	// A configured zone applies to the names inside it; a CNAME may point
	// the record into another zone.
	if zone == "" || !dns.IsSubDomain(zone, target) {
		if zone, err = s.res.findZone(ctx, target); err != nil {
			return fmt.Errorf("dns01 rfc2136: %w", err)
		}
	}
	rr := &dns.TXT{
		Hdr: dns.RR_Header{Name: target, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: uint32(s.cfg.TTL)},
		Txt: []string{value},
	}
	m := new(dns.Msg)
	m.SetUpdate(zone)
	action := "add"
	if add {
		m.Insert([]dns.RR{rr})
	} else {
		action = "delete"
		m.Remove([]dns.RR{rr})
	}
	var secrets map[string]string
	if s.cfg.TSIGKeyName != "" {
		secrets = map[string]string{s.cfg.TSIGKeyName: s.cfg.TSIGSecret}
		m.SetTsig(s.cfg.TSIGKeyName, tsigAlgorithm(s.cfg.TSIGAlgorithm), tsigFudge, time.Now().Unix())
	}
	resp, err := exchange(ctx, m, s.cfg.Nameserver, secrets)
	if resp != nil && resp.Rcode != dns.RcodeSuccess {
		msg := dns.RcodeToString[resp.Rcode]
		if t := resp.IsTsig(); t != nil && t.Error != dns.RcodeSuccess {
			msg += " (TSIG " + dns.RcodeToString[int(t.Error)] + ")"
		}
		if resp.Rcode == dns.RcodeNotAuth || resp.Rcode == dns.RcodeRefused {
			msg += ": check " + FieldTSIGKeyName + ", " + FieldTSIGAlgorithm + " and " + FieldTSIGSecret + " against the server's key and update policy for the zone"
		}
		return fmt.Errorf("dns01 rfc2136: %s TXT %s in zone %s at %s refused: %s", action, target, zone, s.cfg.Nameserver, msg)
	}
	if err != nil {
		return fmt.Errorf("dns01 rfc2136: %s TXT %s in zone %s at %s: %w", action, target, zone, s.cfg.Nameserver, err)
	}
	return nil
}
