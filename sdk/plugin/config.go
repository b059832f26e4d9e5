package plugin

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Config is a connector's configuration: a JSON object. Values are as
// encoding/json decodes them (string, float64, bool, []any, map[string]any);
// the typed getters below read them back, and Schema.Normalize guarantees
// that a field has its declared type.
//
// The getters are for hosts, which handle any plugin's configuration. A
// plugin reads its own with DecodeConfig into a struct that SchemaFrom
// also describes: a getter returns the zero value for a misspelled name
// (cfg.String("ca_crt") is ""), where DecodeConfig fails naming the field.
type Config map[string]any

// String returns a string field, or "" (plugins: see DecodeConfig).
func (c Config) String(name string) string {
	s, _ := c[name].(string)
	return s
}

// Bool returns a bool field, or false (plugins: see DecodeConfig).
func (c Config) Bool(name string) bool {
	b, _ := c[name].(bool)
	return b
}

// Int returns an integer field, or 0 (plugins: see DecodeConfig).
func (c Config) Int(name string) int64 {
	n, _ := toInt(c[name])
	return n
}

// Duration returns a duration field, or 0 (plugins: see DecodeConfig).
func (c Config) Duration(name string) time.Duration {
	d, _ := toDuration(c[name])
	return d
}

// Strings returns a string-list field, or nil (plugins: see DecodeConfig).
func (c Config) Strings(name string) []string {
	l, _ := toStrings(c[name])
	return l
}

// Clone returns a copy of c (one level deep; values are never mutated in place).
func (c Config) Clone() Config {
	out := make(Config, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

// MarshalConfig encodes c for the wire.
func MarshalConfig(c Config) ([]byte, error) {
	if c == nil {
		return []byte("{}"), nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return b, nil
}

// UnmarshalConfig decodes a configuration from the wire.
func UnmarshalConfig(b []byte) (Config, error) {
	c := Config{}
	if len(b) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("decode config: %w", err)
	}
	return c, nil
}

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return 0, false
		}
		return int64(n), true
	case int:
		return int64(n), true
	case int64:
		return n, true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// toDuration accepts Go durations ("90m", "2h30m") with a "d" (24h) unit
// added ("90d"), or a whole number of seconds.
func toDuration(v any) (time.Duration, bool) {
	switch d := v.(type) {
	case string:
		return ParseDuration(d)
	case float64, int, int64, json.Number:
		// A number is seconds; one that does not fit a Duration (about
		// 292 years) is no duration, rather than a wrapped-around one.
		n, ok := toInt(d)
		if !ok || n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	return 0, false
}

// ParseDuration parses a Go duration that may also use "d" for days.
func ParseDuration(s string) (time.Duration, bool) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || !(n >= 0 && n <= 100*365) { // written so that NaN fails too
			return 0, false
		}
		return time.Duration(n * 24 * float64(time.Hour)), true
	}
	d, err := time.ParseDuration(s)
	return d, err == nil
}

func toStrings(v any) ([]string, bool) {
	switch l := v.(type) {
	case []string:
		return l, true
	case []any:
		out := make([]string, len(l))
		for i, e := range l {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}
