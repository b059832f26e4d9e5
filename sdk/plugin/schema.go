package plugin

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Field types of a Schema.
const (
	TypeString     = "string"
	TypeInt        = "int"
	TypeBool       = "bool"
	TypeDuration   = "duration"    // "90d", "2h", or seconds
	TypeStringList = "string_list" // a JSON array of strings
)

// Schema describes a connector's configuration. Hosts (server, agent, CLI,
// console, Terraform provider) validate, fill in and redact configuration
// with it.
type Schema struct {
	Fields []Field `json:"fields"`
}

// Field is one configuration field.
type Field struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	Description string   `json:"description"`
	Required    bool     `json:"required"`
	Default     any      `json:"default,omitempty"` // of the field's type, nil for none
	Sensitive   bool     `json:"sensitive"`         // secrets: encrypted at rest, never returned or logged
	Enum        []string `json:"enum,omitempty"`    // for strings: the allowed values
}

var fieldNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Check reports a mistake in the schema itself; Serve refuses to start a
// plugin whose schema is wrong.
func (s Schema) Check() error {
	seen := map[string]bool{}
	for _, f := range s.Fields {
		if !fieldNamePattern.MatchString(f.Name) {
			return fmt.Errorf("schema: field name %q must be snake_case", f.Name)
		}
		if seen[f.Name] {
			return fmt.Errorf("schema: field %q declared twice", f.Name)
		}
		seen[f.Name] = true
		if !slices.Contains([]string{TypeString, TypeInt, TypeBool, TypeDuration, TypeStringList}, f.Type) {
			return fmt.Errorf("schema: field %q has unknown type %q", f.Name, f.Type)
		}
		if len(f.Enum) > 0 && f.Type != TypeString {
			return fmt.Errorf("schema: field %q: enum needs type string", f.Name)
		}
		if f.Default != nil {
			if _, err := f.normalize(f.Default); err != nil {
				return fmt.Errorf("schema: field %q: default: %w", f.Name, err)
			}
			if f.Required {
				return fmt.Errorf("schema: field %q is required and has a default", f.Name)
			}
		}
	}
	return nil
}

// Field returns the field called name.
func (s Schema) Field(name string) (Field, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Normalize checks cfg against the schema and returns a copy with defaults
// filled in and values in their canonical JSON form (ints as whole
// numbers, durations as strings as given). Unknown fields, wrong types,
// missing required fields and values outside an enum are *Error values
// with CodeInvalidConfig naming the field.
func (s Schema) Normalize(cfg Config) (Config, error) {
	out := Config{}
	names := make([]string, 0, len(cfg))
	for name := range cfg {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f, ok := s.Field(name)
		if !ok {
			msg := fmt.Sprintf("unknown field (known: %s)", strings.Join(s.names(), ", "))
			if near := s.nearest(name); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", near)
			}
			return nil, InvalidConfig(name, "%s", msg)
		}
		if cfg[name] == nil {
			continue
		}
		v, err := f.normalize(cfg[name])
		if err != nil {
			return nil, InvalidConfig(name, "%v", err)
		}
		out[name] = v
	}
	for _, f := range s.Fields {
		if _, ok := out[f.Name]; ok {
			continue
		}
		if f.Required {
			return nil, InvalidConfig(f.Name, "is required")
		}
		if f.Default != nil {
			v, _ := f.normalize(f.Default)
			out[f.Name] = v
		}
	}
	return out, nil
}

// nearest returns the field name closest to a misspelled one (at most two
// edits away, and fewer than its length), or "".
func (s Schema) nearest(name string) string {
	best, bestDist := "", 3
	for _, f := range s.Fields {
		if d := editDistance(name, f.Name); d < bestDist && d < len(f.Name) {
			best, bestDist = f.Name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes
// (field names are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func (s Schema) names() []string {
	out := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		out[i] = f.Name
	}
	return out
}

func (f Field) normalize(v any) (any, error) {
	switch f.Type {
	case TypeString:
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("must be a string")
		}
		if f.Required && str == "" {
			return nil, fmt.Errorf("must not be empty")
		}
		if len(f.Enum) > 0 && !slices.Contains(f.Enum, str) {
			return nil, fmt.Errorf("must be one of %s", strings.Join(f.Enum, ", "))
		}
		return str, nil
	case TypeInt:
		n, ok := toInt(v)
		if !ok {
			return nil, fmt.Errorf("must be a whole number")
		}
		return float64(n), nil
	case TypeBool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("must be true or false")
		}
		return b, nil
	case TypeDuration:
		if d, ok := toDuration(v); !ok || d < 0 {
			return nil, fmt.Errorf(`must be a positive duration such as "90d", "12h" or "30m"`)
		}
		if n, ok := toInt(v); ok {
			return fmt.Sprintf("%ds", n), nil
		}
		return v, nil
	case TypeStringList:
		l, ok := toStrings(v)
		if !ok {
			return nil, fmt.Errorf("must be a list of strings")
		}
		out := make([]any, len(l))
		for i, s := range l {
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown type %q", f.Type)
}

// Split separates the sensitive fields of cfg from the others.
func (s Schema) Split(cfg Config) (public, secret Config) {
	public, secret = Config{}, Config{}
	for k, v := range cfg {
		if f, ok := s.Field(k); ok && f.Sensitive {
			secret[k] = v
		} else {
			public[k] = v
		}
	}
	return public, secret
}

// Redact returns cfg without its sensitive fields, for showing and logging.
func (s Schema) Redact(cfg Config) Config {
	public, _ := s.Split(cfg)
	return public
}

// SensitiveFields lists the names of the sensitive fields.
func (s Schema) SensitiveFields() []string {
	var out []string
	for _, f := range s.Fields {
		if f.Sensitive {
			out = append(out, f.Name)
		}
	}
	return out
}
