package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Decode decodes a configuration file's contents over Default(). name is
// used in error messages. It is strict and goes on past errors: the error
// joins one *Error per syntax error (TOML stops at the first), unknown key
// and wrongly typed value, in line order. Values are not checked: call
// Validate. The returned Config is never nil.
func Decode(name string, data []byte) (*Config, error) {
	c := Default()
	c.file = name
	var raw map[string]any
	if _, err := toml.Decode(string(data), &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return c, &Error{File: name, Line: pe.Position.Line, Key: pe.LastKey, Err: fmt.Errorf("%w: %s", ErrSyntax, pe.Message)}
		}
		return c, &Error{File: name, Err: fmt.Errorf("%w: %v", ErrSyntax, err)}
	}
	c.lines = keyLines(data)
	d := &decoder{c: c}
	d.table("", raw, reflect.ValueOf(c).Elem())
	if _, own := raw["sinks"]; !own && filepath.IsAbs(c.Agent.StateDir) {
		// The default findings file lives in the state directory: moved
		// with it, it does not write where the unit forbids it.
		for i := range c.Sinks {
			if c.Sinks[i].Type == "file" && c.Sinks[i].Path == defaultFindingsFile {
				c.Sinks[i].Path = filepath.Join(c.Agent.StateDir, "findings.jsonl")
			}
		}
	}
	return c, joinByLine(d.errs)
}

type decoder struct {
	c    *Config
	errs []*Error
}

// fail records a problem at key (an internal dotted path).
func (d *decoder) fail(key string, sentinel error, format string, args ...any) {
	d.errs = append(d.errs, d.c.errorAt(key, fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)))
}

// errorAt makes an *Error for key, with the line of the key or of its
// nearest parent that has one.
func (c *Config) errorAt(key string, err error) *Error {
	line := 0
	for k := key; k != ""; {
		if l, ok := c.lines[k]; ok {
			line = l
			break
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return &Error{File: c.file, Line: line, Key: displayKey(key), Err: err}
}

// displayKey renders the array index of a path as users write it:
// "sinks.1.url" → "sinks[1].url".
func displayKey(key string) string {
	parts := strings.Split(key, ".")
	var b strings.Builder
	for i, p := range parts {
		if _, err := strconv.Atoi(p); err == nil && i > 0 {
			b.WriteString("[" + p + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// table decodes m into the struct rv, key by key.
func (d *decoder) table(prefix string, m map[string]any, rv reflect.Value) {
	fields := map[string]int{}
	var names []string
	for i := 0; i < rv.NumField(); i++ {
		tag := rv.Type().Field(i).Tag.Get("toml")
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = i
		names = append(names, tag)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := join(prefix, k)
		i, ok := fields[k]
		if !ok {
			d.fail(path, ErrUnknownKey, "not one of %s", strings.Join(names, ", "))
			continue
		}
		d.value(path, m[k], rv.Field(i))
	}
}

var (
	durationType = reflect.TypeOf(Duration(0))
	byteSizeType = reflect.TypeOf(ByteSize(0))
	sinkType     = reflect.TypeOf(Sink{})
)

// value decodes one TOML value into fv.
func (d *decoder) value(path string, v any, fv reflect.Value) {
	switch fv.Type() {
	case durationType:
		s, ok := v.(string)
		if !ok {
			d.fail(path, ErrType, "want a duration string like \"60s\" or \"5m\", got %s", typeName(v))
			return
		}
		dur, err := time.ParseDuration(s)
		if err != nil {
			d.fail(path, ErrValue, "%q is not a duration like \"60s\", \"5m\" or \"1h30m\"", s)
			return
		}
		fv.SetInt(int64(dur))
		return
	case byteSizeType:
		switch x := v.(type) {
		case int64:
			if x < 0 {
				d.fail(path, ErrValue, "size %d is negative", x)
				return
			}
			fv.SetInt(x)
		case string:
			n, err := parseByteSize(x)
			if err != nil {
				d.fail(path, ErrValue, "%v", err)
				return
			}
			fv.SetInt(int64(n))
		default:
			d.fail(path, ErrType, "want a size (bytes, or a string like \"100M\"), got %s", typeName(v))
		}
		return
	}
	switch fv.Kind() {
	case reflect.String:
		s, ok := v.(string)
		if !ok {
			d.fail(path, ErrType, "want a string, got %s", typeName(v))
			return
		}
		fv.SetString(s)
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			d.fail(path, ErrType, "want true or false, got %s", typeName(v))
			return
		}
		fv.SetBool(b)
	case reflect.Int:
		n, ok := v.(int64)
		if !ok {
			d.fail(path, ErrType, "want an integer, got %s", typeName(v))
			return
		}
		if int64(int(n)) != n {
			d.fail(path, ErrValue, "%d is out of range", n)
			return
		}
		fv.SetInt(n)
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			d.fail(path, ErrType, "want a table of strings like {Name = \"value\"}, got %s", typeName(v))
			return
		}
		out := reflect.MakeMapWithSize(fv.Type(), len(m))
		for k, x := range m {
			s, ok := x.(string)
			if !ok {
				d.fail(join(path, k), ErrType, "want a string, got %s", typeName(x))
				continue
			}
			out.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(s))
		}
		if out.Len() > 0 { // {} decodes to nil, as an absent key does
			fv.Set(out)
		}
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			d.fail(path, ErrType, "want a table, got %s", typeName(v))
			return
		}
		d.table(path, m, fv)
	case reflect.Slice:
		if fv.Type().Elem() == sinkType {
			d.sinks(path, v, fv)
			return
		}
		list, ok := v.([]any)
		if !ok {
			d.fail(path, ErrType, "want an array, got %s", typeName(v))
			return
		}
		out := reflect.MakeSlice(fv.Type(), len(list), len(list))
		good := true
		for i, x := range list {
			before := len(d.errs)
			d.value(path, x, out.Index(i))
			if len(d.errs) > before {
				d.errs[len(d.errs)-1].Err = fmt.Errorf("element %d: %w", i+1, d.errs[len(d.errs)-1].Err)
				good = false
			}
		}
		switch {
		case !good:
		case out.Len() == 0: // [] is nil, as in Default()
			fv.Set(reflect.Zero(fv.Type()))
		default:
			fv.Set(out)
		}
	default:
		d.fail(path, ErrType, "cannot decode into %s", fv.Type())
	}
}

// sinks decodes [[sinks]] (an array of tables, or an array of inline
// tables). Each sink starts from DefaultSink of its type.
func (d *decoder) sinks(path string, v any, fv reflect.Value) {
	var tables []map[string]any
	switch x := v.(type) {
	case []map[string]any:
		tables = x
	case []any:
		for _, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				d.fail(path, ErrType, "want [[sinks]] tables, got an array of %s", typeName(e))
				return
			}
			tables = append(tables, m)
		}
	default:
		d.fail(path, ErrType, "want [[sinks]] tables, got %s", typeName(v))
		return
	}
	out := make([]Sink, len(tables))
	for i, m := range tables {
		typ, _ := m["type"].(string)
		out[i] = DefaultSink(typ)
		d.table(join(path, strconv.Itoa(i)), m, reflect.ValueOf(&out[i]).Elem())
	}
	fv.Set(reflect.ValueOf(out))
}

// typeName names a decoded TOML value's type for messages.
func typeName(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("string %q", x)
	case int64:
		return fmt.Sprintf("integer %d", x)
	case float64:
		return fmt.Sprintf("float %v", x)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	case time.Time:
		return "a date/time"
	}
	return fmt.Sprintf("%T", v)
}
