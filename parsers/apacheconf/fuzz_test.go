package apacheconf

import (
	"testing"
	"testing/fstest"

	"github.com/origin-agent/origin-agent/parsers/apache"
)

// Every LogFormat of the Debian layout, as Load unquotes it, compiles with
// the access-log parser: the two packages agree on the quoting.
func TestLogFormatsCompile(t *testing.T) {
	c, err := Load(debian(), "etc/apache2/apache2.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, lf := range c.LogFormats {
		if _, err := apache.CompileLogFormat(lf.Nickname, lf.Format); err != nil {
			t.Errorf("%s:%d: %v", lf.File, lf.Line, err)
		}
	}
	for _, cl := range c.AccessLogs() {
		if _, err := apache.CompileLogFormat(cl.Nickname, cl.Format); err != nil {
			t.Errorf("%s:%d: %v", cl.File, cl.Line, err)
		}
	}
}

func FuzzLoad(f *testing.F) {
	for _, mf := range debian() {
		f.Add(string(mf.Data))
	}
	f.Add("<VirtualHost *:80>\nInclude x/*.conf\n</VirtualHost>\n")
	f.Add("Timeout 3000000h\nProxyTimeout 9223372036854775807\n<VirtualHost *:80>\nProxyPass / fcgi://127.0.0.1:9000/ timeout=9999999999999\n</VirtualHost>\n")
	f.Fuzz(func(t *testing.T, conf string) {
		fs := fstest.MapFS{
			"etc/apache2/apache2.conf": {Data: []byte(conf)},
			"etc/apache2/x/a.conf":     {Data: []byte("CustomLog logs/a.log combined\n")},
		}
		c, err := Load(fs, "etc/apache2/apache2.conf")
		if err != nil {
			return
		}
		if c.Main == nil || len(c.Files) == 0 {
			t.Fatalf("config without main server or files")
		}
		for _, cl := range c.AccessLogs() {
			if cl.Readable && cl.Path == "" {
				t.Fatalf("readable log without a path: %+v", cl)
			}
		}
		// A negative (wrapped) timeout would pass the audit's comparison
		// with Cloudflare's 100 s.
		for _, s := range append([]*Server{c.Main}, c.VHosts...) {
			if s.Timeout < 0 || s.ProxyTimeout < 0 {
				t.Fatalf("negative timeout %v / %v", s.Timeout, s.ProxyTimeout)
			}
			for _, p := range s.Proxies {
				if p.Timeout < 0 {
					t.Fatalf("negative proxy timeout %v", p.Timeout)
				}
			}
		}
	})
}
