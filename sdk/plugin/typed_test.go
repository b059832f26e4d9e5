package plugin_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

// testConfig uses every supported type and tag.
type testConfig struct {
	URL      string        `certctl:"url,required" description:"Where to send."`
	Token    string        `certctl:"token,sensitive" description:"The API token."`
	Timeout  time.Duration `certctl:"timeout" default:"30s" description:"How long a call may take."`
	Validity time.Duration `certctl:"validity" default:"90d" description:"Lifetime."`
	Retries  int           `certctl:"retries" default:"3" description:"Attempts."`
	Small    int8          `certctl:"small" description:"A small number."`
	Mode     string        `certctl:"mode" default:"fast" enum:"fast,safe" description:"How."`
	Channels []string      `certctl:"channels" default:"a,b" description:"Where else."`
	Verbose  bool          `certctl:"verbose" default:"true" description:"Log every call."`
	Skipped  string        `certctl:"-"`
	cache    string
}

func TestSchemaFrom(t *testing.T) {
	got, err := plugin.SchemaFrom(testConfig{})
	if err != nil {
		t.Fatal(err)
	}
	want := plugin.Schema{Fields: []plugin.Field{
		{Name: "url", Type: plugin.TypeString, Required: true, Description: "Where to send."},
		{Name: "token", Type: plugin.TypeString, Sensitive: true, Description: "The API token."},
		{Name: "timeout", Type: plugin.TypeDuration, Default: "30s", Description: "How long a call may take."},
		{Name: "validity", Type: plugin.TypeDuration, Default: "90d", Description: "Lifetime."},
		{Name: "retries", Type: plugin.TypeInt, Default: int64(3), Description: "Attempts."},
		{Name: "small", Type: plugin.TypeInt, Description: "A small number."},
		{Name: "mode", Type: plugin.TypeString, Default: "fast", Enum: []string{"fast", "safe"}, Description: "How."},
		{Name: "channels", Type: plugin.TypeStringList, Default: []string{"a", "b"}, Description: "Where else."},
		{Name: "verbose", Type: plugin.TypeBool, Default: true, Description: "Log every call."},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SchemaFrom:\n got %+v\nwant %+v", got, want)
	}
	if err := got.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
	// A pointer describes the same schema.
	if p, err := plugin.SchemaFrom(&testConfig{}); err != nil || !reflect.DeepEqual(p, got) {
		t.Errorf("SchemaFrom(pointer) = %+v, %v", p, err)
	}
	// It survives the wire's JSON with the same meaning: hosts see it so.
	raw, _ := json.Marshal(got)
	var back plugin.Schema
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	norm, err := back.Normalize(plugin.Config{"url": "http://x"})
	if err != nil {
		t.Fatal(err)
	}
	if norm["retries"] != float64(3) || norm["timeout"] != "30s" || !reflect.DeepEqual(norm["channels"], []any{"a", "b"}) {
		t.Errorf("defaults after the wire: %v", norm)
	}
}

// TestSchemaFromMistakes is the table of mistakes a plugin author can make
// in a configuration struct: each must fail, naming the field and the
// mistake.
func TestSchemaFromMistakes(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    any
		want string // in the error
	}{
		{"not a struct", 42, "not int"},
		{"nil", nil, "not <nil>"},
		{"no tag", struct{ URL string }{}, "URL: has no certctl tag"},
		{"unexported with tag", struct {
			url string `certctl:"url"`
		}{}, "url: is unexported"},
		{"unknown option", struct {
			URL string `certctl:"url,secret"`
		}{}, `unknown certctl tag option "secret"`},
		{"unsupported type", struct {
			Port uint16 `certctl:"port"`
		}{}, "has type uint16"},
		{"map", struct {
			Labels map[string]string `certctl:"labels"`
		}{}, "has type map[string]string"},
		{"float", struct {
			Ratio float64 `certctl:"ratio"`
		}{}, "has type float64"},
		{"embedded struct", struct {
			time.Time `certctl:"base"`
		}{}, "has type time.Time"},
		{"embedded unexported struct", struct {
			testConfig `certctl:"base"`
		}{}, "testConfig: is unexported"},
		{"enum on int", struct {
			N int `certctl:"n" enum:"1,2"`
		}{}, "enum tag, which needs type string"},
		{"bad int default", struct {
			N int `certctl:"n" default:"many"`
		}{}, `default "many"`},
		{"int default out of range", struct {
			N int8 `certctl:"n" default:"300"`
		}{}, `default "300"`},
		{"bad bool default", struct {
			B bool `certctl:"b" default:"yes please"`
		}{}, `default "yes please"`},
		{"bad duration default", struct {
			D time.Duration `certctl:"d" default:"soon"`
		}{}, `default "soon": not a duration`},
		{"default outside its enum", struct {
			M string `certctl:"m" default:"slow" enum:"fast,safe"`
		}{}, `field "m": default: must be one of fast, safe`},
		{"required with default", struct {
			M string `certctl:"m,required" default:"x"`
		}{}, `field "m" is required and has a default`},
		{"name not snake_case", struct {
			URL string `certctl:"URL"`
		}{}, `field name "URL" must be snake_case`},
		{"empty name", struct {
			URL string `certctl:""`
		}{}, `field name "" must be snake_case`},
		{"name twice", struct {
			A string `certctl:"url"`
			B string `certctl:"url"`
		}{}, `field "url" declared twice`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := plugin.SchemaFrom(tt.v)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("SchemaFrom = %v, want an error containing %q", err, tt.want)
			}
			if plugin.ErrorCode(err) != plugin.CodePermanent {
				t.Errorf("code %s: a mistake in the struct is the plugin's, not an *Error about the configuration", plugin.ErrorCode(err))
			}
			// DecodeConfig refuses the struct the same way.
			if tt.v != nil && reflect.TypeOf(tt.v).Kind() == reflect.Struct {
				dst := reflect.New(reflect.TypeOf(tt.v)).Interface()
				if err := plugin.DecodeConfig(plugin.Config{}, dst); err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("DecodeConfig = %v, want an error containing %q", err, tt.want)
				}
			}
		})
	}
}

func TestDecodeConfig(t *testing.T) {
	// As a configuration arrives from the wire: numbers are float64,
	// lists []any, durations strings or seconds.
	var raw plugin.Config
	if err := json.Unmarshal([]byte(`{"url": "http://x", "token": "s3cret", "timeout": 90, "retries": 5,
		"small": -128, "mode": "safe", "channels": ["c"], "verbose": false, "validity": "2h30m"}`), &raw); err != nil {
		t.Fatal(err)
	}
	got := testConfig{Skipped: "kept", cache: "kept"}
	if err := plugin.DecodeConfig(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := testConfig{URL: "http://x", Token: "s3cret", Timeout: 90 * time.Second, Validity: 150 * time.Minute,
		Retries: 5, Small: -128, Mode: "safe", Channels: []string{"c"}, Verbose: false, Skipped: "kept", cache: "kept"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeConfig:\n got %+v\nwant %+v", got, want)
	}

	// Defaults fill what is left out; every field is set, so a struct
	// used before keeps nothing of its old values.
	got = testConfig{Token: "old", Small: 7}
	if err := plugin.DecodeConfig(plugin.Config{"url": "http://y"}, &got); err != nil {
		t.Fatal(err)
	}
	want = testConfig{URL: "http://y", Timeout: 30 * time.Second, Validity: 90 * 24 * time.Hour, Retries: 3,
		Mode: "fast", Channels: []string{"a", "b"}, Verbose: true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeConfig with defaults:\n got %+v\nwant %+v", got, want)
	}

	// The decoded list is the struct's own.
	list := []string{"x"}
	if err := plugin.DecodeConfig(plugin.Config{"url": "u", "channels": list}, &got); err != nil {
		t.Fatal(err)
	}
	got.Channels[0] = "changed"
	if list[0] != "x" {
		t.Error("DecodeConfig shares the configuration's list with the struct")
	}
}

// An unknown field far from every known one gets no suggestion.
func TestNoSuggestionForAFarName(t *testing.T) {
	var dst testConfig
	err := plugin.DecodeConfig(plugin.Config{"url": "u", "proxy_host": "p"}, &dst)
	if err == nil || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("DecodeConfig = %v, want refused without a suggestion", err)
	}
}

// TestDecodeConfigMistakes is the table of mistakes in a configuration:
// each is an *Error with CodeInvalidConfig naming the field, and none
// quotes a value (a sensitive one would leak).
func TestDecodeConfigMistakes(t *testing.T) {
	for _, tt := range []struct {
		name  string
		cfg   plugin.Config
		field string
		want  string // in the message
	}{
		{"misspelled field", plugin.Config{"url": "u", "tokne": "s3cret"}, "tokne", "unknown field (known: url, token, timeout"},
		{"misspelled field named", plugin.Config{"url": "u", "tokne": "s3cret"}, "tokne", `; did you mean "token"?`},
		{"misspelled by a letter", plugin.Config{"url": "u", "timeouts": "1s"}, "timeouts", `did you mean "timeout"?`},
		{"unknown field", plugin.Config{"url": "u", "proxy": "p"}, "proxy", "unknown field"},
		{"required missing", plugin.Config{"token": "s3cret"}, "url", "is required"},
		{"required empty", plugin.Config{"url": ""}, "url", "must not be empty"},
		{"string given a number", plugin.Config{"url": 42.0}, "url", "must be a string"},
		{"sensitive string given a number", plugin.Config{"url": "u", "token": 12345.0}, "token", "must be a string"},
		{"bool given a string", plugin.Config{"url": "u", "verbose": "yes"}, "verbose", "must be true or false"},
		{"int given a string", plugin.Config{"url": "u", "retries": "3"}, "retries", "must be a whole number"},
		{"int given a fraction", plugin.Config{"url": "u", "retries": 2.5}, "retries", "must be a whole number"},
		{"int too large for int8", plugin.Config{"url": "u", "small": 300.0}, "small", "must be between -128 and 127"},
		{"int too small for int8", plugin.Config{"url": "u", "small": -129.0}, "small", "must be between -128 and 127"},
		{"duration not a duration", plugin.Config{"url": "u", "timeout": "soon"}, "timeout", "must be a positive duration"},
		{"negative duration", plugin.Config{"url": "u", "timeout": "-5m"}, "timeout", "must be a positive duration"},
		{"duration given a bool", plugin.Config{"url": "u", "timeout": true}, "timeout", "must be a positive duration"},
		{"list given a string", plugin.Config{"url": "u", "channels": "a,b"}, "channels", "must be a list of strings"},
		{"list of numbers", plugin.Config{"url": "u", "channels": []any{1.0}}, "channels", "must be a list of strings"},
		{"outside the enum", plugin.Config{"url": "u", "mode": "slow"}, "mode", "must be one of fast, safe"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var dst testConfig
			err := plugin.DecodeConfig(tt.cfg, &dst)
			pe, ok := err.(*plugin.Error)
			if !ok || pe.Code != plugin.CodeInvalidConfig || pe.Field != tt.field || !strings.Contains(pe.Message, tt.want) {
				t.Fatalf("DecodeConfig = %#v, want invalid_config on %q containing %q", err, tt.field, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "12345") {
				t.Errorf("the error quotes a value: %v", err)
			}
		})
	}
}

func TestDecodeConfigDestination(t *testing.T) {
	var c testConfig
	for _, dst := range []any{nil, c, (*testConfig)(nil), new(int), new(*testConfig)} {
		err := plugin.DecodeConfig(plugin.Config{"url": "u"}, dst)
		if err == nil || !strings.Contains(err.Error(), "want a non-nil pointer to a struct") {
			t.Errorf("DecodeConfig into %T = %v, want refused", dst, err)
		}
	}
}
