package dns01

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/certctl/certctl/server/acmetest"
	"github.com/miekg/dns"
)

// checkerViaNS returns a Checker that finds the zone's nameservers by SOA
// and NS lookups through s, and asks them on s's port (the only thing a
// test cannot give a real deployment: port 53).
func checkerViaNS(t *testing.T, s *acmetest.DNSServer) *Checker {
	t.Helper()
	raw := rfc2136Config(s)
	delete(raw, FieldPropagationNameservers)
	chk, err := NewChecker(mustConfig(t, raw))
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(s.Addr)
	chk.nsPort = port
	return chk
}

func TestCheckFindsAuthoritativeServers(t *testing.T) {
	s := startDNS(t)
	chk := checkerViaNS(t, s)
	fqdn, value := Record("*.www.certctl.test", "tok.thumb")
	ctx := ctxT(t)

	ok, detail, err := chk.Check(ctx, fqdn, value)
	if err != nil || ok {
		t.Fatalf("before the record exists: %v %q %v", ok, detail, err)
	}
	contains(t, errors.New(detail), "not served by ns1.certctl.test (127.0.0.1:", "no TXT record")

	s.SetTXT(fqdn, "some other order's value")
	ok, detail, _ = chk.Check(ctx, fqdn, value)
	if ok {
		t.Fatalf("a different value counted: %q", detail)
	}
	contains(t, errors.New(detail), "none with the value")

	s.SetTXT(fqdn, "some other order's value", value)
	ok, detail, err = chk.Check(ctx, fqdn, value)
	if err != nil || !ok {
		t.Fatalf("with the record: %v %q %v", ok, detail, err)
	}
	contains(t, errors.New(detail), "served by ns1.certctl.test")

	var asked []string
	for _, q := range s.Queries() {
		asked = append(asked, q.Type+" "+q.Name)
	}
	for _, want := range []string{"SOA _acme-challenge.www.certctl.test.", "NS certctl.test.", "A ns1.certctl.test.", "TXT _acme-challenge.www.certctl.test."} {
		found := false
		for _, a := range asked {
			found = found || a == want
		}
		if !found {
			t.Errorf("the check never asked %q (asked %v)", want, asked)
		}
	}
}

func TestWaitNeverPropagates(t *testing.T) {
	s := startDNS(t)
	s.SetServeUpdates(false)
	cfg := mustConfig(t, rfc2136Config(s)) // propagation timeout 3s, interval 100ms
	sol, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ch := Challenge{Domain: "www.certctl.test", KeyAuthorization: "tok.thumb"}
	if err := sol.Present(ctxT(t), ch); err != nil {
		t.Fatalf("Present (accepted, never served): %v", err)
	}
	fqdn, value := ch.Record()
	chk, err := NewChecker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = chk.Wait(ctxT(t), fqdn, value)
	var pe *PropagationError
	if !errors.As(err, &pe) {
		t.Fatalf("Wait: %v, want a *PropagationError", err)
	}
	if len(pe.Missing) != 1 || pe.FQDN != fqdn || pe.Timeout != 3*time.Second {
		t.Fatalf("PropagationError %+v", pe)
	}
	contains(t, err, "_acme-challenge.www.certctl.test.", "not propagated after 3s", "not served by "+s.Addr, "no TXT record")

	// The ACME plugin's form: one check per call, bounded by the time the
	// record was presented.
	ok, _, err := chk.CheckBy(ctxT(t), fqdn, value, time.Now().Add(time.Hour))
	if ok || err != nil {
		t.Fatalf("CheckBy before the deadline: %v %v", ok, err)
	}
	_, _, err = chk.CheckBy(ctxT(t), fqdn, value, time.Now().Add(-time.Second))
	if !errors.As(err, &pe) {
		t.Fatalf("CheckBy past the deadline: %v", err)
	}
}

func TestWaitUnreachableServers(t *testing.T) {
	// A port nobody listens on: the error after the bound names it.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := pc.LocalAddr().String()
	pc.Close()
	s := startDNS(t)
	raw := rfc2136Config(s)
	raw[FieldPropagationNameservers] = []any{s.Addr, dead}
	raw[FieldPropagationTimeout] = "1s"
	cfg := mustConfig(t, raw)
	fqdn, value := Record("www.certctl.test", "tok.thumb")
	s.SetTXT(fqdn, value)
	chk, _ := NewChecker(cfg)
	err = chk.Wait(ctxT(t), fqdn, value)
	var pe *PropagationError
	if !errors.As(err, &pe) || len(pe.Missing) != 1 {
		t.Fatalf("Wait: %v", err)
	}
	contains(t, err, "not served by "+dead)

	// And with no resolver at all, the lookup error is what the bound
	// reports.
	raw[FieldResolvers] = []any{dead}
	chk, _ = NewChecker(mustConfig(t, raw))
	err = chk.Wait(ctxT(t), fqdn, value)
	if !errors.As(err, &pe) || pe.Err == nil {
		t.Fatalf("Wait without resolvers: %v", err)
	}
	contains(t, err, "no resolver answered", dead)
}

func TestWaitHonoursContext(t *testing.T) {
	s := startDNS(t)
	raw := rfc2136Config(s)
	raw[FieldPropagationTimeout] = "1h"
	chk, _ := NewChecker(mustConfig(t, raw))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	fqdn, value := Record("www.certctl.test", "tok.thumb")
	if err := chk.Wait(ctx, fqdn, value); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait: %v, want the context's error", err)
	}
}

// A nameserver counts as serving the record when any of its addresses
// answers: one unreachable address (IPv6 from a host without it, here a
// loopback address nobody listens on) does not hold propagation back.
func TestCheckTriesEveryAddressOfANameserver(t *testing.T) {
	s := startDNS(t)
	s.SetRecord(t, "ns1.certctl.test. 60 IN A 127.0.0.2")
	s.SetRecord(t, "ns1.certctl.test. 60 IN A 127.0.0.1")
	chk := checkerViaNS(t, s)
	fqdn, value := Record("www.certctl.test", "tok.thumb")
	s.SetTXT(fqdn, value)
	ok, detail, err := chk.Check(ctxT(t), fqdn, value)
	if err != nil || !ok {
		t.Fatalf("Check: %v %q %v", ok, detail, err)
	}
	contains(t, errors.New(detail), "served by ns1.certctl.test (127.0.0.1:")

	s.Delete("ns1.certctl.test", dns.TypeA)
	s.SetRecord(t, "ns1.certctl.test. 60 IN A 127.0.0.2")
	ok, detail, err = chk.Check(ctxT(t), fqdn, value)
	if err != nil || ok {
		t.Fatalf("Check with only the dead address: %v %q %v", ok, detail, err)
	}
	contains(t, errors.New(detail), "not served by ns1.certctl.test (127.0.0.2:")
}
