package doctest

import (
	"fmt"
	"regexp"
	"strings"
)

// normalisers replace the parts of an output that differ from run to run,
// in this order (timestamps before the hexadecimal runs inside them, keys
// before the hexadecimal runs inside them).
var normalisers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?`), "<time>"},
	{regexp.MustCompile(`\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} \d{2}:\d{2}:\d{2} \d{4}( GMT)?`), "<time>"},
	{regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`), "<uuid>"},
	{regexp.MustCompile(`\bcc[ake]_[A-Za-z0-9_.-]+`), "<key>"},
	{regexp.MustCompile(`\b([0-9A-Fa-f]{2}:){6,}[0-9A-Fa-f]{2}\b`), "<hex>"},
	{regexp.MustCompile(`\b[0-9A-Fa-f]{12,}\b`), "<hex>"},
	{regexp.MustCompile(`\b(\d+h)?(\d+m)?\d+(\.\d+)?(s|ms|µs|ns)\b`), "<duration>"},
	// Last: the gap between two columns of a table (certctl's tables) is
	// padded to the widest cell, and that width follows values replaced
	// above (a serial of 31 hex digits, a temporary path), so a run of two
	// or more spaces after text counts as one gap. Indentation is kept.
	{regexp.MustCompile(`(\S) {2,}`), "$1  "},
}

// Normalise replaces the variable parts of s (timestamps, UUIDs, keys,
// serials, durations) with placeholders, makes every gap of two or more
// spaces inside a line two spaces wide, and drops trailing spaces and
// leading and trailing blank lines.
func Normalise(s string) []string {
	for _, n := range normalisers {
		s = n.re.ReplaceAllString(s, n.with)
	}
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// Match compares what a block printed with the output a document shows.
// A line of the expected output that is exactly "..." matches any number
// of lines; "..." within a line matches any text in that line. It returns
// nil on a match, or an error saying where they part.
func Match(expected, actual string) error {
	want, got := Normalise(expected), Normalise(actual)
	pats := make([]*regexp.Regexp, len(want))
	for i, w := range want {
		if w == "..." {
			continue
		}
		parts := strings.Split(w, "...")
		for j, p := range parts {
			parts[j] = regexp.QuoteMeta(p)
		}
		pats[i] = regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
	}
	// best records the furthest expected line reached, for the message.
	// best records the furthest expected line reached, for the message;
	// failed the (expected, actual) line pairs known not to match, so that
	// several "..." lines cannot make the search explode.
	best, bestGot := -1, 0
	failed := map[[2]int]bool{}
	var match func(i, j int) bool
	match = func(i, j int) bool {
		if i > best {
			best, bestGot = i, j
		}
		if failed[[2]int{i, j}] {
			return false
		}
		ok := false
		switch {
		case i == len(want):
			ok = j == len(got)
		case pats[i] == nil:
			for k := j; k <= len(got) && !ok; k++ {
				ok = match(i+1, k)
			}
		default:
			ok = j < len(got) && pats[i].MatchString(got[j]) && match(i+1, j+1)
		}
		if !ok {
			failed[[2]int{i, j}] = true
		}
		return ok
	}
	if match(0, 0) {
		return nil
	}
	switch {
	case best >= len(want):
		return fmt.Errorf("unexpected output after the expected lines, from line %d: %q", bestGot+1, got[bestGot])
	case bestGot >= len(got):
		return fmt.Errorf("output ended; expected line %d: %q", best+1, want[best])
	default:
		return fmt.Errorf("expected line %d %q, got line %d %q (after normalising)", best+1, want[best], bestGot+1, got[bestGot])
	}
}
