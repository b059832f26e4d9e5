package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
)

func regexpMust(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// compareSame is compare.ValuesSame, named once.
var compareSame = compare.ValuesSame()

func TestVersionLess(t *testing.T) {
	for _, c := range []struct {
		a, b string
		less bool
	}{{"1.9.8", "1.11.0", true}, {"1.11.4", "1.11.0", false}, {"1.11.0", "1.11.0", false}, {"1.12.0-beta1", "1.11.0", false}, {"1.5.7", "1.11.0", true}} {
		if got := versionLess(c.a, c.b); got != c.less {
			t.Errorf("versionLess(%q, %q) = %v, want %v", c.a, c.b, got, c.less)
		}
	}
}
