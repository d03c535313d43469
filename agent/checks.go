package agent

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/origin-agent/origin-agent/agent/checks/upstream"
	"github.com/origin-agent/origin-agent/agent/correlate"
)

// ListenerCheck fails when nothing listens on a web port where Cloudflare
// can reach it (Cloudflare then answers 521).
type ListenerCheck struct {
	Ports    []int
	ProcRoot string // default /proc
}

func (l *ListenerCheck) Name() string { return "listeners" }

func (l *ListenerCheck) Run(ctx context.Context) []CheckResult {
	root := l.ProcRoot
	if root == "" {
		root = "/proc"
	}
	ls, err := upstream.ReadListeners(root)
	if err != nil {
		return nil // unreadable /proc says nothing about the listeners
	}
	var out []CheckResult
	for _, p := range l.Ports {
		out = append(out, listenerResult(ls, p))
	}
	return out
}

func listenerResult(ls upstream.Listeners, port int) CheckResult {
	id := fmt.Sprintf("listener.%d", port)
	var loopback []string
	for _, t := range ls.TCP {
		if int(t.Addr.Port()) != port {
			continue
		}
		if !t.Addr.Addr().IsLoopback() {
			return CheckResult{ID: id, OK: true}
		}
		loopback = append(loopback, t.Addr.String())
	}
	if len(loopback) > 0 {
		return CheckResult{ID: id, Cause: correlate.CauseListenerDown,
			Summary:     fmt.Sprintf("port %d listens only on %s: Cloudflare cannot connect (521)", port, strings.Join(loopback, ", ")),
			Remediation: fmt.Sprintf("Make the web server listen on all addresses for port %d (nginx `listen %d;` / apache `Listen %d`) and reload it.", port, port, port)}
	}
	return CheckResult{ID: id, Cause: correlate.CauseListenerDown,
		Summary:     fmt.Sprintf("nothing listens on port %d: Cloudflare gets connection refused (521)", port),
		Remediation: "Start the web server (`systemctl start nginx` / `systemctl start apache2`) and find out why it stopped (`journalctl -u nginx`)."}
}

// UpstreamCheck fails when an upstream the web server proxies to does not
// accept connections (socket gone, refused).
type UpstreamCheck struct {
	Targets []string
}

func (u *UpstreamCheck) Name() string { return "upstreams" }

func (u *UpstreamCheck) Run(ctx context.Context) []CheckResult {
	var out []CheckResult
	for _, t := range u.Targets {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		r := upstream.Probe(pctx, t)
		cancel()
		id := "upstream." + t
		if r.OK || r.Reason == upstream.Reason("busy") {
			out = append(out, CheckResult{ID: id, OK: true}) // a full backlog is exhaustion, not a dead upstream
			continue
		}
		out = append(out, CheckResult{ID: id, Cause: correlate.CauseUpstreamDown,
			Summary:     fmt.Sprintf("upstream %s does not accept connections (%s)", t, r.Reason),
			Remediation: "Start the upstream (e.g. `systemctl start php8.2-fpm`), check `journalctl -u php8.2-fpm` for why it stopped, and that its `listen` matches the proxy's target."})
	}
	return out
}

// cfTraffic notices when requests from Cloudflare's addresses stop while
// the site had been busy with them: DNS no longer proxied, the firewall
// started dropping Cloudflare, or Cloudflare cannot reach the origin.
type cfTraffic struct {
	mu     sync.Mutex
	ranges []netip.Prefix
	perMin map[int64]int // unix minute → requests from Cloudflare
}

const (
	cfBaselineMinutes = 12 // minutes before the recent window
	cfRecentMinutes   = 3  // minutes with zero Cloudflare requests that count as stopped
	cfBusyPerMinute   = 10 // baseline average that counts as busy
)

func newCFTraffic(ranges []netip.Prefix) *cfTraffic {
	return &cfTraffic{ranges: ranges, perMin: map[int64]int{}}
}

// observe counts an access from addr at t.
func (c *cfTraffic) observe(addr []byte, t time.Time) {
	if len(c.ranges) == 0 || len(addr) == 0 {
		return
	}
	a, err := netip.ParseAddr(string(addr))
	if err != nil {
		return
	}
	for _, p := range c.ranges {
		if p.Contains(a.Unmap()) {
			c.mu.Lock()
			c.perMin[t.Unix()/60]++
			c.mu.Unlock()
			return
		}
	}
}

func (c *cfTraffic) Name() string { return "cloudflare-traffic" }

// result judges the minutes before now.
func (c *cfTraffic) result(now time.Time) CheckResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := now.Unix() / 60
	for m := range c.perMin {
		if m < cur-cfBaselineMinutes-cfRecentMinutes-2 {
			delete(c.perMin, m)
		}
	}
	recent, base := 0, 0
	for m := cur - cfRecentMinutes; m < cur; m++ {
		recent += c.perMin[m]
	}
	for m := cur - cfRecentMinutes - cfBaselineMinutes; m < cur-cfRecentMinutes; m++ {
		base += c.perMin[m]
	}
	id := "traffic.cloudflare"
	if recent == 0 && base >= cfBusyPerMinute*cfBaselineMinutes {
		return CheckResult{ID: id, Cause: correlate.CauseCloudflareStopped,
			Summary: fmt.Sprintf("no request from Cloudflare's addresses for %d minutes, after %d per minute before", cfRecentMinutes, base/cfBaselineMinutes),
			Remediation: "Check that the DNS records are still proxied (orange cloud), that the firewall still lets Cloudflare's ranges in (`origin-agent audit`), " +
				"and Cloudflare's dashboard for 521/522 errors."}
	}
	return CheckResult{ID: id, OK: true}
}
