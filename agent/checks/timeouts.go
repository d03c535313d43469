package checks

import (
	"fmt"
	"strings"
	"time"

	"github.com/origin-agent/origin-agent/parsers/nginxconf"
)

// CloudflareTimeout is how long Cloudflare waits for the origin's response
// headers before it answers 524 (the default proxy read timeout).
const CloudflareTimeout = 120 * time.Second

// ServerTimeout is one web server timeout setting, for sources other than
// nginxconf (Apache Timeout / ProxyTimeout).
type ServerTimeout struct {
	Name     string        `json:"name"`
	Value    time.Duration `json:"-"`
	Where    string        `json:"where"` // file:line or vhost
	Software string        `json:"software"`
}

// TimeoutsCheck compares upstream read timeouts with Cloudflare's 120 s: a
// longer one is pointless, because Cloudflare has answered 524 by then and
// the origin keeps working for nobody (warn). Connect and send timeouts are
// not compared. No configuration at all skips.
func TimeoutsCheck(nginx []nginxconf.Timeout, other []ServerTimeout, haveConfig bool) Check {
	c := newCheck("nginx.proxy_timeouts")
	if !haveConfig {
		return Skipped(c.ID, "no nginx or apache configuration found")
	}
	var all []ServerTimeout
	var unparsed []string
	for _, t := range nginx {
		if !strings.HasSuffix(t.Name, "_read_timeout") {
			continue
		}
		if t.Err != nil {
			unparsed = append(unparsed, fmt.Sprintf("%s %s at %s:%d", t.Name, t.Value, t.File, t.Line))
			continue
		}
		all = append(all, ServerTimeout{Name: t.Name, Value: t.Duration, Where: fmt.Sprintf("%s:%d", t.File, t.Line), Software: "nginx"})
	}
	all = append(all, other...)
	var long []string
	var fix []string
	for _, t := range all {
		if t.Value > CloudflareTimeout {
			long = append(long, fmt.Sprintf("%s %s (%s)", t.Name, t.Value, t.Where))
			if t.Software == "nginx" {
				fix = append(fix, fmt.Sprintf("# %s: set %s 120s; (or less), then nginx -t && systemctl reload nginx", t.Where, t.Name))
			} else if t.Name == "Timeout" {
				// Timeout also bounds every read and write: cap only
				// what waits for the backend.
				fix = append(fix, fmt.Sprintf("# %s: add ProxyTimeout 120 (or less; Timeout bounds proxied requests while ProxyTimeout is unset), then apachectl configtest && systemctl reload apache2", t.Where))
			} else {
				fix = append(fix, fmt.Sprintf("# %s: set %s 120 (or less), then apachectl configtest && systemctl reload apache2", t.Where, t.Name))
			}
		}
	}
	settings := make([]map[string]string, 0, len(all))
	for _, t := range all {
		settings = append(settings, map[string]string{"name": t.Name, "value": t.Value.String(), "where": t.Where, "software": t.Software})
	}
	c.Details["settings"] = settings
	c.Details["cloudflare_timeout"] = CloudflareTimeout.String()
	if len(unparsed) > 0 {
		c.Details["unparsed"] = unparsed
	}
	if len(long) > 0 {
		c.Status = Warn
		verb := "exceeds"
		if len(long) > 1 {
			verb = "exceed"
		}
		c.Summary = fmt.Sprintf("%s %s Cloudflare's 120 s: Cloudflare answers 524 first, the origin keeps working for nobody", strings.Join(long, ", "), verb)
		c.Fix = fix
		return c
	}
	c.Status = Pass
	if len(all) == 0 {
		c.Summary = "no proxy read timeout set: the defaults (nginx 60 s, Apache Timeout 60 s) are within Cloudflare's 120 s"
	} else {
		c.Summary = fmt.Sprintf("all %d read timeouts are within Cloudflare's 120 s", len(all))
	}
	return c
}
