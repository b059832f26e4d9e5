package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/apitest"
)

// What a CA would refuse is a 400 on the field at the API, never a
// certificate that is created and then fails to issue.
func TestNamesACARefusesAreRefusedUpFront(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{})
	iss, _, cert := fixture(t, env, "names")
	// The refusals are audited (as failures); nothing else may change.
	tables := append([]string{"jobs"}, resourceTables...)
	counts := map[string]int{}
	for _, table := range tables {
		counts[table] = env.Count(t, table)
	}
	create := func(cn string, sans ...string) api.CertificateRequest {
		return api.CertificateRequest{Name: "x", CommonName: cn, SANs: sans, IssuerID: iss.ID}
	}
	long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 11) // 75 characters
	cases := []struct {
		name, method, path string
		body               any
		field              string
	}{
		{"75-character common name", "POST", "/api/v1/certificates", create(long), "common_name"},
		{"IP address as common name", "POST", "/api/v1/certificates", create("192.168.1.1"), "common_name"},
		{"IP-like common name", "POST", "/api/v1/certificates", create("1.2.3.999"), "common_name"},
		{"IP SAN with a zone", "POST", "/api/v1/certificates", create("a.example.com", "fe80::1%eth0"), "sans[0]"},
		{"invalid IPv4 as DNS SAN", "POST", "/api/v1/certificates", create("a.example.com", "b.example.com", "1.2.3.999"), "sans[1]"},
		{"zero-padded IPv4 as DNS SAN", "POST", "/api/v1/certificates", create("a.example.com", "01.02.03.04"), "sans[0]"},
		{"wildcard over an IP", "POST", "/api/v1/certificates", create("a.example.com", "*.10.0.0.1"), "sans[0]"},
		{"update to a long common name", "PUT", "/api/v1/certificates/" + cert.ID,
			api.CertificateRequest{Name: "names", CommonName: long, IssuerID: iss.ID}, "common_name"},
		{"zero token ttl", "POST", "/api/v1/enrollment-tokens", api.EnrollmentTokenRequest{TTL: "0s"}, "ttl"},
		{"negative token ttl", "POST", "/api/v1/enrollment-tokens", api.EnrollmentTokenRequest{TTL: "-1h"}, "ttl"},
		{"too short token ttl", "POST", "/api/v1/enrollment-tokens", api.EnrollmentTokenRequest{TTL: "30s"}, "ttl"},
		{"too long token ttl", "POST", "/api/v1/enrollment-tokens", api.EnrollmentTokenRequest{TTL: "721h"}, "ttl"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantInvalid(t, env, c.method, c.path, c.body, c.field)
		})
	}
	for _, table := range tables {
		if n := env.Count(t, table); n != counts[table] {
			t.Errorf("%s: %d rows, want %d: a refused request changed it", table, n, counts[table])
		}
	}
	if got := getCertificate(t, env, cert.ID); got.CommonName != cert.CommonName {
		t.Errorf("common name = %q after a refused update, want %q", got.CommonName, cert.CommonName)
	}

	// What is valid still is: IP addresses as SANs, a 64-character common
	// name, an omitted ttl (the default, 24 hours) and the longest one.
	sixtyFour := strings.Repeat("c", 60) + ".com"
	var c api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey,
		create(sixtyFour, "192.168.1.1", "2001:db8::1", "fe80::1"), 201).Decode(t, &c)
	if want := []string{"192.168.1.1", "2001:db8::1", "fe80::1"}; strings.Join(c.SANs, ",") != strings.Join(want, ",") {
		t.Errorf("sans = %v, want %v", c.SANs, want)
	}
	for ttl, want := range map[string]time.Duration{"": 24 * time.Hour, "720h": 720 * time.Hour, "1m": time.Minute} {
		var tok api.EnrollmentToken
		before := time.Now()
		env.MustDo(t, "POST", "/api/v1/enrollment-tokens", env.AdminKey, api.EnrollmentTokenRequest{TTL: ttl}, 201).Decode(t, &tok)
		if got := tok.ExpiresAt.Sub(before); got < want-time.Minute || got > want+time.Minute {
			t.Errorf("ttl %q: expires in %s, want %s", ttl, got, want)
		}
	}
}
