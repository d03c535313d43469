package checks

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/origin-agent/origin-agent/agent/checks/upstream"
	"github.com/origin-agent/origin-agent/agent/correlate"
)

func probeSays(r upstream.Result) func(context.Context, string) upstream.Result {
	return func(_ context.Context, t string) upstream.Result { r.Target = t; return r }
}

var denied = upstream.Result{Reason: upstream.ReasonPermission, Error: "dial unix /run/php/php8.2-fpm.sock: connect: permission denied"}

// A unix socket is judged by the listener table; EACCES from connect()
// never makes upstream_down.
func TestUpstreamCheckUnix(t *testing.T) {
	const target = "unix:/run/php/php8.2-fpm.sock"
	up := &upstream.Listeners{Unix: []upstream.UnixListener{{Path: "/run/php/php8.2-fpm.sock", Type: 1}}}
	c := UpstreamCheck(context.Background(), target, up, probeSays(denied))
	if c.Status != Pass || c.ID != "upstream."+target {
		t.Errorf("listening, connect denied: %+v", c)
	}
	c = UpstreamCheck(context.Background(), target, &upstream.Listeners{}, probeSays(denied))
	if c.Status != Fail || c.Cause != correlate.CauseUpstreamDown || !strings.Contains(c.Summary, "/proc/net/unix") ||
		!strings.Contains(c.Remediation(), "systemctl start php8.2-fpm") {
		t.Errorf("not listening: %+v", c)
	}
	// No listener table: connect() decides, and EACCES is a health warning.
	c = UpstreamCheck(context.Background(), target, nil, probeSays(denied))
	if c.Status != Warn || c.Cause != CauseCannotObserve || c.ID != "health.upstream."+target ||
		!strings.Contains(c.Remediation(), "listen.acl_users = www-data,") || !strings.Contains(c.Remediation(), "systemctl reload php8.2-fpm") {
		t.Errorf("no table, denied: %+v", c)
	}
	c = UpstreamCheck(context.Background(), target, nil, probeSays(upstream.Result{Reason: upstream.ReasonRefused, Error: "refused"}))
	if c.Status != Fail || c.Cause != correlate.CauseUpstreamDown {
		t.Errorf("no table, refused: %+v", c)
	}
	c = UpstreamCheck(context.Background(), target, nil, probeSays(upstream.Result{Reason: upstream.ReasonBusy}))
	if c.Status != Pass {
		t.Errorf("busy: %+v", c)
	}
}

func TestUpstreamCheckTCP(t *testing.T) {
	ls, err := upstream.ParseTCP([]byte(procTCP))
	if err != nil {
		t.Fatal(err)
	}
	tab := &upstream.Listeners{TCP: ls}
	// SELinux denies connect(): the table says 127.0.0.1:8081 listens.
	if c := UpstreamCheck(context.Background(), "127.0.0.1:8081", tab, probeSays(denied)); c.Status != Pass {
		t.Errorf("denied but listening: %+v", c)
	}
	if c := UpstreamCheck(context.Background(), "localhost:9000", tab, probeSays(denied)); c.Status != Fail || c.Cause != correlate.CauseUpstreamDown {
		t.Errorf("denied, not listening: %+v", c)
	}
	if c := UpstreamCheck(context.Background(), "backend.internal:9000", tab, probeSays(denied)); c.Cause != CauseCannotObserve {
		t.Errorf("denied, remote: %+v", c)
	}
	if c := UpstreamCheck(context.Background(), "127.0.0.1:9000", tab, probeSays(upstream.Result{Reason: upstream.ReasonRefused, Error: "refused"})); c.Status != Fail || c.Cause != correlate.CauseUpstreamDown {
		t.Errorf("refused: %+v", c)
	}
}

// Upstreams reads the real tables: a socket that listens passes, one
// closed is down, and each target reports its health id as good.
func TestUpstreamsChecker(t *testing.T) {
	dir := t.TempDir()
	live, dead := filepath.Join(dir, "live.sock"), filepath.Join(dir, "dead.sock")
	ln, err := net.Listen("unix", live)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := os.WriteFile(dead, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	u := &Upstreams{Targets: []string{"unix:" + live, "unix:" + dead}}
	got := map[string]Check{}
	for _, c := range u.Run(context.Background()) {
		got[c.ID] = c
	}
	if c := got["upstream.unix:"+live]; c.Status != Pass {
		t.Errorf("live: %+v", c)
	}
	if c := got["upstream.unix:"+dead]; c.Status != Fail || !strings.Contains(c.Summary, "not a socket") {
		t.Errorf("dead: %+v", c)
	}
	if c := got["health.upstream.unix:"+live]; c.Status != Pass {
		t.Errorf("health: %+v", c)
	}
}
