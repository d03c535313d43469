package checks

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/origin-agent/origin-agent/agent/checks/upstream"
	"github.com/origin-agent/origin-agent/agent/correlate"
)

// The Checkers the daemon repeats every [checks] interval.

// Listeners is the daemon's listener check: listener.PORT for each port.
type Listeners struct {
	// Ports to check, with the configuration that listens on each (from
	// WebPorts) where known.
	Ports      []uint16
	Configured []WebPort
	// Override names the setting the ports came from when they were not
	// derived from the web servers' configurations ("[checks] ports").
	Override string
	ProcRoot string // default /proc
}

func (l *Listeners) Name() string { return "listeners" }

func (l *Listeners) Run(ctx context.Context) []Check {
	root := orDefault(l.ProcRoot, "/proc")
	tcp, err := upstream.ReadTCP(root)
	if err != nil {
		return nil // unreadable /proc says nothing about the listeners
	}
	var running []Proc
	var owners map[uint64]Proc
	out := make([]Check, 0, len(l.Ports))
	for _, p := range l.Ports {
		lc := ListenerContext{Configured: ConfiguredOn(l.Configured, p), Override: l.Override}
		c := ListenerCheck(p, tcp, owners, lc)
		if c.Status == Fail {
			// Only a failure needs to know who runs and who listens.
			if running == nil {
				running = WebServerProcs(root)
				var inodes []uint64
				for _, t := range tcp {
					inodes = append(inodes, t.Inode)
				}
				owners = SocketOwners(ctx, root, inodes)
			}
			lc.Running = running
			c = ListenerCheck(p, tcp, owners, lc)
		}
		out = append(out, c)
	}
	return out
}

// Static reports the same results every time: the health of what the
// daemon chose at start (its kernel source).
type Static struct {
	Label   string
	Results []Check
}

func (s *Static) Name() string                { return s.Label }
func (s *Static) Run(context.Context) []Check { return s.Results }

// WatchedFile is a log the daemon tails.
type WatchedFile struct {
	Path   string
	PHPFPM bool // php-fpm's own log (its grant is LogAccessUnit)
}

// Files is the health check of the logs the daemon tails: one
// health.file:PATH per file.
type Files struct {
	Files []WatchedFile
}

func (f *Files) Name() string { return "files" }

func (f *Files) Run(context.Context) []Check {
	out := make([]Check, 0, len(f.Files))
	for _, w := range f.Files {
		out = append(out, FileHealth(w.Path, w.PHPFPM))
	}
	return out
}

// CloudflareTraffic notices when requests from Cloudflare's addresses stop
// while the site had been busy with them: DNS no longer proxied, the
// firewall started dropping Cloudflare, or Cloudflare cannot reach the
// origin. The daemon feeds it every access (Observe) and runs it with the
// other checks; it judges the minutes before the time Result is given.
type CloudflareTraffic struct {
	mu     sync.Mutex
	ranges []netip.Prefix
	perMin map[int64]int // unix minute → requests from Cloudflare
}

const (
	cfBaselineMinutes = 12 // minutes before the recent window
	cfRecentMinutes   = 3  // minutes with zero Cloudflare requests that count as stopped
	cfBusyPerMinute   = 10 // baseline average that counts as busy
)

// NewCloudflareTraffic counts requests from ranges.
func NewCloudflareTraffic(ranges []netip.Prefix) *CloudflareTraffic {
	return &CloudflareTraffic{ranges: ranges, perMin: map[int64]int{}}
}

// Active reports whether there are ranges to watch.
func (c *CloudflareTraffic) Active() bool { return len(c.ranges) > 0 }

// SetRanges replaces the ranges (a reload), keeping the counts. It must
// not run concurrently with Observe or Active.
func (c *CloudflareTraffic) SetRanges(ranges []netip.Prefix) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ranges = ranges
}

// Observe counts an access from addr at t.
func (c *CloudflareTraffic) Observe(addr []byte, t time.Time) {
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

// Result judges the minutes before now.
func (c *CloudflareTraffic) Result(now time.Time) Check {
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
	const id = "traffic.cloudflare"
	if recent == 0 && base >= cfBusyPerMinute*cfBaselineMinutes {
		ch := newCheck(id)
		ch.Status, ch.Cause = Fail, correlate.CauseCloudflareStopped
		ch.Summary = fmt.Sprintf("no request from Cloudflare's addresses for %d minutes, after %d per minute before", cfRecentMinutes, base/cfBaselineMinutes)
		ch.Fix = []string{"# check that the DNS records are still proxied (orange cloud) and Cloudflare's dashboard for 521/522 errors",
			"origin-agent audit   # does the firewall still let Cloudflare's ranges in?"}
		return ch
	}
	return Passed(id, fmt.Sprintf("%d requests from Cloudflare in the last %d minutes", recent, cfRecentMinutes))
}
