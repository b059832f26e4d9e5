package provider

import (
	"regexp"

	"github.com/hashicorp/terraform-plugin-testing/compare"
)

func regexpMust(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// compareSame is compare.ValuesSame, named once.
var compareSame = compare.ValuesSame()
