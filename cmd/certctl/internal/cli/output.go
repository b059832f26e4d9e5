package cli

// output.go prints results: aligned tables for people, JSON or YAML for
// scripts. Tables use no colour and fixed time formats, so they read the
// same in a terminal, a pipe and a test.

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"go.yaml.in/yaml/v3"
)

// table is a table being written.
type table struct {
	rows [][]string
}

// row adds a row; each cell is made one line, and an empty cell shows "-".
func (t *table) row(cells ...string) {
	r := make([]string, len(cells))
	for i, c := range cells {
		c = strings.Join(strings.Fields(strings.ReplaceAll(c, "\t", " ")), " ")
		if c == "" {
			c = "-"
		}
		r[i] = c
	}
	t.rows = append(t.rows, r)
}

// write prints the table, its first row (the header) unless noHeader.
func (t *table) write(w io.Writer, noHeader bool) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for i, r := range t.rows {
		if i == 0 && noHeader {
			continue
		}
		if _, err := fmt.Fprintln(tw, strings.Join(r, "\t")); err != nil {
			return err
		}
	}
	return tw.Flush()
}

// emit prints v as JSON or YAML when -o asks for it, and otherwise as the
// table that fill builds (a header row, then the rows).
func (a *app) emit(v any, fill func(t *table)) error {
	w := a.streams.Out
	switch a.output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("print JSON: %w", err)
		}
		return nil
	case "yaml":
		data, err := toYAML(v)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	t := &table{}
	fill(t)
	return t.write(w, a.noHeaders)
}

// toYAML prints v as YAML with the same fields, names and order as its
// JSON: v goes through JSON (which YAML reads) into a YAML node tree whose
// flow style is cleared, so it prints as block YAML.
func toYAML(v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("print YAML: %w", err)
	}
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("print YAML: %w", err)
	}
	blockStyle(&n)
	out, err := yaml.Marshal(&n)
	if err != nil {
		return nil, fmt.Errorf("print YAML: %w", err)
	}
	return out, nil
}

// blockStyle clears the flow and quoting styles JSON left on the tree;
// the encoder still quotes a string that would read as another type
// ("123", "true"), and multi-line strings (PEM) print as literal blocks.
func blockStyle(n *yaml.Node) {
	n.Style = 0
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		switch {
		case strings.Contains(n.Value, "\n"):
			n.Style = yaml.LiteralStyle
		case yaml11Bools[n.Value]:
			// YAML 1.1 readers (PyYAML, older tools) take these for booleans.
			n.Style = yaml.DoubleQuotedStyle
		}
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// yaml11Bools are the plain words YAML 1.1 reads as booleans.
var yaml11Bools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true,
	"n": true, "N": true, "no": true, "No": true, "NO": true,
	"on": true, "On": true, "ON": true, "off": true, "Off": true, "OFF": true,
}

// Cell formatting helpers.

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func fmtTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return fmtTime(*t)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func fmtLabels(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

func fmtBool(b bool) string { return strconv.FormatBool(b) }

func fmtInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// isTerminal says f is a terminal (a character device), without a
// dependency: certctl shows progress and prompts only to one.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// details prints a resource as two columns, field and value: the table
// form of a single resource.
func details(t *table, pairs ...string) {
	t.row("FIELD", "VALUE")
	for i := 0; i+1 < len(pairs); i += 2 {
		t.row(pairs[i], pairs[i+1])
	}
}
