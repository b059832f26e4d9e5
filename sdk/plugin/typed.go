package plugin

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Typed configuration: a plugin declares its configuration once, as a Go
// struct, and gets both its Schema (SchemaFrom) and its values
// (DecodeConfig) from it, so that the two cannot drift apart and a
// misspelled field name is an error rather than a silent "".
//
// Every exported field of the struct is a configuration field and carries
// a certctl tag with its name, optionally followed by options:
//
//	type config struct {
//		URL      string        `certctl:"url,required" description:"Where to send."`
//		Token    string        `certctl:"token,sensitive" description:"The API token."`
//		Timeout  time.Duration `certctl:"timeout" default:"30s" description:"How long a call may take."`
//		Retries  int           `certctl:"retries" default:"3" description:"Attempts before giving up."`
//		Mode     string        `certctl:"mode" default:"fast" enum:"fast,safe" description:"How to send."`
//		Channels []string      `certctl:"channels" description:"Where else to post."`
//		Verbose  bool          `certctl:"verbose" description:"Log every call."`
//		cache    string        // unexported: not configuration
//	}
//
// The tags:
//
//   - certctl: the field's name (snake_case, as in Field.Name), then any
//     of the options "sensitive" (Field.Sensitive) and "required"
//     (Field.Required), comma-separated. `certctl:"-"` leaves an exported
//     field out.
//   - description: Field.Description, shown to users.
//   - default: Field.Default, written as a Go value of the field's type:
//     "true", "42", "90d" or "1h30m", "a,b" for a list.
//   - enum: Field.Enum, comma-separated, for strings only.
//
// The Go type gives the Schema type: string (TypeString), bool (TypeBool),
// int, int8, int16, int32 or int64 (TypeInt), time.Duration
// (TypeDuration) and []string (TypeStringList). Anything else, an exported
// field without a certctl tag, an unknown option, a default that does not
// parse or a name Schema.Check refuses is a mistake in the struct, which
// SchemaFrom and DecodeConfig report as a plain error (not an *Error:
// it is the plugin's bug, not the user's configuration).

// SchemaFrom returns the Schema described by the struct v (or the struct
// v points to), with its fields in declaration order. It fails on a
// mistake in the struct's tags or types; call it from Info and return its
// error, so that plugin.Serve refuses to start a plugin whose struct is
// wrong and the conformance kit reports why.
func SchemaFrom(v any) (Schema, error) {
	t := reflect.TypeOf(v)
	if t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	fields, err := typedFields(t)
	if err != nil {
		return Schema{}, err
	}
	return typedSchema(fields), nil
}

// DecodeConfig checks cfg against the schema of the struct dst points to
// (as SchemaFrom returns it) and stores its values in the struct: every
// field of the configuration, its default when cfg leaves it out, the
// zero value when it has neither. What Schema.Normalize refuses (an
// unknown or misspelled field, a value of the wrong type, a missing
// required field, a value outside an enum) is an *Error with
// CodeInvalidConfig naming the field, as is a whole number too large for
// the struct field's int type. dst that is not a non-nil pointer to a
// struct, or a mistake in the struct, is a plain error.
//
// DecodeConfig is the safe way for a plugin to read its configuration:
// Config's getters (Config.String, ...) return the zero value for a name
// the configuration does not hold, typo or not.
func DecodeConfig(cfg Config, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("plugin.DecodeConfig: want a non-nil pointer to a struct, got %T", dst)
	}
	fields, err := typedFields(rv.Elem().Type())
	if err != nil {
		return err
	}
	norm, err := typedSchema(fields).Normalize(cfg)
	if err != nil {
		return err
	}
	out := rv.Elem()
	for _, f := range fields {
		if err := f.set(out.FieldByIndex(f.index), norm[f.Name]); err != nil {
			return err
		}
	}
	return nil
}

// typedField is one field of a configuration struct.
type typedField struct {
	Field
	index []int
}

var durationType = reflect.TypeFor[time.Duration]()

// typedFields reads the configuration fields of struct type t.
func typedFields(t reflect.Type) ([]typedField, error) {
	if t == nil || t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("plugin: a configuration is described by a struct, not %v", t)
	}
	var out []typedField
	for i := range t.NumField() {
		sf := t.Field(i)
		f, ok, err := typedFieldOf(sf)
		if err != nil {
			return nil, fmt.Errorf("plugin: configuration struct %v, field %s: %w", t, sf.Name, err)
		}
		if ok {
			f.index = sf.Index
			out = append(out, f)
		}
	}
	if err := typedSchema(out).Check(); err != nil {
		return nil, fmt.Errorf("plugin: configuration struct %v: %w", t, err)
	}
	return out, nil
}

// typedFieldOf reads one struct field; ok is false for one that is not
// configuration.
func typedFieldOf(sf reflect.StructField) (f typedField, ok bool, err error) {
	tag, tagged := sf.Tag.Lookup("certctl")
	switch {
	case tag == "-":
		return f, false, nil
	case !sf.IsExported():
		if tagged {
			return f, false, fmt.Errorf("is unexported, so it cannot be set: export it or drop its certctl tag")
		}
		return f, false, nil
	case !tagged:
		return f, false, fmt.Errorf("has no certctl tag: name it (`certctl:\"name\"`) or leave it out (`certctl:\"-\"`)")
	}
	name, opts, _ := strings.Cut(tag, ",")
	f.Name = name
	f.Description = sf.Tag.Get("description")
	if opts != "" {
		for o := range strings.SplitSeq(opts, ",") {
			switch o {
			case "sensitive":
				f.Sensitive = true
			case "required":
				f.Required = true
			default:
				return f, false, fmt.Errorf("unknown certctl tag option %q (known: sensitive, required)", o)
			}
		}
	}
	switch t := sf.Type; {
	case t == durationType:
		f.Type = TypeDuration
	case t.Kind() == reflect.String:
		f.Type = TypeString
	case t.Kind() == reflect.Bool:
		f.Type = TypeBool
	case slices.Contains([]reflect.Kind{reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64}, t.Kind()):
		f.Type = TypeInt
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		f.Type = TypeStringList
	default:
		return f, false, fmt.Errorf("has type %v: a configuration field is a string, bool, int, time.Duration or []string", t)
	}
	if enum, ok := sf.Tag.Lookup("enum"); ok {
		if f.Type != TypeString {
			return f, false, fmt.Errorf("has an enum tag, which needs type string")
		}
		f.Enum = strings.Split(enum, ",")
	}
	if def, ok := sf.Tag.Lookup("default"); ok {
		if f.Default, err = parseDefault(f.Type, def, sf.Type); err != nil {
			return f, false, fmt.Errorf("default %q: %w", def, err)
		}
	}
	return f, true, nil
}

// parseDefault turns a default tag into a value of the field's type.
func parseDefault(typ, s string, goType reflect.Type) (any, error) {
	switch typ {
	case TypeBool:
		return strconv.ParseBool(s)
	case TypeInt:
		return strconv.ParseInt(s, 10, goType.Bits())
	case TypeDuration:
		if _, ok := ParseDuration(s); !ok {
			return nil, fmt.Errorf(`not a duration such as "90d", "12h" or "30m"`)
		}
		return s, nil
	case TypeStringList:
		if s == "" {
			return []string{}, nil
		}
		return strings.Split(s, ","), nil
	}
	return s, nil
}

func typedSchema(fields []typedField) Schema {
	s := Schema{Fields: make([]Field, len(fields))}
	for i, f := range fields {
		s.Fields[i] = f.Field
	}
	return s
}

// set stores v, a value of a normalised configuration (nil when unset),
// in the struct field dst.
func (f typedField) set(dst reflect.Value, v any) error {
	dst.SetZero()
	if v == nil {
		return nil
	}
	switch f.Type {
	case TypeString:
		dst.SetString(v.(string))
	case TypeBool:
		dst.SetBool(v.(bool))
	case TypeInt:
		n, _ := toInt(v)
		if dst.OverflowInt(n) {
			lo := int64(-1) << (dst.Type().Bits() - 1)
			return InvalidConfig(f.Name, "must be between %d and %d", lo, -(lo + 1))
		}
		dst.SetInt(n)
	case TypeDuration:
		d, _ := toDuration(v)
		dst.SetInt(int64(d))
	case TypeStringList:
		l, _ := toStrings(v)
		dst.Set(reflect.ValueOf(slices.Clone(l)))
	}
	return nil
}
