package audit

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/origin-agent/origin-agent/agent/checks"
	"github.com/origin-agent/origin-agent/parsers/apacheconf"
)

// TestApacheTimeouts: what bounds a proxied request is the proxy's own
// timeout=, else ProxyTimeout, else Timeout, a vhost's before the main
// server's; an Apache that proxies nothing has no response deadline to
// compare, whatever its Timeout (Debian ships 300).
func TestApacheTimeouts(t *testing.T) {
	const fpm = `<FilesMatch ".+\.php$">
    SetHandler "proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost"
</FilesMatch>
`
	tests := []struct {
		name   string
		conf   string
		want   []string // name value where
		status checks.Status
	}{
		{"stock Debian, mod_php: nothing proxied", "Timeout 300\n<VirtualHost *:80>\nServerName a.test\n</VirtualHost>\n",
			nil, checks.Pass},
		{"php-fpm behind the stock Timeout", "Timeout 300\n" + fpm + "<VirtualHost *:80>\nServerName a.test\n</VirtualHost>\n",
			[]string{"Timeout 5m0s main server"}, checks.Warn},
		{"ProxyTimeout wins over Timeout", "Timeout 300\nProxyTimeout 90\n" + fpm,
			[]string{"ProxyTimeout 1m30s main server"}, checks.Pass},
		{"a vhost's own Timeout before the main one", "Timeout 30\n<VirtualHost *:80>\nServerName a.test\nTimeout 600\n" + fpm + "</VirtualHost>\n",
			[]string{"Timeout 10m0s apache2.conf:2"}, checks.Warn},
		{"the main ProxyTimeout before a vhost's Timeout", "ProxyTimeout 95\n<VirtualHost *:80>\nServerName a.test\nTimeout 600\n" + fpm + "</VirtualHost>\n",
			[]string{"ProxyTimeout 1m35s main server"}, checks.Pass},
		{"ProxyTimeout of Cloudflare's 100 s", "ProxyTimeout 100\n" + fpm,
			[]string{"ProxyTimeout 1m40s main server"}, checks.Warn},
		{"ProxyPass timeout= covers its own proxy", "Timeout 300\n<VirtualHost *:80>\nProxyPass /app http://127.0.0.1:8080/ timeout=200\n</VirtualHost>\n",
			[]string{"ProxyPass timeout= 3m20s apache2.conf:3"}, checks.Warn},
		{"no timeout set: Apache's default 60 s", fpm, nil, checks.Pass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			apc, err := apacheconf.Load(fstest.MapFS{"etc/apache2/apache2.conf": {Data: []byte(tt.conf)}}, "etc/apache2/apache2.conf")
			if err != nil {
				t.Fatal(err)
			}
			got := apacheTimeouts(apc)
			var gotS []string
			for _, g := range got {
				gotS = append(gotS, fmt.Sprintf("%s %s %s", g.Name, g.Value, strings.TrimPrefix(g.Where, "/")))
			}
			if strings.Join(gotS, "|") != strings.Join(tt.want, "|") {
				t.Errorf("timeouts %q, want %q", gotS, tt.want)
			}
			c := checks.TimeoutsCheck(nil, got, true)
			if c.Status != tt.status {
				t.Errorf("check %s (%s), want %s", c.Status, c.Summary, tt.status)
			}
			if c.Status == checks.Warn && strings.HasPrefix(tt.want[0], "Timeout ") && !strings.Contains(strings.Join(c.Fix, "\n"), "add ProxyTimeout 90") {
				t.Errorf("fix for a Timeout should add ProxyTimeout, not shorten every I/O wait: %q", c.Fix)
			}
		})
	}
}
