package fpmconf

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzLoad feeds arbitrary text as a pool file: Load must not panic, every
// error must name the file, and every pool must come from a header line.
func FuzzLoad(f *testing.F) {
	for _, p := range []string{"testdata/debian/etc/php/8.2/fpm/php-fpm.conf", "testdata/debian/etc/php/8.2/fpm/pool.d/www.conf"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add(rhelConf)
	f.Add(rhelWWW)
	f.Add("[p]\nlisten = \"a\\\"b\" 'c';d\ninclude = *.conf\n[global]\n")
	f.Fuzz(func(t *testing.T, conf string) {
		cfg, err := Load(fstest.MapFS{"f.conf": {Data: []byte(conf)}}, "f.conf")
		if cfg == nil {
			t.Fatal("nil config")
		}
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "f.conf") {
					t.Errorf("error line without file: %q", line)
				}
			}
		}
		for _, p := range cfg.Pools {
			if p.Name == "" || p.Line < 1 || p.MaxChildren < 0 || p.RequestTerminateTimeout < 0 {
				t.Errorf("bad pool %+v", p)
			}
		}
	})
}

func BenchmarkLoadDebian(b *testing.B) {
	fsys := os.DirFS("testdata/debian")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(fsys, "etc/php/*/fpm/php-fpm.conf"); err != nil {
			b.Fatal(err)
		}
	}
}
