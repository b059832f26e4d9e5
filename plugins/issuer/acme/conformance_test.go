package main

import (
	"testing"

	"github.com/certctl/certctl/sdk/keys"
	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
	"github.com/certctl/certctl/server/acmetest"
)

// TestConformance runs the SDK's conformance kit on the built binary
// against Pebble. The kit follows a pending order with GetOrderStatus
// alone and presents no challenge, so its names are authorized first
// (through real HTTP-01) for the account it uses, and Pebble reuses valid
// authorizations, as Let's Encrypt does for 30 days: its orders are ready
// at once and the plugin finalizes them in the first call.
func TestConformance(t *testing.T) {
	p, r := startPebble(t, acmetest.PebbleOptions{AuthzReusePercent: 100})
	iss := startPlugin(t).Issuer()
	accountKey, err := keys.Generate("ecdsa-p256")
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := keys.MarshalPEM(accountKey)
	if err != nil {
		t.Fatal(err)
	}
	valid := baseConfig(p)
	valid[fieldAccountKey] = string(keyPEM)
	const cn, san = "plugintest.example.com", "www.plugintest.example.com"
	cfg := provision(t, iss, valid)
	key, csr := newCSR(t, cn, san)
	res, err := drive(t, iss, plugin.IssueRequest{Config: cfg, CSR: csr, CommonName: cn, SANs: []string{san}}, driveOpts{r: r})
	if err != nil {
		t.Fatalf("authorizing the kit's names: %v", err)
	}
	verifyIssued(t, res, key, p.Roots(t, 0), cn, san)

	plugintest.Run(t, plugintest.Options{
		Binary:      pluginBin, // built once for every test, as make build does
		Kind:        plugin.KindIssuer,
		ValidConfig: valid,
		InvalidConfigs: []plugintest.InvalidConfig{
			{Name: "directory not a URL", Config: plugin.Config{fieldDirectoryURL: "ftp://ca.example.com/dir"}, Field: fieldDirectoryURL},
			{Name: "no directory", Config: plugin.Config{fieldEmail: "a@example.com"}, Field: fieldDirectoryURL},
			{Name: "account key not a key", Config: plugin.Config{fieldDirectoryURL: "letsencrypt", fieldAccountKey: "not a key"}, Field: fieldAccountKey},
			{Name: "EAB key ID without HMAC", Config: plugin.Config{fieldDirectoryURL: "letsencrypt", fieldEABKeyID: "kid-1"}, Field: fieldEABHMACKey},
			{Name: "EAB HMAC not base64url", Config: plugin.Config{fieldDirectoryURL: "letsencrypt", fieldEABKeyID: "kid-1", fieldEABHMACKey: "!!!!"}, Field: fieldEABHMACKey},
			{Name: "dns-01 without provider", Config: plugin.Config{fieldDirectoryURL: "letsencrypt", fieldChallenge: "dns-01"}, Field: "dns_provider"},
			{Name: "unknown challenge", Config: plugin.Config{fieldDirectoryURL: "letsencrypt", fieldChallenge: "tls-alpn-01"}, Field: fieldChallenge},
			{Name: "CA bundle not PEM", Config: plugin.Config{fieldDirectoryURL: "letsencrypt", fieldCABundle: "not PEM"}, Field: fieldCABundle},
			{Name: "email not an address", Config: plugin.Config{fieldDirectoryURL: "letsencrypt", fieldEmail: "nobody"}, Field: fieldEmail},
		},
		Issuer: &plugintest.IssuerCases{
			Provision:  true,
			KeyTypes:   []string{"ecdsa-p256", "ecdsa-p384", "rsa-2048"},
			CommonName: cn,
			SANs:       []string{san},
			Roots:      p.Roots(t, 0),
		},
	})
}
