package plugin

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// testSchema has a field of every type, a required one, an enum, defaults
// and a sensitive field.
var testSchema = Schema{Fields: []Field{
	{Name: "url", Type: TypeString, Required: true},
	{Name: "mode", Type: TypeString, Enum: []string{"fast", "safe"}, Default: "safe"},
	{Name: "retries", Type: TypeInt, Default: 3},
	{Name: "verbose", Type: TypeBool},
	{Name: "timeout", Type: TypeDuration, Default: "30s"},
	{Name: "domains", Type: TypeStringList},
	{Name: "token", Type: TypeString, Sensitive: true},
	{Name: "password", Type: TypeString, Sensitive: true},
}}

func TestSchemaCheck(t *testing.T) {
	if err := testSchema.Check(); err != nil {
		t.Fatalf("a good schema: %v", err)
	}
	if err := (Schema{}).Check(); err != nil {
		t.Errorf("the empty schema: %v", err)
	}
	for _, tt := range []struct {
		what  string
		field Field
		extra *Field
		want  string
	}{
		{"camelCase name", Field{Name: "caCert", Type: TypeString}, nil, "snake_case"},
		{"name with a dash", Field{Name: "ca-cert", Type: TypeString}, nil, "snake_case"},
		{"name starting with a digit", Field{Name: "1st", Type: TypeString}, nil, "snake_case"},
		{"empty name", Field{Type: TypeString}, nil, "snake_case"},
		{"name of 65", Field{Name: "a" + strings.Repeat("b", 64), Type: TypeString}, nil, "snake_case"},
		{"twice", Field{Name: "url", Type: TypeString}, &Field{Name: "url", Type: TypeInt}, "declared twice"},
		{"unknown type", Field{Name: "n", Type: "float"}, nil, "unknown type"},
		{"enum on an int", Field{Name: "n", Type: TypeInt, Enum: []string{"1"}}, nil, "enum needs type string"},
		{"default of the wrong type", Field{Name: "n", Type: TypeInt, Default: "three"}, nil, "default"},
		{"default outside the enum", Field{Name: "m", Type: TypeString, Enum: []string{"a"}, Default: "b"}, nil, "default"},
		{"required with a default", Field{Name: "m", Type: TypeString, Required: true, Default: "x"}, nil, "required and has a default"},
	} {
		s := Schema{Fields: []Field{tt.field}}
		if tt.extra != nil {
			s.Fields = append(s.Fields, *tt.extra)
		}
		if err := s.Check(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Check = %v, want an error saying %q", tt.what, err, tt.want)
		}
	}
}

func TestSchemaField(t *testing.T) {
	if f, ok := testSchema.Field("retries"); !ok || f.Type != TypeInt {
		t.Errorf("Field(retries) = %+v, %v", f, ok)
	}
	if f, ok := testSchema.Field("nope"); ok || f.Name != "" {
		t.Errorf("Field(nope) = %+v, %v", f, ok)
	}
}

// TestSchemaNormalize: values come back in their canonical JSON form with
// defaults filled in, and every mistake is an invalid_config error naming
// its field.
func TestSchemaNormalize(t *testing.T) {
	got, err := testSchema.Normalize(Config{"url": "https://ca", "retries": json.Number("5"), "verbose": true,
		"timeout": 90, "domains": []any{"a.example", "b.example"}, "token": "t0k", "password": nil})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{"url": "https://ca", "mode": "safe", "retries": float64(5), "verbose": true, "timeout": "90s",
		"domains": []any{"a.example", "b.example"}, "token": "t0k"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Normalize = %#v\nwant %#v", got, want)
	}
	// Defaults, and a duration given as text stays as given.
	got, err = testSchema.Normalize(Config{"url": "u", "timeout": "2h30m", "domains": []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	if got["mode"] != "safe" || got["retries"] != float64(3) || got["timeout"] != "2h30m" ||
		!reflect.DeepEqual(got["domains"], []any{"x"}) {
		t.Errorf("Normalize with defaults = %#v", got)
	}
	if _, ok := got["verbose"]; ok {
		t.Error("a field without a value or default was filled in")
	}
	// Normalizing what Normalize returned changes nothing.
	again, err := testSchema.Normalize(got)
	if err != nil || !reflect.DeepEqual(again, got) {
		t.Errorf("normalizing twice = %#v, %v; want %#v", again, err, got)
	}

	for _, tt := range []struct {
		what  string
		cfg   Config
		field string
		want  string
	}{
		{"unknown field", Config{"url": "u", "urll": "u"}, "urll", "unknown field (known: url, mode,"},
		{"missing required", Config{"mode": "fast"}, "url", "is required"},
		{"required given as null", Config{"url": nil}, "url", "is required"},
		{"required empty", Config{"url": ""}, "url", "must not be empty"},
		{"string of another type", Config{"url": 5}, "url", "must be a string"},
		{"outside the enum", Config{"url": "u", "mode": "slow"}, "mode", "must be one of fast, safe"},
		{"fractional int", Config{"url": "u", "retries": 2.5}, "retries", "whole number"},
		{"int as text", Config{"url": "u", "retries": "3"}, "retries", "whole number"},
		{"bool as text", Config{"url": "u", "verbose": "true"}, "verbose", "true or false"},
		{"duration without a unit", Config{"url": "u", "timeout": "90"}, "timeout", "positive duration"},
		{"negative duration", Config{"url": "u", "timeout": "-5m"}, "timeout", "positive duration"},
		{"list of numbers", Config{"url": "u", "domains": []any{"a", 1}}, "domains", "list of strings"},
		{"list as text", Config{"url": "u", "domains": "a,b"}, "domains", "list of strings"},
	} {
		_, err := testSchema.Normalize(tt.cfg)
		var pe *Error
		if !errors.As(err, &pe) || pe.Code != CodeInvalidConfig || pe.Field != tt.field || !strings.Contains(pe.Message, tt.want) {
			t.Errorf("%s: Normalize = %v, want invalid_config on %q saying %q", tt.what, err, tt.field, tt.want)
		}
	}
}

// TestSchemaSecrets: Split, Redact and SensitiveFields agree on which
// fields are sensitive; fields the schema does not know stay public.
func TestSchemaSecrets(t *testing.T) {
	cfg := Config{"url": "u", "token": "t0k", "password": "pw", "other": 1}
	public, secret := testSchema.Split(cfg)
	if !reflect.DeepEqual(public, Config{"url": "u", "other": 1}) || !reflect.DeepEqual(secret, Config{"token": "t0k", "password": "pw"}) {
		t.Errorf("Split = %v, %v", public, secret)
	}
	if r := testSchema.Redact(cfg); !reflect.DeepEqual(r, public) {
		t.Errorf("Redact = %v, want %v", r, public)
	}
	if _, ok := cfg["token"]; !ok {
		t.Error("Redact changed its argument")
	}
	if got := testSchema.SensitiveFields(); !slices.Equal(got, []string{"token", "password"}) {
		t.Errorf("SensitiveFields = %v", got)
	}
	if got := (Schema{}).SensitiveFields(); got != nil {
		t.Errorf("SensitiveFields of the empty schema = %v", got)
	}
	public, secret = testSchema.Split(nil)
	if public == nil || secret == nil || len(public)+len(secret) != 0 {
		t.Errorf("Split(nil) = %#v, %#v; want two empty configs", public, secret)
	}
}
