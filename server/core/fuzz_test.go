package core

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// The fuzz targets below feed validation the names users and agents send.
// Each must answer nil or an EINVALID error on its field, never panic, and
// a name accepted once must stay accepted in the form certctl stores it.

// wantInvalidOrNil fails unless err is nil or an EINVALID *Error on field.
func wantInvalidOrNil(t *testing.T, what string, err error, field string) {
	t.Helper()
	if err == nil {
		return
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != EINVALID || e.Field != field {
		t.Fatalf("%s: %v, want nil or an invalid error on %q", what, err, field)
	}
}

func FuzzValidateDNSName(f *testing.F) {
	for _, s := range []string{"example.com", "*.example.com", "*.com", "localhost", "xn--bcher-kva.example",
		"1.2.3.999", "*.10.0.0.1", "a..b", "-a.example", strings.Repeat("a", 64) + ".example",
		strings.Repeat("a.", 127) + "com", "EXAMPLE.com", "exa_mple.com", "192.168.1.1", "fe80::1%eth0", "é.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateDNSName("f", name)
		wantInvalidOrNil(t, "ValidateDNSName", err, "f")
		cnErr := ValidateCommonName("cn", name)
		wantInvalidOrNil(t, "ValidateCommonName", cnErr, "cn")
		if cnErr == nil {
			if err != nil {
				t.Fatalf("common name %q accepted but not as a DNS name: %v", name, err)
			}
			if len(name) > MaxCommonNameLength {
				t.Fatalf("common name %q of %d characters accepted", name, len(name))
			}
		}
		if err != nil {
			return
		}
		if len(name) > 253 {
			t.Fatalf("DNS name of %d characters accepted", len(name))
		}
		if sanErr := ValidateSAN("s", name); sanErr != nil {
			t.Fatalf("DNS name %q accepted, but not as a SAN: %v", name, sanErr)
		}
		stored := NormalizeSANs([]string{name})[0]
		if err := ValidateDNSName("f", stored); err != nil {
			t.Fatalf("DNS name %q accepted, but its stored form %q is not: %v", name, stored, err)
		}
	})
}

func FuzzValidateSAN(f *testing.F) {
	for _, s := range []string{"example.com", "10.0.0.1", "::1", "fe80::1%eth0", "01.02.03.04", "a@example.com",
		"A <a@example.com>", "spiffe://example.org/ns/x", "https://EXAMPLE.com/Path", "http:// x", "@", "::ffff:1.2.3.4",
		" Example.COM ", "İ@example.com"} {
		f.Add(s, "other.example")
	}
	f.Fuzz(func(t *testing.T, san, other string) {
		err := ValidateSAN("sans[0]", san)
		wantInvalidOrNil(t, "ValidateSAN", err, "sans[0]")
		in := []string{san, other, san}
		norm := NormalizeSANs(in)
		if again := NormalizeSANs(norm); !slices.Equal(again, norm) {
			t.Fatalf("NormalizeSANs(%q) = %q, normalized again %q", in, norm, again)
		}
		if len(norm) > 2 {
			t.Fatalf("NormalizeSANs(%q) = %q kept a repeat", in, norm)
		}
		if err != nil {
			return
		}
		// The service validates what the user sent, then stores it
		// normalized; what it stores must still be a valid name.
		if err := ValidateSAN("sans[0]", norm[0]); err != nil {
			t.Fatalf("SAN %q accepted, but its stored form %q is not: %v", san, norm[0], err)
		}
	})
}

func FuzzValidateNameAndLabels(f *testing.F) {
	f.Add("web-1", "env", "prod")
	f.Add("", "a/b.c_d-e", "")
	f.Add("Web", "-x", strings.Repeat("v", 257))
	f.Add("a\x00b", "k\x00", "v\x00")
	f.Fuzz(func(t *testing.T, name, key, value string) {
		err := ValidateName("name", name)
		wantInvalidOrNil(t, "ValidateName", err, "name")
		if err == nil && (len(name) > 63 || strings.ToLower(name) != name) {
			t.Fatalf("name %q accepted", name)
		}
		wantInvalidOrNil(t, "ValidateType", ValidateType("type", name), "type")
		err = ValidateLabels("labels", map[string]string{key: value})
		wantInvalidOrNil(t, "ValidateLabels", err, "labels")
		if err == nil && (len(key) > 63 || len(value) > 256 || strings.IndexByte(key, 0) >= 0) {
			t.Fatalf("label %q=%q accepted", key, value)
		}
	})
}
