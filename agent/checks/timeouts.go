package checks

import (
	"fmt"
	"strings"
	"time"

	"github.com/origin-agent/origin-agent/parsers/nginxconf"
)

// CloudflareTimeout is how long Cloudflare waits for the origin's response
// headers before it answers 524: its proxy read timeout, 100 s on every plan
// but Enterprise (developers.cloudflare.com/fundamentals/reference/
// connection-limits; FACTS.md).
const CloudflareTimeout = 100 * time.Second

// SuggestedReadTimeout is what the fix proposes: below CloudflareTimeout
// with room for the connect and send that Cloudflare's timer also covers,
// so that nginx times out first and answers (and logs) a 504 itself.
const SuggestedReadTimeout = 90 * time.Second

// ServerTimeout is one web server timeout setting, for sources other than
// nginxconf (Apache Timeout / ProxyTimeout).
type ServerTimeout struct {
	Name     string        `json:"name"`
	Value    time.Duration `json:"-"`
	Where    string        `json:"where"` // file:line or vhost
	Software string        `json:"software"`
}

// TimeoutsCheck compares upstream read timeouts with Cloudflare's 100 s: at
// 100 s or more Cloudflare gives up first (its timer started earlier, when it
// sent the request) and shows visitors 524, nginx logs the request as 499
// and at the default error_log level says nothing, and the origin keeps
// working for nobody (warn). Shorter, nginx answers 504 itself, which
// Cloudflare passes on and which the agent can explain. Connect and send
// timeouts are not compared. No configuration at all skips.
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
		if t.Value >= CloudflareTimeout {
			long = append(long, fmt.Sprintf("%s %s (%s)", t.Name, t.Value, t.Where))
			if t.Software == "nginx" {
				fix = append(fix, fmt.Sprintf("# %s: set %s %ds; (below Cloudflare's 100 s), then nginx -t && systemctl reload nginx", t.Where, t.Name, int(SuggestedReadTimeout.Seconds())))
			} else if t.Name == "Timeout" {
				// Timeout also bounds every read and write: cap only
				// what waits for the backend.
				fix = append(fix, fmt.Sprintf("# %s: add ProxyTimeout %d (below Cloudflare's 100 s; Timeout bounds proxied requests while ProxyTimeout is unset), then apachectl configtest && systemctl reload apache2", t.Where, int(SuggestedReadTimeout.Seconds())))
			} else {
				fix = append(fix, fmt.Sprintf("# %s: set %s %d (below Cloudflare's 100 s), then apachectl configtest && systemctl reload apache2", t.Where, t.Name, int(SuggestedReadTimeout.Seconds())))
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
		verb := "reaches"
		if len(long) > 1 {
			verb = "reach"
		}
		c.Summary = fmt.Sprintf("%s %s Cloudflare's 100 s proxy read timeout: Cloudflare gives up first and shows visitors 524 while the origin keeps working for nobody "+
			"(nginx logs those requests as 499, with no error line)", strings.Join(long, ", "), verb)
		c.Fix = fix
		return c
	}
	c.Status = Pass
	if len(all) == 0 {
		c.Summary = "no proxy read timeout set: the defaults (nginx 60 s, Apache Timeout 60 s) are below Cloudflare's 100 s"
	} else {
		c.Summary = fmt.Sprintf("all %d read timeouts are below Cloudflare's 100 s: the web server answers 504 itself, before Cloudflare's 524", len(all))
	}
	return c
}
