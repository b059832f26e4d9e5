package dns01

import (
	"errors"
	"slices"
	"testing"

	"github.com/certctl/certctl/sdk/plugin"
)

func TestRFC2136PresentCleanUp(t *testing.T) {
	for _, alg := range []string{TSIGHMACSHA256, TSIGHMACSHA512, TSIGHMACSHA1} {
		t.Run(alg, func(t *testing.T) {
			s := startDNS(t)
			raw := rfc2136Config(s)
			raw[FieldTSIGAlgorithm] = alg
			cfg := mustConfig(t, raw)
			sol, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx := ctxT(t)
			ch := Challenge{Domain: "www.certctl.test", KeyAuthorization: "tok.thumb"}
			other := Challenge{Domain: "www.certctl.test", KeyAuthorization: "tok2.thumb"}
			fqdn, value := ch.Record()
			for range 2 { // Present is idempotent
				if err := sol.Present(ctx, ch); err != nil {
					t.Fatalf("Present: %v", err)
				}
			}
			if err := sol.Present(ctx, other); err != nil {
				t.Fatalf("Present other: %v", err)
			}
			_, otherValue := other.Record()
			if got := s.TXT(fqdn); !slices.Equal(got, []string{value, otherValue}) {
				t.Fatalf("TXT after Present twice and another: %v", got)
			}
			waitPropagated(t, cfg, fqdn, value)

			if err := sol.CleanUp(ctx, ch); err != nil {
				t.Fatalf("CleanUp: %v", err)
			}
			if got := s.TXT(fqdn); !slices.Equal(got, []string{otherValue}) {
				t.Fatalf("TXT after CleanUp: %v, want only the other challenge's", got)
			}
			for _, u := range s.Updates() {
				if u.KeyName != s.TSIGKeyName || u.Zone != testZone || u.Rcode != "NOERROR" {
					t.Fatalf("update %+v", u)
				}
			}
		})
	}
}

func TestRFC2136Refused(t *testing.T) {
	s := startDNS(t)
	ch := Challenge{Domain: "www.certctl.test", KeyAuthorization: "tok.thumb"}

	bad := rfc2136Config(s)
	bad[FieldTSIGSecret] = "d3Jvbmcgc2VjcmV0IHdyb25nIHNlY3JldA=="
	sol, err := New(mustConfig(t, bad))
	if err != nil {
		t.Fatal(err)
	}
	err = sol.Present(ctxT(t), ch)
	contains(t, err, "refused", "NOTAUTH", FieldTSIGSecret, s.Addr, testZone)

	unknown := rfc2136Config(s)
	unknown[FieldTSIGKeyName] = "someone-else"
	sol, _ = New(mustConfig(t, unknown))
	contains(t, sol.Present(ctxT(t), ch), "NOTAUTH")

	unsigned := rfc2136Config(s)
	delete(unsigned, FieldTSIGKeyName)
	delete(unsigned, FieldTSIGSecret)
	sol, _ = New(mustConfig(t, unsigned))
	contains(t, sol.Present(ctxT(t), ch), "REFUSED")

	if got := s.TXT("_acme-challenge.www.certctl.test"); len(got) != 0 {
		t.Fatalf("refused updates wrote %v", got)
	}
}

func TestRFC2136ConfiguredZone(t *testing.T) {
	s := startDNS(t)
	raw := rfc2136Config(s)
	raw[FieldZone] = "certctl.test"
	raw[FieldTTL] = 300
	sol, err := New(mustConfig(t, raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := sol.Present(ctxT(t), Challenge{Domain: "*.certctl.test", KeyAuthorization: "w.thumb"}); err != nil {
		t.Fatal(err)
	}
	ups := s.Updates()
	if len(ups) != 1 || ups[0].Zone != testZone || len(ups[0].Records) != 1 {
		t.Fatalf("updates %+v", ups)
	}
	_, value := Record("*.certctl.test", "w.thumb")
	want := "_acme-challenge.certctl.test.\t300\tIN\tTXT\t\"" + value + "\""
	if ups[0].Records[0] != want {
		t.Fatalf("update record %q, want %q", ups[0].Records[0], want)
	}
	// No SOA lookups were needed: the zone was given.
	for _, q := range s.Queries() {
		if q.Type == "SOA" {
			t.Fatalf("SOA asked although %s is set: %+v", FieldZone, q)
		}
	}
}

// A CNAME at _acme-challenge hands the record to another zone: Present
// writes there, and the propagation check looks there.
func TestRFC2136FollowsCNAME(t *testing.T) {
	s := startDNS(t)
	s.SetCNAME("_acme-challenge.app.certctl.test", "app.acme.delegated.test")
	cfg := mustConfig(t, rfc2136Config(s))
	sol, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ch := Challenge{Domain: "app.certctl.test", KeyAuthorization: "tok.thumb"}
	if err := sol.Present(ctxT(t), ch); err != nil {
		t.Fatal(err)
	}
	fqdn, value := ch.Record()
	if got := s.TXT("app.acme.delegated.test"); !slices.Equal(got, []string{value}) {
		t.Fatalf("TXT at the CNAME's target: %v", got)
	}
	if ups := s.Updates(); len(ups) != 1 || ups[0].Zone != delegatedZone {
		t.Fatalf("update went to %+v, want zone %s", ups, delegatedZone)
	}
	chk, err := NewChecker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ok, detail, err := chk.Check(ctxT(t), fqdn, value)
	if err != nil || !ok {
		t.Fatalf("Check: %v %q %v", ok, detail, err)
	}
	contains(t, errors.New(detail), "CNAME to app.acme.delegated.test.", "served by "+s.Addr)
	if err := sol.CleanUp(ctxT(t), ch); err != nil {
		t.Fatal(err)
	}
	if got := s.TXT("app.acme.delegated.test"); len(got) != 0 {
		t.Fatalf("after CleanUp: %v", got)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	_, err := New(Config{Provider: ProviderRFC2136})
	var pe *plugin.Error
	if !errors.As(err, &pe) || pe.Field != FieldNameserver {
		t.Fatalf("New without nameserver: %v", err)
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("New with no provider")
	}
}
