package checks

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/origin-agent/origin-agent/parsers/nginxconf"
)

// RealIPFile is where the nginx.real_ip fix puts its directives; Debian's and
// RHEL's nginx.conf include conf.d/*.conf inside http.
const RealIPFile = "/etc/nginx/conf.d/cloudflare-realip.conf"

// RealIPCheck says whether nginx restores visitors' addresses behind
// Cloudflare: every Cloudflare range must be inside some set_real_ip_from,
// and real_ip_header must be CF-Connecting-IP (or X-Forwarded-For with
// real_ip_recursive on). Anything missing warns (logs, rate limits and
// allow/deny then see Cloudflare's addresses), with the file to write.
func RealIPCheck(ri nginxconf.RealIP, cloudflare []netip.Prefix) Check {
	c := newCheck("nginx.real_ip")
	var trusted []netip.Prefix
	var bad []string
	for _, s := range ri.From {
		if p, err := netip.ParsePrefix(s.Value); err == nil {
			trusted = append(trusted, p.Masked())
		} else if a, err := netip.ParseAddr(s.Value); err == nil {
			trusted = append(trusted, netip.PrefixFrom(a, a.BitLen()))
		} else if s.Value != "unix:" {
			bad = append(bad, s.Value)
		}
	}
	var missing []string
	for _, cf := range cloudflare {
		if !coveredBy(cf, trusted) {
			missing = append(missing, cf.String())
		}
	}
	header, recursive := "", false
	for _, h := range ri.Header {
		header = h.Value // the innermost/last one wins for the server it sits in; report the last
	}
	for _, r := range ri.Recursive {
		recursive = strings.EqualFold(r.Value, "on")
	}
	var problems []string
	switch {
	case header == "":
		problems = append(problems, "real_ip_header is not set")
	case strings.EqualFold(header, "CF-Connecting-IP"):
	case strings.EqualFold(header, "X-Forwarded-For") && recursive:
	case strings.EqualFold(header, "X-Forwarded-For"):
		problems = append(problems, "real_ip_header X-Forwarded-For without real_ip_recursive on")
	default:
		problems = append(problems, "real_ip_header is "+header+", not CF-Connecting-IP")
	}
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("set_real_ip_from misses %d of %d Cloudflare ranges", len(missing), len(cloudflare)))
	}
	c.Details["set_real_ip_from"] = len(ri.From)
	c.Details["real_ip_header"] = header
	c.Details["real_ip_recursive"] = recursive
	if len(missing) > 0 {
		c.Details["missing"] = missing
	}
	if len(bad) > 0 {
		c.Details["unparsed"] = bad
	}
	if len(problems) == 0 {
		c.Status = Pass
		c.Summary = fmt.Sprintf("set_real_ip_from covers all %d Cloudflare ranges and real_ip_header is %s", len(cloudflare), header)
		return c
	}
	c.Status = Warn
	c.Summary = strings.Join(problems, "; ") + ": nginx logs and limits see Cloudflare's addresses instead of visitors'"
	var b strings.Builder
	fmt.Fprintf(&b, "cat > %s <<'EOF'\n", RealIPFile)
	for _, cf := range cloudflare {
		fmt.Fprintf(&b, "set_real_ip_from %s;\n", cf)
	}
	b.WriteString("real_ip_header CF-Connecting-IP;\nEOF")
	c.Fix = []string{b.String(), "nginx -t && systemctl reload nginx"}
	return c
}

// coveredBy reports whether p lies inside one of set.
func coveredBy(p netip.Prefix, set []netip.Prefix) bool {
	for _, s := range set {
		if s.Addr().Is4() == p.Addr().Is4() && s.Bits() <= p.Bits() && s.Contains(p.Addr()) {
			return true
		}
	}
	return false
}
