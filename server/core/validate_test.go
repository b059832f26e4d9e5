package core

import (
	"errors"
	"strings"
	"testing"
)

// wantValid checks that err is nil when ok, and otherwise an EINVALID error
// on field.
func wantValid(t *testing.T, what string, err error, ok bool, field string) {
	t.Helper()
	if ok {
		if err != nil {
			t.Errorf("%s: %v, want it accepted", what, err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != EINVALID || e.Field != field {
		t.Errorf("%s: %v, want an invalid error on %q", what, err, field)
	}
}

func TestValidateDNSName(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		ok   bool
	}{
		{"example.com", true},
		{"www.example.com", true},
		{"*.example.com", true},
		{"localhost", true},
		{"1.example.com", true},
		{"a-1.b2.example", true},
		{"example.123a", true},
		{"xn--bcher-kva.example", true},
		{strings.Repeat("a", 63) + ".example.com", true},
		{"", false},
		{"*.com", false},
		{"a.*.example.com", false},
		{"-a.example.com", false},
		{"a..example.com", false},
		{"example.com.", false},
		{"not a host", false},
		{strings.Repeat("a", 64) + ".example.com", false},
		{strings.Repeat("a.", 127) + "com", false}, // 257 characters
		// IP-like strings: a DNS name's last label is never all digits.
		{"192.168.1.1", false},
		{"1.2.3.999", false},
		{"01.02.03.04", false},
		{"*.10.0.0.1", false},
		{"10", false},
		{"example.42", false},
	}
	for _, c := range cases {
		wantValid(t, c.name, ValidateDNSName("sans[0]", c.name), c.ok, "sans[0]")
	}
}

func TestValidateCommonName(t *testing.T) {
	t.Parallel()
	sixtyFour := strings.Repeat("a", 60) + ".com"
	cases := []struct {
		name string
		ok   bool
	}{
		{"www.example.com", true},
		{"*.example.com", true},
		{sixtyFour, true},
		{"a" + sixtyFour, false}, // 65 characters
		{strings.Repeat("a", 63) + "." + strings.Repeat("b", 11), false}, // 75
		{"192.168.1.1", false},
		{"::1", false},
		{"fe80::1%eth0", false},
		{"1.2.3.999", false},
		{"", false},
		{"not a host", false},
	}
	for _, c := range cases {
		wantValid(t, c.name, ValidateCommonName("common_name", c.name), c.ok, "common_name")
	}
}

func TestValidateSAN(t *testing.T) {
	t.Parallel()
	cases := []struct {
		san string
		ok  bool
	}{
		{"www.example.com", true},
		{"*.example.com", true},
		{"192.168.1.1", true},
		{"10.0.0.1", true},
		{"2001:db8::1", true},
		{"::1", true},
		{"fe80::1", true},
		{"ops@example.com", true},
		{"spiffe://example.org/web", true},
		{"fe80::1%eth0", false},
		{"fe80::1%25eth0", false},
		{"1.2.3.999", false},
		{"01.02.03.04", false},
		{"*.10.0.0.1", false},
		{"256.1.1.1", false},
		{"not an@address", false},
		{"a..b", false},
	}
	for _, c := range cases {
		wantValid(t, c.san, ValidateSAN("sans[3]", c.san), c.ok, "sans[3]")
	}
}
