package dns01

import "testing"

func TestRecord(t *testing.T) {
	// The value was computed apart from this code:
	// printf 'token123.thumbprintABC' | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '='
	const keyAuth, want = "token123.thumbprintABC", "qRx-zfG8KjEvBOypNY3z_0LwRXmbKEdpa9OZ731MM8k"
	for _, tc := range []struct{ domain, fqdn string }{
		{"www.example.com", "_acme-challenge.www.example.com."},
		{"WWW.Example.COM.", "_acme-challenge.www.example.com."},
		{"*.example.com", "_acme-challenge.example.com."},
		{"*.sub.example.com", "_acme-challenge.sub.example.com."},
	} {
		fqdn, value := Record(tc.domain, keyAuth)
		if fqdn != tc.fqdn || value != want {
			t.Errorf("Record(%q) = %q, %q; want %q, %q", tc.domain, fqdn, value, tc.fqdn, want)
		}
		if f, v := (Challenge{Domain: tc.domain, KeyAuthorization: keyAuth}).Record(); f != fqdn || v != value {
			t.Errorf("Challenge.Record(%q) differs from Record", tc.domain)
		}
	}
}

func TestChallengeCheck(t *testing.T) {
	for _, ch := range []Challenge{
		{Domain: "", KeyAuthorization: "a.b"},
		{Domain: "*.", KeyAuthorization: "a.b"},
		{Domain: "a.*.example.com", KeyAuthorization: "a.b"},
		{Domain: "example.com", KeyAuthorization: ""},
	} {
		if err := ch.check(); err == nil {
			t.Errorf("check(%+v) accepted", ch)
		}
	}
	if err := (Challenge{Domain: "*.example.com", KeyAuthorization: "a.b"}).check(); err != nil {
		t.Errorf("wildcard refused: %v", err)
	}
}
