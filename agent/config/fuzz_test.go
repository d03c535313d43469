package config

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzDecode: any text decodes without panic to a non-nil Config, every
// error is an *Error naming the file, and a config that decodes and
// validates cleanly renders an Effective text that decodes again.
func FuzzDecode(f *testing.F) {
	if b, err := os.ReadFile("../../packaging/config.toml"); err == nil {
		f.Add(string(b))
	}
	f.Add(allKeys)
	f.Add("[agent]\nstate_dir = 1\n[[sinks]]\ntype = \"syslog\"\naddress = \"udp://h:1\"\n")
	f.Add("sinks = [{type = \"stdout\"}, 3]\n[checks]\nports = [1, 2.5]\n")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := Decode("f.toml", []byte(text))
		if c == nil {
			t.Fatal("nil config")
		}
		verr := c.Validate()
		for _, e := range []error{err, verr} {
			if e == nil {
				continue
			}
			var ce *Error
			if !errors.As(e, &ce) {
				t.Fatalf("error is not an *Error: %v", e)
			}
			if err == e && !strings.HasPrefix(e.Error(), "f.toml") {
				t.Errorf("decode error without file: %q", e)
			}
		}
		if err == nil && verr == nil {
			if _, err := Decode("g.toml", []byte(c.Effective())); err != nil {
				t.Errorf("Effective does not decode: %v\n%s", err, c.Effective())
			}
		}
	})
}

func BenchmarkDecodePackaged(b *testing.B) {
	data, err := os.ReadFile("../../packaging/config.toml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		c, err := Decode("config.toml", data)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}
