package acmetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func dnsAsk(t *testing.T, s *DNSServer, network, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Net: network, Timeout: 10 * time.Second}
	r, _, err := c.Exchange(m, s.Addr)
	if err != nil {
		t.Fatalf("%s %s over %s: %v", dns.TypeToString[qtype], name, network, err)
	}
	return r
}

func TestDNSAnswers(t *testing.T) {
	s := StartDNS(t, "certctl.test", "other.test.")
	s.SetTXT("_acme-challenge.www.certctl.test", "v1", "v2")
	s.SetCNAME("_acme-challenge.alias.certctl.test", "_acme-challenge.target.other.test")
	s.SetTXT("_acme-challenge.target.other.test", "delegated")

	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			r := dnsAsk(t, s, network, "anything.deep.certctl.test", dns.TypeA)
			if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "127.0.0.1" {
				t.Fatalf("A: %v", r)
			}
			for _, qtype := range []uint16{dns.TypeAAAA, dns.TypeCAA} {
				r = dnsAsk(t, s, network, "www.certctl.test", qtype)
				if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA {
					t.Fatalf("%s: want an empty answer with the SOA, got %v", dns.TypeToString[qtype], r)
				}
			}
			r = dnsAsk(t, s, network, "_acme-challenge.www.certctl.test", dns.TypeTXT)
			var got []string
			for _, rr := range r.Answer {
				got = append(got, strings.Join(rr.(*dns.TXT).Txt, ""))
			}
			if !slices.Equal(got, []string{"v1", "v2"}) {
				t.Fatalf("TXT: %v", r)
			}
			r = dnsAsk(t, s, network, "_acme-challenge.alias.certctl.test", dns.TypeTXT)
			if len(r.Answer) != 2 || r.Answer[0].Header().Rrtype != dns.TypeCNAME || r.Answer[1].(*dns.TXT).Txt[0] != "delegated" {
				t.Fatalf("TXT through CNAME: %v", r)
			}
			r = dnsAsk(t, s, network, "certctl.test", dns.TypeSOA)
			if len(r.Answer) != 1 || r.Answer[0].Header().Rrtype != dns.TypeSOA {
				t.Fatalf("SOA: %v", r)
			}
			r = dnsAsk(t, s, network, "certctl.test", dns.TypeNS)
			if len(r.Answer) != 1 || r.Answer[0].(*dns.NS).Ns != "ns1.certctl.test." || len(r.Extra) != 1 {
				t.Fatalf("NS: %v", r)
			}
			r = dnsAsk(t, s, network, "example.com", dns.TypeA)
			if r.Rcode != dns.RcodeRefused {
				t.Fatalf("outside the zones: %v", r)
			}
		})
	}
	if q := s.Queries(); len(q) == 0 || q[0] != (DNSQuery{Name: "anything.deep.certctl.test.", Type: "A", Net: "udp"}) {
		t.Fatalf("queries: %v", q)
	}
}

func dnsUpdate(t *testing.T, s *DNSServer, keyName, secret, alg string, rr dns.RR, add bool) (*dns.Msg, error) {
	t.Helper()
	m := new(dns.Msg)
	m.SetUpdate("certctl.test.")
	if add {
		m.Insert([]dns.RR{rr})
	} else {
		m.Remove([]dns.RR{rr})
	}
	c := &dns.Client{Net: "tcp", Timeout: 10 * time.Second}
	if keyName != "" {
		c.TsigSecret = map[string]string{keyName: secret}
		m.SetTsig(keyName, alg, 300, time.Now().Unix())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, _, err := c.ExchangeContext(ctx, m, s.Addr)
	return r, err
}

func TestDNSUpdates(t *testing.T) {
	s := StartDNS(t)
	rr, err := dns.NewRR(`_acme-challenge.a.certctl.test. 60 IN TXT "tok"`)
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{dns.HmacSHA256, dns.HmacSHA512, dns.HmacSHA1} {
		r, err := dnsUpdate(t, s, s.TSIGKeyName, s.TSIGSecret, alg, rr, true)
		if err != nil || r.Rcode != dns.RcodeSuccess {
			t.Fatalf("signed update with %s: %v %v", alg, r, err)
		}
	}
	if got := s.TXT("_acme-challenge.a.certctl.test"); !slices.Equal(got, []string{"tok"}) {
		t.Fatalf("after three identical adds: %v", got)
	}

	r, _ := dnsUpdate(t, s, "", "", "", rr, false)
	if r == nil || r.Rcode != dns.RcodeRefused {
		t.Fatalf("unsigned update: %v", r)
	}
	r, _ = dnsUpdate(t, s, s.TSIGKeyName, "d3Jvbmcgc2VjcmV0IHdyb25nIHNlY3JldA==", dns.HmacSHA256, rr, false)
	if r == nil || r.Rcode != dns.RcodeNotAuth {
		t.Fatalf("badly signed update: %v", r)
	}
	r, _ = dnsUpdate(t, s, "unknown-key.", s.TSIGSecret, dns.HmacSHA256, rr, false)
	if r == nil || r.Rcode != dns.RcodeNotAuth {
		t.Fatalf("unknown key: %v", r)
	}
	if got := s.TXT("_acme-challenge.a.certctl.test"); len(got) != 1 {
		t.Fatalf("refused updates changed the zone: %v", got)
	}

	s.SetServeUpdates(false)
	other, _ := dns.NewRR(`_acme-challenge.b.certctl.test. 60 IN TXT "held"`)
	if r, err := dnsUpdate(t, s, s.TSIGKeyName, s.TSIGSecret, dns.HmacSHA256, other, true); err != nil || r.Rcode != dns.RcodeSuccess {
		t.Fatalf("held update: %v %v", r, err)
	}
	if got := s.TXT("_acme-challenge.b.certctl.test"); len(got) != 0 {
		t.Fatalf("held update served: %v", got)
	}
	s.SetServeUpdates(true)

	if r, err := dnsUpdate(t, s, s.TSIGKeyName, s.TSIGSecret, dns.HmacSHA256, rr, false); err != nil || r.Rcode != dns.RcodeSuccess {
		t.Fatalf("delete: %v %v", r, err)
	}
	if got := s.TXT("_acme-challenge.a.certctl.test"); len(got) != 0 {
		t.Fatalf("after delete: %v", got)
	}

	ups := s.Updates()
	var rcodes []string
	for _, u := range ups {
		rcodes = append(rcodes, u.Rcode)
	}
	want := []string{"NOERROR", "NOERROR", "NOERROR", "REFUSED", "NOTAUTH", "NOTAUTH", "NOERROR", "NOERROR"}
	if !slices.Equal(rcodes, want) {
		t.Fatalf("update log rcodes %v, want %v", rcodes, want)
	}
	if ups[6].Applied || !ups[7].Applied || ups[0].KeyName != s.TSIGKeyName {
		t.Fatalf("update log: %+v", ups)
	}
}

func TestDNSUpdateOutsideZone(t *testing.T) {
	s := StartDNS(t)
	rr, _ := dns.NewRR(`x.elsewhere.test. 60 IN TXT "no"`)
	r, err := dnsUpdate(t, s, s.TSIGKeyName, s.TSIGSecret, dns.HmacSHA256, rr, true)
	if err != nil && !errors.Is(err, dns.ErrSig) {
		t.Fatal(err)
	}
	if r == nil || r.Rcode != dns.RcodeNotZone {
		t.Fatalf("record outside the zone: %v", r)
	}
}

func TestDNSWithChosenKey(t *testing.T) {
	const secret = "dGhlIHRlc3QncyBvd24ga2V5IGZvciBkbnMgdXBkYXRlcw=="
	s := StartDNSWithTSIG(t, "chosen-key", secret, "certctl.test")
	if s.TSIGKeyName != "chosen-key." || s.TSIGSecret != secret {
		t.Fatalf("key %q %q", s.TSIGKeyName, s.TSIGSecret)
	}
	rr, _ := dns.NewRR(`_acme-challenge.c.certctl.test. 60 IN TXT "chosen"`)
	if r, err := dnsUpdate(t, s, "chosen-key.", secret, dns.HmacSHA512, rr, true); err != nil || r.Rcode != dns.RcodeSuccess {
		t.Fatalf("update with the chosen key: %v %v", r, err)
	}
	if got := s.TXT("_acme-challenge.c.certctl.test"); !slices.Equal(got, []string{"chosen"}) {
		t.Fatalf("TXT %v", got)
	}
}
