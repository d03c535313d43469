package checks

import (
	"os"
	"testing"
	"testing/fstest"

	"github.com/origin-agent/origin-agent/parsers/apacheconf"
	"github.com/origin-agent/origin-agent/parsers/nginxconf"
)

// Debian 12's stock nginx and apache2: both serve 80 only. ports.conf's
// `Listen 443` inside <IfModule ssl_module> does not make 443 a port to
// check while no virtual host uses it.
func TestWebPortsDebian(t *testing.T) {
	fsys := os.DirFS("../discover/testdata/debian")
	ngx, err := nginxconf.Load(fsys, "/etc/nginx/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	apc, err := apacheconf.Load(fsys, "etc/apache2/apache2.conf")
	if err != nil {
		t.Fatal(err)
	}
	got := WebPorts(ngx, apc, "apache2")
	if len(got) != 2 || got[0].Port != 80 || got[0].Server != "nginx" || got[0].Where != "/etc/nginx/sites-enabled/default:22" ||
		got[1].Port != 80 || got[1].Server != "apache2" {
		t.Fatalf("WebPorts = %+v", got)
	}
	if p := PortList(got); len(p) != 1 || p[0] != 80 {
		t.Errorf("PortList = %v", p)
	}
}

func TestWebPorts(t *testing.T) {
	fsys := fstest.MapFS{
		"etc/nginx/nginx.conf": {Data: []byte(`http {
	server { listen 443 ssl http2; listen [::]:443 ssl; server_name shop.example.com; }
	server { server_name legacy.example.com; }
	server { listen 127.0.0.1:8080; }
	server { listen unix:/run/nginx.sock; }
	server { listen 9100; }
	server { listen 10.0.0.5:8443 ssl; }
}
`)},
		"etc/httpd/conf/httpd.conf": {Data: []byte("Listen 80\nListen 8080\n<VirtualHost *:8080>\n</VirtualHost>\n<VirtualHost 127.0.0.1:8880>\n</VirtualHost>\n")},
	}
	ngx, err := nginxconf.Load(fsys, "/etc/nginx/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	apc, err := apacheconf.Load(fsys, "etc/httpd/conf/httpd.conf")
	if err != nil {
		t.Fatal(err)
	}
	got := WebPorts(ngx, apc, "httpd")
	want := []struct {
		port   uint16
		server string
	}{{80, "nginx"}, {443, "nginx"}, {8080, "httpd"}, {8443, "nginx"}}
	if len(got) != len(want) {
		t.Fatalf("WebPorts = %+v", got)
	}
	for i, w := range want {
		if got[i].Port != w.port || got[i].Server != w.server {
			t.Errorf("%d: %+v, want %d %s", i, got[i], w.port, w.server)
		}
	}
	if got[1].Directive != "listen 443 ssl http2" {
		t.Errorf("directive %q", got[1].Directive)
	}
	if WebPorts(nil, nil, "") != nil {
		t.Error("no config: ports")
	}
}
