package plugin

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The fuzz targets below feed the SDK the connector configurations users
// send through the API, CLI and Terraform, checked against a schema.

// fuzzSchema has a field of every type, with and without defaults.
var fuzzSchema = Schema{Fields: []Field{
	{Name: "url", Type: TypeString, Required: true},
	{Name: "mode", Type: TypeString, Enum: []string{"a", "b"}, Default: "a"},
	{Name: "port", Type: TypeInt, Default: 443},
	{Name: "verify", Type: TypeBool},
	{Name: "validity", Type: TypeDuration, Default: "90d"},
	{Name: "names", Type: TypeStringList},
	{Name: "token", Type: TypeString, Sensitive: true},
}}

func FuzzSchemaNormalize(f *testing.F) {
	if err := fuzzSchema.Check(); err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`{"url":"https://x","mode":"b","port":8443,"verify":true,"validity":"12h","names":["a","b"],"token":"t"}`,
		`{"url":"x","port":1.5}`, `{"url":"x","port":9007199254740993}`, `{"url":"x","validity":-5}`,
		`{"url":"x","validity":"NaNd"}`, `{"url":"x","validity":"1e308d"}`, `{"url":"x","validity":"-0d"}`,
		`{"url":"x","validity":9223372036}`, `{"url":"x","names":[1]}`, `{"url":""}`, `{"url":"x","mode":"c"}`,
		`{"url":"x","other":1}`, `{"url":null}`, `[]`, `{`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := UnmarshalConfig(data)
		if err != nil {
			return
		}
		out, err := fuzzSchema.Normalize(cfg)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalidConfig {
				t.Fatalf("Normalize(%s): %v, want an invalid-config error", data, err)
			}
			return
		}
		// What Normalize returns is valid and normalizes to itself, also
		// after a trip over the wire.
		b, err := MarshalConfig(out)
		if err != nil {
			t.Fatalf("MarshalConfig(%v): %v", out, err)
		}
		wire, err := UnmarshalConfig(b)
		if err != nil {
			t.Fatalf("UnmarshalConfig(%s): %v", b, err)
		}
		again, err := fuzzSchema.Normalize(wire)
		if err != nil {
			t.Fatalf("Normalize(%s) = %s, which does not normalize: %v", data, b, err)
		}
		if !reflect.DeepEqual(again, wire) {
			t.Fatalf("Normalize(%s) = %s, normalized again %v", data, b, again)
		}
		if d := out.Duration("validity"); d < 0 {
			t.Fatalf("Normalize(%s): validity %s accepted", data, d)
		}
		public, secret := fuzzSchema.Split(out)
		if _, ok := public["token"]; ok || len(public)+len(secret) != len(out) {
			t.Fatalf("Split(%v) = %v, %v", out, public, secret)
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90d", "2h30m", "0.5d", "-1d", "-0d", "NaNd", "nand", "Infd", "+Infd", "1e308d", "36500d", "36501d",
		"d", "1.5e1d", "-5m", "", "0x10d", "1_0d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseDuration(s)
		if !ok {
			return
		}
		if d < 0 && !strings.HasPrefix(s, "-") {
			t.Fatalf("ParseDuration(%q) = %s, negative", s, d)
		}
		if strings.HasSuffix(s, "d") && (d < 0 || d > 100*365*24*time.Hour) {
			t.Fatalf("ParseDuration(%q) = %s, outside 0 to 100 years", s, d)
		}
	})
}
