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

func TestValidateName(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"web", true}, {"0day", true}, {"a.b-c_d", true}, {strings.Repeat("a", 63), true},
		{"", false}, {"Web", false}, {"-web", false}, {".web", false}, {"web site", false}, {"wéb", false},
		{strings.Repeat("a", 64), false}, {"web/1", false},
	} {
		wantValid(t, "ValidateName("+tt.name+")", ValidateName("name", tt.name), tt.ok, "name")
	}
}

func TestValidateType(t *testing.T) {
	for _, tt := range []struct {
		typ string
		ok  bool
	}{
		{"local", true}, {"my-ca2", true}, {"a" + strings.Repeat("b", 31), true},
		{"", false}, {"2ca", false}, {"-ca", false}, {"my_ca", false}, {"my.ca", false}, {"Local", false},
		{"a" + strings.Repeat("b", 32), false},
	} {
		wantValid(t, "ValidateType("+tt.typ+")", ValidateType("type", tt.typ), tt.ok, "type")
	}
}

func TestValidateOneOf(t *testing.T) {
	allowed := []string{"agent", "server"}
	wantValid(t, "agent", ValidateOneOf("key_mode", "agent", allowed), true, "key_mode")
	wantValid(t, "Agent", ValidateOneOf("key_mode", "Agent", allowed), false, "key_mode")
	wantValid(t, "empty", ValidateOneOf("key_mode", "", allowed), false, "key_mode")
	err := ValidateOneOf("key_mode", "x", allowed)
	if err == nil || !strings.Contains(err.Error(), "agent, server") {
		t.Errorf("the error does not list what is allowed: %v", err)
	}
	wantValid(t, "nothing allowed", ValidateOneOf("f", "x", nil), false, "f")
}

func TestValidateLabels(t *testing.T) {
	many := map[string]string{}
	for i := range 65 {
		many[strings.Repeat("k", i+1)] = "v"
	}
	sixtyFour := map[string]string{}
	for i := range 64 {
		sixtyFour[strings.Repeat("k", i%63+1)+strings.Repeat("x", i/63)] = "v"
	}
	for _, tt := range []struct {
		what   string
		labels map[string]string
		ok     bool
	}{
		{"none", nil, true},
		{"usual", map[string]string{"team": "payments", "app.kubernetes.io/name": "web", "Env": ""}, true},
		{"value of 256", map[string]string{"k": strings.Repeat("v", 256)}, true},
		{"64 labels", sixtyFour, true},
		{"65 labels", many, false},
		{"value of 257", map[string]string{"k": strings.Repeat("v", 257)}, false},
		{"empty key", map[string]string{"": "v"}, false},
		{"key starting with a dot", map[string]string{".k": "v"}, false},
		{"key with a space", map[string]string{"a b": "v"}, false},
		{"key of 64", map[string]string{strings.Repeat("k", 64): "v"}, false},
	} {
		if tt.what == "64 labels" && len(tt.labels) != 64 {
			t.Fatalf("the test's 64 labels are %d", len(tt.labels))
		}
		wantValid(t, tt.what, ValidateLabels("labels", tt.labels), tt.ok, "labels")
	}
}

func TestValidateConfig(t *testing.T) {
	big := map[string]any{}
	for i := range 201 {
		big[strings.Repeat("f", i+1)] = i
	}
	two := map[string]any{"url": "https://x", strings.Repeat("f", 128): nil}
	for _, tt := range []struct {
		what   string
		config map[string]any
		ok     bool
	}{
		{"none", nil, true},
		{"usual", two, true},
		{"201 fields", big, false},
		{"empty field name", map[string]any{"": 1}, false},
		{"field name of 129", map[string]any{strings.Repeat("f", 129): 1}, false},
	} {
		wantValid(t, tt.what, ValidateConfig("config", tt.config), tt.ok, "config")
	}
}

func TestNormalizeSANs(t *testing.T) {
	got := NormalizeSANs([]string{" WWW.Example.com ", "www.example.com", "::ffff:10.0.0.1", "10.0.0.1",
		"2001:DB8:0:0::1", "spiffe://Example.org/Web", "Ops@Example.com", "fe80::1%eth0"})
	want := []string{"www.example.com", "10.0.0.1", "2001:db8::1", "spiffe://Example.org/Web", "ops@example.com", "fe80::1%eth0"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("NormalizeSANs = %q, want %q", got, want)
	}
	if again := NormalizeSANs(got); strings.Join(again, " ") != strings.Join(got, " ") {
		t.Errorf("normalizing twice = %q, want %q", again, got)
	}
	if out := NormalizeSANs(nil); out == nil || len(out) != 0 {
		t.Errorf("NormalizeSANs(nil) = %#v, want an empty slice", out)
	}
}
