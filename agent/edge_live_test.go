package agent

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/agent/finding"
)

// TestLiveEdgeAndScope: the daemon reports a crashed nginx worker (no
// access line at all) as web_server_crash with edge_status 520, and a later
// burst of 502s with the site of the access log it watches and the pool
// whose listen is the upstream. The lines are real nginx 1.22 lines
// (examples/), stamped now.
func TestLiveEdgeAndScope(t *testing.T) {
	dir := t.TempDir()
	access := filepath.Join(dir, "shop.access.log")
	errlog := filepath.Join(dir, "error.log")
	appendLine(t, access, `198.51.100.1 - - [20/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.0"`)
	appendLine(t, errlog, `2026/11/20 10:00:00 [notice] 1#1: start worker processes`)

	out := newCollect()
	cfg := liveCorrelate()
	cfg.Pools = map[string]string{}
	for _, k := range correlate.PoolListenKeys("/run/php/php8.2-fpm.sock") {
		cfg.Pools[k] = "www"
	}
	ws := nginxWatches(access, errlog)
	ws[0].Site = "shop.example.com"
	startAgent(t, Options{
		StateDir:  filepath.Join(dir, "state"),
		Host:      "web1",
		Watches:   ws,
		Correlate: cfg,
		Emitters:  []Emitter{out},
		Log:       testLog(t),
	})

	stamp := func() string { return time.Now().Local().Format("2006/01/02 15:04:05") }
	appendLine(t, errlog, stamp()+` [notice] 12574#12574: signal 17 (SIGCHLD) received from 12577`)
	appendLine(t, errlog, stamp()+` [alert] 12574#12574: worker process 12577 exited on signal 11`)
	crash, _ := out.wait(t, 5*time.Second, func(f finding.Finding) bool { return f.Cause == correlate.CauseWebServerCrash })
	if fmt.Sprint(crash.EdgeStatus) != "[520]" || len(crash.Evidence) == 0 {
		t.Errorf("crash finding: edge %v evidence %v", crash.EdgeStatus, crash.Evidence)
	}
	out.wait(t, 10*time.Second, func(f finding.Finding) bool {
		return f.Cause == correlate.CauseWebServerCrash && f.State == finding.StateClosed
	})

	for i := 0; i < 3; i++ {
		now := time.Now()
		client := fmt.Sprintf("203.0.113.%d", i+1)
		appendLine(t, errlog, now.Local().Format("2006/01/02 15:04:05")+` [error] 12#12: *`+fmt.Sprint(i+5)+` connect() to unix:/run/php/php8.2-fpm.sock failed (111: Connection refused) while connecting to upstream, client: `+client+`, server: shop.example.com, request: "GET /checkout.php HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "shop.example.com"`)
		appendLine(t, access, client+` - - [`+now.UTC().Format("02/Jan/2006:15:04:05 -0700")+`] "GET /checkout.php HTTP/1.1" 502 157 "-" "curl/8.0"`)
	}
	closed, _ := out.wait(t, 10*time.Second, func(f finding.Finding) bool {
		return f.Cause == correlate.CauseUpstreamDown && f.State == finding.StateClosed
	})
	sc := closed.Scope
	if fmt.Sprint(closed.EdgeStatus) != "[502]" || fmt.Sprint(sc.Sites) != "[shop.example.com]" || fmt.Sprint(sc.Pools) != "[www]" ||
		fmt.Sprint(sc.Upstreams) != "[unix:/run/php/php8.2-fpm.sock]" || len(sc.Paths) != 1 || sc.Paths[0].Count != 3 {
		t.Errorf("closed finding: edge %v scope %+v", closed.EdgeStatus, sc)
	}
}
