package analyze

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestSiteFromConfig: with --nginx-conf, an access log written by one
// server block names that block's server_name as the incident's site; the
// other site's log (healthy) is not named.
func TestSiteFromConfig(t *testing.T) {
	dir := t.TempDir()
	copyFile := func(from, to string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Real logs from examples/: the shop's report timed out, the blog was fine.
	copyFile("../../examples/nginx-upstream-timeout/access.log", "shop.access.log")
	copyFile("../../examples/nginx-upstream-timeout/error.log", "error.log")
	copyFile("../../examples/healthy/access.log", "blog.access.log")
	conf := `events {}
http {
    server { server_name shop.example.com www.shop.example.com; access_log /var/log/nginx/shop.access.log; }
    server { server_name _ blog.example.com; access_log /var/log/nginx/blog.access.log combined; }
}
`
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{Args: []string{
		filepath.Join(dir, "shop.access.log"), filepath.Join(dir, "blog.access.log"), filepath.Join(dir, "error.log")},
		NginxConf: filepath.Join(dir, "nginx.conf")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Cases) != 1 || len(res.Cases[0].Incidents) != 1 {
		t.Fatalf("cases %+v", res.Cases)
	}
	inc := res.Cases[0].Incidents[0]
	if got := inc.Scope.Sites; len(got) != 1 || got[0] != "shop.example.com" {
		t.Errorf("sites %v, want [shop.example.com]", got)
	}
}
