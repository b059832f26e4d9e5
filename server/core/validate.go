package core

import (
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// namePattern is the shape of every resource name: lower-case letters,
// digits, dots, dashes and underscores, starting with a letter or digit.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// typePattern is the shape of a connector type (its plugin's name).
var typePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// labelKeyPattern is the shape of a label key.
var labelKeyPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._/-]{0,62}$`)

// ValidateName checks a resource name.
func ValidateName(field, name string) error {
	if name == "" {
		return Invalid(field, "is required")
	}
	if !namePattern.MatchString(name) {
		return Invalid(field, "must be 1-63 characters of a-z, 0-9, '.', '-', '_', starting with a letter or digit")
	}
	return nil
}

// ValidateType checks a connector type name.
func ValidateType(field, typ string) error {
	if typ == "" {
		return Invalid(field, "is required")
	}
	if !typePattern.MatchString(typ) {
		return Invalid(field, "must be 1-32 characters of a-z, 0-9, '-', starting with a letter")
	}
	return nil
}

// ValidateOneOf checks that value is one of allowed.
func ValidateOneOf(field, value string, allowed []string) error {
	if !slices.Contains(allowed, value) {
		return Invalid(field, "must be one of %s", strings.Join(allowed, ", "))
	}
	return nil
}

// ValidateLabels checks label keys and values.
func ValidateLabels(field string, labels map[string]string) error {
	if len(labels) > 64 {
		return Invalid(field, "at most 64 labels")
	}
	for k, v := range labels {
		if !labelKeyPattern.MatchString(k) {
			return Invalid(field, "label key %q must be 1-63 characters of letters, digits, '.', '_', '/', '-'", k)
		}
		if len(v) > 256 {
			return Invalid(field, "label %q value is longer than 256 characters", k)
		}
	}
	return nil
}

// ValidateConfig checks the generic shape of a connector configuration;
// its fields are checked by the connector's plugin.
func ValidateConfig(field string, config map[string]any) error {
	if len(config) > 200 {
		return Invalid(field, "at most 200 fields")
	}
	for k := range config {
		if k == "" || len(k) > 128 {
			return Invalid(field, "field names must be 1-128 characters")
		}
	}
	return nil
}

// MaxCommonNameLength is the longest common name X.509 allows
// (ub-common-name in RFC 5280); CAs refuse longer ones.
const MaxCommonNameLength = 64

// ValidateDNSName checks a DNS name as it may appear in a certificate: at
// most 253 characters, labels of letters, digits and hyphens, and an
// optional leading wildcard label. Its last label is not all digits
// (RFC 3696, section 2): "10.0.0.1", "1.2.3.999" or "*.10.0.0.1" read as
// IP addresses, and CAs refuse them as DNS names.
func ValidateDNSName(field, name string) error {
	if name == "" {
		return Invalid(field, "is required")
	}
	if len(name) > 253 {
		return Invalid(field, "%q is longer than 253 characters", name)
	}
	labels := strings.Split(name, ".")
	for i, l := range labels {
		if i == 0 && l == "*" && len(labels) > 2 {
			continue
		}
		if !validDNSLabel(l) {
			return Invalid(field, "%q is not a valid DNS name", name)
		}
	}
	if allDigits(labels[len(labels)-1]) {
		return Invalid(field, "%q is not a valid DNS name: it reads as an IP address (the last label of a DNS name is never all digits)", name)
	}
	return nil
}

// ValidateCommonName checks a certificate's common name: a DNS name (not an
// IP address) of at most MaxCommonNameLength characters.
func ValidateCommonName(field, name string) error {
	if _, err := netip.ParseAddr(name); err == nil {
		return Invalid(field, "%q is an IP address; the common name must be a DNS name (put IP addresses in sans)", name)
	}
	if err := ValidateDNSName(field, name); err != nil {
		return err
	}
	if len(name) > MaxCommonNameLength {
		return Invalid(field, "%q is %d characters; a common name is at most %d (the X.509 limit): put a longer name in sans",
			name, len(name), MaxCommonNameLength)
	}
	return nil
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func validDNSLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for _, c := range l {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// ValidateSAN checks one subject alternative name: a DNS name, an IP
// address (IPv4 in dotted decimal or IPv6, without a zone), an e-mail
// address or a URI. E-mail addresses and URIs are ASCII: a certificate
// holds them as IA5String.
func ValidateSAN(field, san string) error {
	if ip, err := netip.ParseAddr(san); err == nil {
		if ip.Zone() != "" {
			return Invalid(field, "%q is an IP address with a zone (%%%s), which a certificate cannot hold", san, ip.Zone())
		}
		return nil
	}
	if strings.Contains(san, "://") {
		if len(san) > 2048 || strings.ContainsAny(san, " \t\r\n") || !validURI(san) {
			return Invalid(field, "%q is not a valid URI (ASCII, scheme://host/...)", san)
		}
		return nil
	}
	if strings.Contains(san, "@") {
		if a, err := mail.ParseAddress(san); err == nil && a.Address == san && isASCII(san) {
			return nil
		}
		return Invalid(field, "%q is not a valid e-mail address (ASCII)", san)
	}
	return ValidateDNSName(field, san)
}

// validURI reports whether s is a URI a certificate can hold and X.509
// parsers read back: it is printable ASCII, parses, has a scheme, its
// normalized form is still a scheme://... URI and stable, and its host, if
// any, is what crypto/x509 accepts when it parses a certificate: no empty
// label, and every byte printable ASCII once percent-escapes are decoded.
func validURI(s string) bool {
	if !printableASCII(s) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || !printableASCII(u.Host) {
		return false
	}
	norm := u.String()
	if !isASCII(norm) || !strings.Contains(norm, "://") {
		return false
	}
	again, err := url.Parse(norm)
	if err != nil || again.String() != norm {
		return false
	}
	return u.Host == "" || !slices.Contains(strings.Split(u.Host, "."), "")
}

// printableASCII reports whether every byte of s is a printable ASCII
// character other than space (33 to 126).
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// NormalizeSANs puts names in the form a certificate holds them: trimmed,
// lower-cased (URIs keep their case), IP addresses in their canonical form
// (an IPv4-mapped IPv6 address as IPv4, IPv6 compressed), URIs as Go's
// X.509 encoder writes them. It drops repeats, keeping the order the user
// gave.
func NormalizeSANs(sans []string) []string {
	out := make([]string, 0, len(sans))
	for _, s := range sans {
		s = strings.TrimSpace(s)
		switch ip, err := netip.ParseAddr(s); {
		case err == nil && ip.Zone() == "":
			s = ip.Unmap().String()
		case strings.Contains(s, "://"):
			// Only a form that is still a scheme://... URI replaces what
			// was given ("a://#x" prints as "a:#x", which would then read
			// as a DNS name): normalizing twice changes nothing.
			if u, err := url.Parse(s); err == nil && strings.Contains(u.String(), "://") {
				s = u.String()
			}
		default:
			s = strings.ToLower(s)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
