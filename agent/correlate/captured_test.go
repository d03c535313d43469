package correlate

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/apache"
	"github.com/origin-agent/origin-agent/parsers/nginx"
	"github.com/origin-agent/origin-agent/parsers/phpfpm"
)

// captured reads the logs of one case under testdata/ (captured from real
// nginx, apache and php-fpm by examples/generate.sh, trimmed), parses them
// with the real parsers and returns their lines merged by time.
func captured(t *testing.T, dir string, apacheLogs bool) []Input {
	t.Helper()
	o := parsers.Options{Location: time.UTC}
	parse := map[string]struct {
		typ parsers.Type
		f   parsers.Func
	}{
		"access.log":  {parsers.TypeNginxAccess, nginx.NewAccess(nginx.Combined(), o)},
		"error.log":   {parsers.TypeNginxError, nginx.NewError(o)},
		"php-fpm.log": {parsers.TypePHPFPM, phpfpm.New(o)},
	}
	if apacheLogs {
		f, err := apache.CompileLogFormat("combined", `%h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"`)
		if err != nil {
			t.Fatal(err)
		}
		parse["access.log"] = struct {
			typ parsers.Type
			f   parsers.Func
		}{parsers.TypeApacheAccess, apache.NewAccess(f, o)}
		parse["error.log"] = struct {
			typ parsers.Type
			f   parsers.Func
		}{parsers.TypeApacheError, apache.NewError(o)}
	}
	var in []Input
	for name, p := range parse {
		path := filepath.Join("testdata", dir, name)
		fh, err := os.Open(path)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		var n int64
		for sc.Scan() {
			n++
			line := append([]byte(nil), sc.Bytes()...)
			ev, err := p.f(line)
			if err != nil || ev.Time.IsZero() {
				continue
			}
			in = append(in, Input{Type: p.typ, Event: ev, Path: name, Line: n, Text: line})
		}
		fh.Close()
	}
	sort.SliceStable(in, func(i, j int) bool { return in[i].Event.Time.Before(in[j].Event.Time) })
	return in
}

func one(t *testing.T, incs []Incident) Incident {
	t.Helper()
	if len(incs) != 1 {
		for _, i := range incs {
			t.Logf("%s %v: %s", i.Cause, i.Statuses, i.Summary)
		}
		t.Fatalf("%d incidents, want 1", len(incs))
	}
	return incs[0]
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestCapturedCloudflareTimeout: nginx with fastcgi_read_timeout 300s, the
// edge (curl --max-time 100) gave up on 4 requests of a 103 s report.
func TestCapturedCloudflareTimeout(t *testing.T) {
	inc := one(t, run(t, DefaultConfig(), captured(t, "cloudflare-timeout", false)))
	if inc.Cause != CauseCloudflareTimeout || inc.Statuses["499"] != 4 || inc.Statuses["502"]+inc.Statuses["503"]+inc.Statuses["504"] != 0 {
		t.Fatalf("cause %s statuses %v: %s", inc.Cause, inc.Statuses, inc.Summary)
	}
	if !equalInts(inc.EdgeStatus, []int{524}) {
		t.Errorf("edge_status %v, want [524]", inc.EdgeStatus)
	}
	if len(inc.Scope.Paths) != 1 || inc.Scope.Paths[0] != (PathCount{"/report.php", 4}) {
		t.Errorf("paths %v", inc.Scope.Paths)
	}
	if len(inc.Scope.Pools) != 1 || inc.Scope.Pools[0] != "www" {
		t.Errorf("pools %v, want [www] (from the slow-script warnings)", inc.Scope.Pools)
	}
	if inc.Confidence < 0.9 {
		t.Errorf("confidence %.2f: slowlog, the client-closed lines and CF-Ray all corroborate", inc.Confidence)
	}
	for _, want := range []string{"report.php", "524", "499"} {
		if !contains(inc.Summary, want) {
			t.Errorf("summary lacks %q: %s", want, inc.Summary)
		}
	}
}

// TestCapturedNginxWorkerCrash: kill -SEGV of nginx's only worker with three
// requests in flight: no access line, no 5xx; the master's [alert] is all.
func TestCapturedNginxWorkerCrash(t *testing.T) {
	inc := one(t, run(t, DefaultConfig(), captured(t, "nginx-worker-crash", false)))
	if inc.Cause != CauseWebServerCrash || !equalInts(inc.EdgeStatus, []int{520}) {
		t.Fatalf("cause %s edge %v: %s", inc.Cause, inc.EdgeStatus, inc.Summary)
	}
	if inc.Statuses["502"]+inc.Statuses["503"]+inc.Statuses["504"] != 0 {
		t.Errorf("statuses %v, want none", inc.Statuses)
	}
	if want := time.Date(2026, 12, 3, 8, 29, 21, 0, time.UTC); !inc.Start.Equal(want) || !inc.End.Equal(want) {
		t.Errorf("window %v–%v, want the signal line's second %v", inc.Start, inc.End, want)
	}
	if !contains(inc.Summary, "12577") || !contains(inc.Summary, "SIGSEGV") {
		t.Errorf("summary: %s", inc.Summary)
	}
	if len(inc.Evidence) == 0 || !contains(inc.Evidence[0].Text, "exited on signal 11") {
		t.Errorf("evidence %v", inc.Evidence)
	}
}

// TestCapturedApacheChildSegfault: kill -SEGV of apache's children (AH00052).
func TestCapturedApacheChildSegfault(t *testing.T) {
	inc := one(t, run(t, DefaultConfig(), captured(t, "apache-child-segfault", true)))
	if inc.Cause != CauseWebServerCrash || !equalInts(inc.EdgeStatus, []int{520}) {
		t.Fatalf("cause %s edge %v: %s", inc.Cause, inc.EdgeStatus, inc.Summary)
	}
	if !contains(inc.Summary, "apache child") {
		t.Errorf("summary: %s", inc.Summary)
	}
}

// TestCapturedApachePoolExhausted: apache 2.4 + php8.2-fpm as Debian sets
// them up (SetHandler "proxy:unix:…sock|fcgi://localhost", ProxyTimeout 20,
// pm = dynamic, max_children 5), 12 requests to a 35 s script, then 8 to a
// fast page. Apache stamps the 504s with the time each request began, but
// writes its AH01075 (polling) 20 s later; php-fpm warns of max_children.
func TestCapturedApachePoolExhausted(t *testing.T) {
	inc := one(t, run(t, DefaultConfig(), captured(t, "apache-pool-exhausted", true)))
	if inc.Cause != CausePoolExhausted || inc.Statuses["504"] != 20 {
		t.Fatalf("cause %s statuses %v: %s", inc.Cause, inc.Statuses, inc.Summary)
	}
	if !contains(inc.Summary, `"www"`) {
		t.Errorf("summary does not name the pool: %s", inc.Summary)
	}
}

// TestCapturedWorkerConnections: worker_connections 16 under 30 concurrent
// requests: nginx warns and drops connections, the access log has no 5xx.
func TestCapturedWorkerConnections(t *testing.T) {
	inc := one(t, run(t, DefaultConfig(), captured(t, "worker-connections", false)))
	if inc.Cause != CauseWorkerConnections || !equalInts(inc.EdgeStatus, []int{520}) {
		t.Fatalf("cause %s edge %v: %s", inc.Cause, inc.EdgeStatus, inc.Summary)
	}
	if !contains(inc.Summary, "(16)") {
		t.Errorf("summary does not name the limit: %s", inc.Summary)
	}
}

// TestCapturedHTTPBackendKilled: nginx proxy_pass to an HTTP app server that
// was SIGKILLed with 3 requests in flight (premature close, a FIN), then
// refused connections for 2 s until it was started again.
func TestCapturedHTTPBackendKilled(t *testing.T) {
	inc := one(t, run(t, DefaultConfig(), captured(t, "http-backend-killed", false)))
	if inc.Cause != CauseUpstreamCrash || inc.Statuses["502"] != 29 || !equalInts(inc.EdgeStatus, []int{502}) {
		t.Fatalf("cause %s statuses %v edge %v: %s", inc.Cause, inc.Statuses, inc.EdgeStatus, inc.Summary)
	}
	if len(inc.Scope.Upstreams) != 1 || inc.Scope.Upstreams[0] != "http://127.0.0.1:19250" {
		t.Errorf("upstreams %v", inc.Scope.Upstreams)
	}
	if len(inc.Scope.Sites) != 1 || inc.Scope.Sites[0] != "shop.example.com" {
		t.Errorf("sites %v, want the error lines' server", inc.Scope.Sites)
	}
}

func contains(s, sub string) bool { return len(sub) == 0 || indexOf(s, sub) >= 0 }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// TestCapturedApachePoolExhaustedLive: the same real lines as the daemon
// reads them — each access line arrives when Apache writes it, at the end of
// the request (with its proxy error), though it is stamped with its start.
// The live findings must name the exhausted pool as soon as the error lines
// are read, not only the closed incident a gap later.
func TestCapturedApachePoolExhaustedLive(t *testing.T) {
	in := captured(t, "apache-pool-exhausted", true)
	var access, errs, other []Input
	for _, i := range in {
		switch {
		case i.Type == parsers.TypeApacheAccess && i.Event.Status == 504:
			access = append(access, i)
		case i.Type == parsers.TypeApacheError && i.Event.Signal == parsers.SigApacheTimeout:
			errs = append(errs, i)
		default:
			other = append(other, i)
		}
	}
	if len(access) == 0 || len(access) != len(errs) {
		t.Fatalf("%d access lines, %d proxy errors: the capture should pair them", len(access), len(errs))
	}
	// Arrival: php-fpm's and other lines when logged; each access line
	// with the proxy error of its request (the i-th of each, in order).
	type arrival struct {
		at time.Time
		in Input
	}
	var feed []arrival
	for _, i := range other {
		feed = append(feed, arrival{i.Event.Time, i})
	}
	// As on the stock host: the requests give up together, so every error
	// line is read within half a second, before the first status settles.
	for k := range access {
		at := errs[0].Event.Time.Add(time.Duration(k) * 20 * time.Millisecond)
		feed = append(feed, arrival{at, errs[k]}, arrival{at, access[k]})
	}
	sort.SliceStable(feed, func(i, j int) bool { return feed[i].at.Before(feed[j].at) })

	cfg := DefaultConfig()
	cfg.Emit = true
	cfg.Settle = time.Second // as the daemon sets it
	c := New(cfg)
	var live, closed []Update
	for _, f := range feed {
		for _, u := range c.Tick(f.at) {
			if u.State == Closed {
				closed = append(closed, u)
			} else {
				live = append(live, u)
			}
		}
		in := f.in
		c.Observe(&in)
	}
	last := feed[len(feed)-1].at
	for _, at := range []time.Time{last.Add(2 * time.Second), last.Add(cfg.Gap + 10*time.Second)} {
		for _, u := range c.Tick(at) {
			if u.State == Closed {
				closed = append(closed, u)
			} else {
				live = append(live, u)
			}
		}
	}
	named := false
	for _, u := range live {
		named = named || u.Incident.Cause == CausePoolExhausted
	}
	if !named {
		for _, u := range live {
			t.Logf("%v %s: %s", u.State, u.Incident.Cause, u.Incident.Summary)
		}
		t.Errorf("no live finding named %s before the incident closed", CausePoolExhausted)
	}
	if len(closed) != 1 || closed[0].Incident.Cause != CausePoolExhausted {
		t.Errorf("closed: %+v", closed)
	}
}
