package config

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Effective renders the configuration as TOML, every key with its value in
// force (defaults included), sinks with their type's keys only. Decoding
// the result gives back an equal Config.
func (c *Config) Effective() string {
	var b strings.Builder
	src := "built-in defaults"
	if c.file != "" {
		src = c.file + " over the defaults"
	}
	fmt.Fprintf(&b, "# effective configuration: %s\n", src)
	rv := reflect.ValueOf(*c)
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Type().Field(i)
		tag := f.Tag.Get("toml")
		if tag == "" || f.Type.Kind() != reflect.Struct {
			continue
		}
		fmt.Fprintf(&b, "\n[%s]\n", tag)
		writeFields(&b, rv.Field(i), nil)
	}
	for _, s := range c.Sinks {
		b.WriteString("\n[[sinks]]\n")
		keys, ok := SinkKeys(s.Type)
		if !ok {
			fmt.Fprintf(&b, "type = %s\n", quote(s.Type))
			continue
		}
		writeFields(&b, reflect.ValueOf(s), append(slices.Clone(commonSinkKeys), keys...))
	}
	return b.String()
}

// writeFields writes the struct's tagged fields, only those in keep when
// keep is not nil.
func writeFields(b *strings.Builder, rv reflect.Value, keep []string) {
	for i := 0; i < rv.NumField(); i++ {
		tag := rv.Type().Field(i).Tag.Get("toml")
		if tag == "" || tag == "-" || (keep != nil && !slices.Contains(keep, tag)) {
			continue
		}
		fmt.Fprintf(b, "%s = %s\n", tag, render(rv.Field(i)))
	}
}

// render writes one value in TOML syntax.
func render(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case Duration:
		return quote(x.String())
	case ByteSize:
		return quote(x.String())
	}
	switch v.Kind() {
	case reflect.String:
		return quote(v.String())
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = render(v.Index(i))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case reflect.Map:
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = quote(k) + " = " + quote(v.MapIndex(reflect.ValueOf(k)).String())
		}
		if len(parts) == 0 {
			return "{}"
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	}
	return quote(fmt.Sprint(v.Interface()))
}

// quote writes s as a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f || r == utf8.RuneError:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
