package nginxconf

import (
	"os"
	"testing"
	"time"
)

// testdata/nginx-T.txt is the real output of
// `nginx -T -c /tmp/h3-nginx/nginx.conf -p /tmp/h3-nginx/` (nginx 1.22.1).
func TestParseDumpReal(t *testing.T) {
	dump, err := os.ReadFile("testdata/nginx-T.txt")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseDump(dump)
	if err != nil {
		t.Fatal(err)
	}
	if c.Main != "/tmp/h3-nginx/nginx.conf" {
		t.Errorf("Main = %q", c.Main)
	}
	lf := c.LogFormats()
	if len(lf) != 2 {
		t.Fatalf("LogFormats = %+v, want 2", lf)
	}
	if want := `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time urt=$upstream_response_time`; lf[0].Format != want || lf[0].Escape != "default" {
		t.Errorf("main format = %q (%s), want %q", lf[0].Format, lf[0].Escape, want)
	}
	if want := `{"time":"$time_iso8601","status":$status,"request":"$request","ua":"$http_user_agent"}`; lf[1].Name != "json_log" || lf[1].Escape != "json" || lf[1].Format != want {
		t.Errorf("json format = %+v, want %q", lf[1], want)
	}
	al := c.AccessLogs()
	if len(al) != 4 {
		t.Fatalf("AccessLogs = %+v, want 4", al)
	}
	if al[1].Path != "/tmp/h3-nginx/logs/example.access.log" || al[1].Format != "json_log" || al[1].File != "/tmp/h3-nginx/sites-enabled/default" || al[1].Line != 7 ||
		len(al[1].ServerNames) != 2 || al[1].ServerNames[0] != "example.com" {
		t.Errorf("site access log = %+v", al[1])
	}
	if !al[2].NotFile || al[2].Format != "combined" || !al[3].Off {
		t.Errorf("syslog/off access logs = %+v / %+v", al[2], al[3])
	}
	ups := c.Upstreams()
	if len(ups) != 1 || ups[0].Name != "php" || len(ups[0].Servers) != 2 || ups[0].Servers[0].Address != "unix:/run/php/php8.2-fpm.sock" || ups[0].Servers[1].Line != 3 {
		t.Errorf("Upstreams = %+v", ups)
	}
	var fcgi *Timeout
	for i, to := range c.Timeouts() {
		if to.Name == "fastcgi_read_timeout" && to.Context == "server" {
			fcgi = &c.Timeouts()[i]
		}
	}
	if fcgi == nil || fcgi.Duration != 90*time.Minute || fcgi.Value != "1h 30m" {
		t.Errorf("server fastcgi_read_timeout = %+v", fcgi)
	}
	// fastcgi_params was dumped too and included from the location.
	found := false
	_ = c.Walk(func(d *Directive, parents []*Directive) error {
		if d.Name == "fastcgi_param" && d.File == "/tmp/h3-nginx/fastcgi_params" && len(parents) == 3 && parents[2].Name == "location" {
			found = true
		}
		return nil
	})
	if !found {
		t.Error("fastcgi_params include did not resolve to the dumped file")
	}
}

func BenchmarkParseDump(b *testing.B) {
	dump, err := os.ReadFile("testdata/nginx-T.txt")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(dump)))
	for b.Loop() {
		if _, err := ParseDump(dump); err != nil {
			b.Fatal(err)
		}
	}
}
