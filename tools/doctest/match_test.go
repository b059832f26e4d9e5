package doctest

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		name             string
		expected, actual string
		ok               bool
	}{
		{"same", "a\nb\n", "a\nb\n", true},
		{"trailing spaces and blank edges", "\na  \nb\n\n", "a\nb", true},
		{"differs", "a\nb\n", "a\nc\n", false},
		{"missing line", "a\nb\n", "a\n", false},
		{"extra line", "a\n", "a\nb\n", false},
		{"blank line inside counts", "a\nb\n", "a\n\nb\n", false},
		{"ellipsis line matches none", "a\n...\nb\n", "a\nb\n", true},
		{"ellipsis line matches many", "a\n...\nb\n", "a\nx\ny\nb\n", true},
		{"ellipsis at the end", "a\n...\n", "a\nx\ny\n", true},
		{"ellipsis in a line", "certctl-server ... listening on http://127.0.0.1:8443", "certctl-server 6dcc479-dirty listening on http://127.0.0.1:8443", true},
		{"ellipsis in a line stays in the line", "x...y\n", "x\ny\n", false},
		{"two ellipsis lines", "...\nb\n...\nd\n...\n", "a\nb\nc\nd\n", true},
		{"regexp characters are literal", `{"status":"ok"} (a+b)*`, `{"status":"ok"} (a+b)*`, true},
		{"regexp characters do not match others", `a.c`, `abc`, false},
		{"timestamps", `"not_after": "2027-02-25T04:42:47Z"`, `"not_after": "2027-03-11T19:00:01.123456Z"`, true},
		{"openssl dates", "notAfter=Feb 25 04:42:47 2027 GMT", "notAfter=Mar  1 19:00:01 2027 GMT", true},
		{"uuids", "id 0b6e83b2-1234-4abc-8def-0123456789ab", "id 9aa6e5b0-ffff-4aaa-8bbb-ccccdddd0000", true},
		{"keys", "CERTCTL_API_KEY=cck_tdP7D3U2LoMFfOH6ismA2nv6_paQSKZF0b-jZPlTlws", "CERTCTL_API_KEY=cck_x-y_z", true},
		{"key kinds stay apart", "cck_abc", "a cca_abc", false},
		{"serials", "serial d7d9e02adaf7d67ddcb028bae2f2ee1a", "serial 55822794480ED3436ED7F1E0B278728B", true},
		{"colon hex", "AB:CD:EF:01:23:45:67:89", "01:02:03:04:05:06:07:08", true},
		{"durations", "80h11m0s early", "59h34m0s early", true},
		{"numbers are not normalised", "total 3", "total 4", false},
		{"table columns follow normalised widths",
			"SERIAL                            STATUS\nd7d9e02adaf7d67ddcb028bae2f2ee1a  active\n",
			"SERIAL                           STATUS\n7d9e02adaf7d67ddcb028bae2f2ee1a  active\n", true},
		{"a column gap is not one space", "a  b", "a b", false},
		{"indentation is kept", "  a", "    a", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Match(tt.expected, tt.actual)
			if (err == nil) != tt.ok {
				t.Errorf("Match(%q, %q) = %v, want ok=%v", tt.expected, tt.actual, err, tt.ok)
			}
		})
	}
}

// Many "..." lines against a long output must not take exponential time;
// the deadline of go test is the only bound, as it should be.
func TestMatchManyEllipses(t *testing.T) {
	expected := strings.Repeat("...\n", 40) + "never\n"
	actual := strings.Repeat("line\n", 400)
	if Match(expected, actual) == nil {
		t.Fatal("matched a line that is not there")
	}
}
