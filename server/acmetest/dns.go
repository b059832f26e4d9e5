package acmetest

// The test DNS server: authoritative, RFC 2136 with TSIG (see DNSServer).

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// DNSDefaultZone is the zone StartDNS serves when given none.
const DNSDefaultZone = "certctl.test."

// DNSServer is a real DNS server on 127.0.0.1 (UDP and TCP, one port) for
// tests. It is authoritative for its zones (SOA, NS ns1.<zone>), answers
// A 127.0.0.1 for every name in them (so that a CA's HTTP-01 validation
// reaches a responder on loopback) and no AAAA or CAA unless set, holds
// TXT and CNAME records, and takes RFC 2136 updates signed with its TSIG
// key. Tests set records directly, read what was asked, and can make it
// accept updates without serving them (propagation that never happens).
type DNSServer struct {
	// Addr is host:port for UDP and TCP.
	Addr string
	// TSIGKeyName and TSIGSecret (base64) are the key updates must be
	// signed with; any of hmac-sha256, hmac-sha512 and hmac-sha1 may be
	// used with it.
	TSIGKeyName string
	TSIGSecret  string

	zones []string

	mu           sync.Mutex
	records      map[string][]dns.RR // by canonical owner name
	serveUpdates bool
	queries      []DNSQuery
	updates      []DNSUpdate
}

// DNSQuery is one question the server was asked.
type DNSQuery struct {
	Name string // canonical, with the final dot
	Type string // "TXT", "A", ...
	Net  string // "udp" or "tcp"
}

// DNSUpdate is one RFC 2136 update the server received.
type DNSUpdate struct {
	Zone    string
	KeyName string   // the TSIG key it was signed with, "" for none
	Rcode   string   // the server's answer: "NOERROR", "NOTAUTH", "REFUSED", ...
	Records []string // the update section, in zone-file form
	Applied bool     // false when refused or when updates are held back
}

// StartDNS starts a DNS server authoritative for zones (DNSDefaultZone
// when none are given), with a fresh random TSIG key, and stops it when
// the test ends.
func StartDNS(t testing.TB, zones ...string) *DNSServer {
	t.Helper()
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		t.Fatalf("acmetest: TSIG secret: %v", err)
	}
	return StartDNSWithTSIG(t, "certctl-test-key.", base64.StdEncoding.EncodeToString(secret), zones...)
}

// StartDNSWithTSIG is StartDNS with the TSIG key the test chooses: its
// name and its secret in base64.
func StartDNSWithTSIG(t testing.TB, keyName, secret string, zones ...string) *DNSServer {
	t.Helper()
	if len(zones) == 0 {
		zones = []string{DNSDefaultZone}
	}
	if _, err := base64.StdEncoding.DecodeString(secret); err != nil || secret == "" {
		t.Fatalf("acmetest: TSIG secret must be base64: %v", err)
	}
	s := &DNSServer{
		TSIGKeyName:  dns.CanonicalName(keyName),
		TSIGSecret:   secret,
		records:      map[string][]dns.RR{},
		serveUpdates: true,
	}
	for _, z := range zones {
		s.zones = append(s.zones, dns.CanonicalName(z))
	}

	pc, ln := listenDNS(t)
	s.Addr = pc.LocalAddr().String()
	secrets := map[string]string{s.TSIGKeyName: s.TSIGSecret}
	udp := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serve("udp")), TsigSecret: secrets, MsgAcceptFunc: acceptDNS}
	tcp := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(s.serve("tcp")), TsigSecret: secrets, MsgAcceptFunc: acceptDNS}
	var wg sync.WaitGroup
	for _, srv := range []*dns.Server{udp, tcp} {
		wg.Add(1)
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() {
			defer wg.Done()
			if err := srv.ActivateAndServe(); err != nil {
				t.Logf("acmetest: DNS server: %v", err)
			}
		}()
		select {
		case <-started:
		case <-time.After(30 * time.Second):
			t.Fatalf("acmetest: DNS server did not start")
		}
	}
	t.Cleanup(func() {
		_ = udp.Shutdown()
		_ = tcp.Shutdown()
		wg.Wait()
	})
	return s
}

// acceptDNS lets updates through: miekg/dns's default refuses the UPDATE
// opcode (and its section counts) before the handler sees it.
func acceptDNS(h dns.Header) dns.MsgAcceptAction {
	if int(h.Bits>>11)&0xF == dns.OpcodeUpdate {
		return dns.MsgAccept
	}
	return dns.DefaultMsgAcceptFunc(h)
}

// listenDNS opens UDP and TCP on the same random loopback port.
func listenDNS(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("acmetest: listen udp: %v", err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln
		}
		lastErr = err
		pc.Close()
	}
	t.Fatalf("acmetest: no loopback port free for both UDP and TCP: %v", lastErr)
	return nil, nil
}

// Zones returns the zones served, fully qualified.
func (s *DNSServer) Zones() []string { return slices.Clone(s.zones) }

// SetTXT replaces the TXT records at name with values.
func (s *DNSServer) SetTXT(name string, values ...string) {
	name = dns.CanonicalName(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteLocked(name, dns.TypeTXT)
	for _, v := range values {
		s.records[name] = append(s.records[name], &dns.TXT{
			Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60},
			Txt: splitTXT(v),
		})
	}
}

// SetCNAME makes name an alias of target (and removes its other records).
func (s *DNSServer) SetCNAME(name, target string) {
	name = dns.CanonicalName(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[name] = []dns.RR{&dns.CNAME{
		Hdr:    dns.RR_Header{Name: name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: 60},
		Target: dns.CanonicalName(target),
	}}
}

// SetRecord adds a record given in zone-file form ("x.certctl.test. 60 IN
// CAA 0 issue \"pebble\"").
func (s *DNSServer) SetRecord(t testing.TB, zoneLine string) {
	t.Helper()
	rr, err := dns.NewRR(zoneLine)
	if err != nil || rr == nil {
		t.Fatalf("acmetest: record %q: %v", zoneLine, err)
	}
	rr.Header().Name = dns.CanonicalName(rr.Header().Name)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addLocked(rr)
}

// Delete removes name's records of type qtype (dns.TypeANY: all of them).
func (s *DNSServer) Delete(name string, qtype uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteLocked(dns.CanonicalName(name), qtype)
}

// TXT returns the TXT values stored at name (each record's strings
// joined), in the order they were added.
func (s *DNSServer) TXT(name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, rr := range s.records[dns.CanonicalName(name)] {
		if txt, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(txt.Txt, ""))
		}
	}
	return out
}

// SetServeUpdates(false) makes the server acknowledge RFC 2136 updates
// without applying them, as a primary whose secondaries never catch up
// looks to a CA: the record never appears.
func (s *DNSServer) SetServeUpdates(serve bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serveUpdates = serve
}

// Queries returns the questions asked so far, oldest first.
func (s *DNSServer) Queries() []DNSQuery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.queries)
}

// Updates returns the RFC 2136 updates received so far, oldest first.
func (s *DNSServer) Updates() []DNSUpdate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.updates)
}

// splitTXT cuts a value into the 255-byte strings a TXT record holds.
func splitTXT(v string) []string {
	var out []string
	for len(v) > 255 {
		out = append(out, v[:255])
		v = v[255:]
	}
	return append(out, v)
}

func (s *DNSServer) zoneOf(name string) string {
	best := ""
	for _, z := range s.zones {
		if dns.IsSubDomain(z, name) && len(z) > len(best) {
			best = z
		}
	}
	return best
}

func (s *DNSServer) addLocked(rr dns.RR) {
	name := rr.Header().Name
	for _, have := range s.records[name] {
		if dns.IsDuplicate(have, rr) {
			return
		}
	}
	s.records[name] = append(s.records[name], rr)
}

func (s *DNSServer) deleteLocked(name string, qtype uint16) {
	if qtype == dns.TypeANY {
		delete(s.records, name)
		return
	}
	kept := s.records[name][:0]
	for _, rr := range s.records[name] {
		if rr.Header().Rrtype != qtype {
			kept = append(kept, rr)
		}
	}
	s.records[name] = kept
}

func (s *DNSServer) serve(network string) func(w dns.ResponseWriter, req *dns.Msg) {
	return func(w dns.ResponseWriter, req *dns.Msg) {
		var resp *dns.Msg
		if req.Opcode == dns.OpcodeUpdate {
			resp = s.update(w, req)
		} else {
			resp = s.answer(req, network)
		}
		_ = w.WriteMsg(resp)
	}
}

func (s *DNSServer) soa(zone string) *dns.SOA {
	return &dns.SOA{
		Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
		Ns:  "ns1." + zone, Mbox: "hostmaster." + zone,
		Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 60,
	}
}

func (s *DNSServer) answer(req *dns.Msg, network string) *dns.Msg {
	resp := new(dns.Msg)
	resp.SetReply(req)
	if len(req.Question) != 1 || req.Opcode != dns.OpcodeQuery {
		resp.Rcode = dns.RcodeNotImplemented
		return resp
	}
	q := req.Question[0]
	name := dns.CanonicalName(q.Name)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries = append(s.queries, DNSQuery{Name: name, Type: dns.TypeToString[q.Qtype], Net: network})
	zone := s.zoneOf(name)
	if zone == "" {
		resp.Rcode = dns.RcodeRefused
		return resp
	}
	resp.Authoritative = true
	// Follow CNAMEs inside the served zones, as an authoritative server
	// does for the names it holds.
	for range 8 {
		rrs, cname := s.lookupLocked(name, zone, q.Qtype)
		resp.Answer = append(resp.Answer, rrs...)
		if cname == "" {
			break
		}
		if zone = s.zoneOf(cname); zone == "" {
			break
		}
		name = cname
	}
	if len(resp.Answer) == 0 {
		resp.Ns = []dns.RR{s.soa(s.zoneOf(dns.CanonicalName(q.Name)))}
	}
	if q.Qtype == dns.TypeNS && len(resp.Answer) > 0 {
		for _, rr := range resp.Answer {
			if ns, ok := rr.(*dns.NS); ok {
				glue, _ := s.lookupLocked(ns.Ns, zone, dns.TypeA)
				resp.Extra = append(resp.Extra, glue...)
			}
		}
	}
	return resp
}

// lookupLocked returns name's records of qtype, or its CNAME and the
// CNAME's target.
func (s *DNSServer) lookupLocked(name, zone string, qtype uint16) ([]dns.RR, string) {
	stored := s.records[name]
	for _, rr := range stored {
		if c, ok := rr.(*dns.CNAME); ok && qtype != dns.TypeCNAME {
			return []dns.RR{rr}, c.Target
		}
	}
	var out []dns.RR
	for _, rr := range stored {
		if rr.Header().Rrtype == qtype || qtype == dns.TypeANY {
			out = append(out, dns.Copy(rr))
		}
	}
	if len(out) > 0 {
		return out, ""
	}
	switch {
	case qtype == dns.TypeSOA && name == zone:
		return []dns.RR{s.soa(zone)}, ""
	case qtype == dns.TypeNS && name == zone:
		return []dns.RR{&dns.NS{
			Hdr: dns.RR_Header{Name: zone, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 60},
			Ns:  "ns1." + zone,
		}}, ""
	case qtype == dns.TypeA:
		return []dns.RR{&dns.A{
			Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
			A:   net.IPv4(127, 0, 0, 1),
		}}, ""
	}
	return nil, ""
}

// update applies an RFC 2136 update signed with the server's key.
func (s *DNSServer) update(w dns.ResponseWriter, req *dns.Msg) *dns.Msg {
	resp := new(dns.Msg)
	resp.SetReply(req)
	rec := DNSUpdate{}
	for _, rr := range req.Ns {
		rec.Records = append(rec.Records, rr.String())
	}
	if len(req.Question) == 1 {
		rec.Zone = dns.CanonicalName(req.Question[0].Name)
	}
	tsig := req.IsTsig()
	if tsig != nil {
		rec.KeyName = tsig.Hdr.Name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		rec.Rcode = dns.RcodeToString[resp.Rcode]
		s.updates = append(s.updates, rec)
	}()

	switch {
	case tsig == nil:
		// This server's policy, like a BIND zone with an update-policy,
		// takes only signed updates.
		resp.Rcode = dns.RcodeRefused
		return resp
	case w.TsigStatus() != nil:
		// RFC 8945 §5.2: a key or signature that does not verify is
		// NOTAUTH, and the answer cannot be signed with it.
		resp.Rcode = dns.RcodeNotAuth
		return resp
	}
	// The reply is signed with the request's key.
	defer resp.SetTsig(tsig.Hdr.Name, tsig.Algorithm, 300, time.Now().Unix())

	if len(req.Question) != 1 || req.Question[0].Qtype != dns.TypeSOA || !slices.Contains(s.zones, rec.Zone) {
		resp.Rcode = dns.RcodeNotAuth
		return resp
	}
	for _, rr := range req.Ns {
		if !dns.IsSubDomain(rec.Zone, dns.CanonicalName(rr.Header().Name)) {
			resp.Rcode = dns.RcodeNotZone
			return resp
		}
	}
	if !s.serveUpdates {
		return resp
	}
	for _, rr := range req.Ns {
		h := rr.Header()
		name := dns.CanonicalName(h.Name)
		switch h.Class {
		case dns.ClassINET:
			c := dns.Copy(rr)
			c.Header().Name = name
			s.addLocked(c)
		case dns.ClassANY:
			s.deleteLocked(name, h.Rrtype)
		case dns.ClassNONE:
			c := dns.Copy(rr)
			c.Header().Name, c.Header().Class = name, dns.ClassINET
			kept := s.records[name][:0]
			for _, have := range s.records[name] {
				if !dns.IsDuplicate(have, c) {
					kept = append(kept, have)
				}
			}
			s.records[name] = kept
		default:
			resp.Rcode = dns.RcodeFormatError
			return resp
		}
	}
	rec.Applied = true
	return resp
}

// String describes the server for test logs.
func (s *DNSServer) String() string {
	return fmt.Sprintf("DNS server %s for %s", s.Addr, strings.Join(s.zones, ", "))
}
