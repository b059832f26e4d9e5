// Package dns01 solves ACME DNS-01 challenges (RFC 8555 §8.4) for the ACME
// issuer plugin: it computes the TXT record a challenge asks for, publishes
// it through a configured Solver (RFC 2136 dynamic update with TSIG, a hook
// command, or one of lego's DNS provider packages), and checks that every
// authoritative nameserver of the zone serves it before the plugin tells
// the CA to validate.
//
// The ACME plugin keeps no goroutine waiting between its calls: it presents
// the record, then calls Checker.Check once per call until the record has
// propagated or Checker.Expired says the bound is spent. Checker.Wait is the
// blocking form of the same loop.
package dns01

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// challengeLabel is the label RFC 8555 §8.4 puts in front of the name.
const challengeLabel = "_acme-challenge"

// Record returns the name and value of the TXT record that answers a DNS-01
// challenge for domain: "_acme-challenge.<domain>." and the unpadded
// base64url SHA-256 of the key authorization. A wildcard ("*.example.com")
// is validated at its base name (RFC 8555 §7.1.3), so its record is
// "_acme-challenge.example.com.".
func Record(domain, keyAuthorization string) (fqdn, value string) {
	sum := sha256.Sum256([]byte(keyAuthorization))
	return ChallengeFQDN(domain), base64.RawURLEncoding.EncodeToString(sum[:])
}

// ChallengeFQDN returns the fully qualified name of domain's challenge
// record, lower-cased, wildcard label removed.
func ChallengeFQDN(domain string) string {
	d := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(domain), "."))
	d = strings.TrimPrefix(d, "*.")
	return dns.Fqdn(challengeLabel + "." + d)
}

// Challenge is one DNS-01 challenge to publish. Solvers need the key
// authorization itself, not only the record value, because lego's DNS
// providers take it and compute the value themselves.
type Challenge struct {
	// Domain is the identifier as ordered; "*.example.com" is solved at
	// example.com.
	Domain string
	// KeyAuthorization is the challenge token, ".", and the base64url
	// JWK thumbprint of the account key (RFC 8555 §8.1).
	KeyAuthorization string
}

// Record returns the challenge's TXT record name and value.
func (c Challenge) Record() (fqdn, value string) { return Record(c.Domain, c.KeyAuthorization) }

func (c Challenge) check() error {
	d := strings.TrimPrefix(strings.TrimSuffix(c.Domain, "."), "*.")
	if d == "" || strings.Contains(d, "*") {
		return fmt.Errorf("dns01: bad challenge domain %q", c.Domain)
	}
	if _, ok := dns.IsDomainName(d); !ok {
		return fmt.Errorf("dns01: bad challenge domain %q", c.Domain)
	}
	if c.KeyAuthorization == "" {
		return fmt.Errorf("dns01: challenge for %q has no key authorization", c.Domain)
	}
	return nil
}

// Solver publishes and removes challenge records. Present is idempotent:
// the ACME plugin may call it again for the same challenge after a restart.
// Both follow a CNAME at _acme-challenge.<domain> and write where it points.
type Solver interface {
	Present(ctx context.Context, ch Challenge) error
	CleanUp(ctx context.Context, ch Challenge) error
}

// New returns the Solver that cfg's Provider names.
func New(cfg Config) (Solver, error) {
	switch cfg.Provider {
	case "":
		return nil, fmt.Errorf("dns01: no DNS provider configured (%s)", FieldProvider)
	case ProviderRFC2136:
		return newRFC2136(cfg)
	case ProviderHook:
		return newHook(cfg)
	default:
		return newLego(cfg)
	}
}
