package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/checks"
	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/agent/finding"
	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/nginx"
)

// collect is an Emitter that keeps findings for assertions.
type collect struct {
	mu sync.Mutex
	fs []finding.Finding
	ch chan finding.Finding
}

func newCollect() *collect { return &collect{ch: make(chan finding.Finding, 100)} }

func (c *collect) Emit(_ context.Context, f finding.Finding) error {
	c.mu.Lock()
	c.fs = append(c.fs, f)
	c.mu.Unlock()
	c.ch <- f
	return nil
}

// wait returns the first finding matching ok within d.
func (c *collect) wait(t *testing.T, d time.Duration, ok func(finding.Finding) bool) (finding.Finding, time.Duration) {
	t.Helper()
	start := time.Now()
	deadline := time.After(d)
	for {
		select {
		case f := <-c.ch:
			if ok(f) {
				return f, time.Since(start)
			}
		case <-deadline:
			t.Fatalf("no matching finding within %v; got %d findings", d, len(c.fs))
			return finding.Finding{}, 0
		}
	}
}

func appendLine(t *testing.T, path, line string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.WriteString(f, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// TestLivePipeline: lines appended to real files while the agent runs make
// an incident that opens within seconds of the first 502 and closes after
// the gap, and positions survive a restart without re-reporting.
func TestLivePipeline(t *testing.T) {
	dir := t.TempDir()
	access := filepath.Join(dir, "access.log")
	errlog := filepath.Join(dir, "error.log")
	appendLine(t, access, `198.51.100.1 - - [20/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.0"`)
	appendLine(t, errlog, `2026/11/20 10:00:00 [notice] 1#1: start worker processes`)

	out := newCollect()
	opt := Options{
		StateDir:      filepath.Join(dir, "state"),
		Host:          "web1",
		Watches:       nginxWatches(access, errlog),
		Correlate:     liveCorrelate(),
		MetricsListen: "127.0.0.1:0",
		Emitters:      []Emitter{out},
		Log:           testLog(t),
	}
	a, stop := startAgent(t, opt)

	now := time.Now()
	for i := 0; i < 3; i++ {
		ts := now
		client := fmt.Sprintf("203.0.113.%d", i+1)
		appendLine(t, errlog, ts.Local().Format("2006/01/02 15:04:05")+` [error] 12#12: *`+fmt.Sprint(i+5)+` connect() to unix:/run/php/php8.2-fpm.sock failed (111: Connection refused) while connecting to upstream, client: `+client+`, server: _, request: "GET /x.php HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "example.com"`)
		appendLine(t, access, client+` - - [`+ts.UTC().Format("02/Jan/2006:15:04:05 -0700")+`] "GET /x.php HTTP/1.1" 502 157 "-" "curl/8.0"`)
	}
	written := time.Now()
	// The first finding may carry a provisional cause (the error log can be
	// read a poll later than the access log); the right cause must follow
	// within seconds, before the incident closes.
	opened, latency := out.wait(t, 5*time.Second, func(f finding.Finding) bool {
		return f.State != finding.StateClosed && f.Cause == correlate.CauseUpstreamDown
	})
	t.Logf("upstream_down reported after %v (from the last line written): %s", latency, opened.Summary)
	if opened.Host != "web1" || opened.Schema != finding.Schema || len(opened.Evidence) == 0 {
		t.Errorf("finding: %+v", opened)
	}
	closed, _ := out.wait(t, 10*time.Second, func(f finding.Finding) bool { return f.State == finding.StateClosed })
	if closed.IncidentID != opened.IncidentID || closed.Statuses["502"] != 3 || closed.ID == opened.ID {
		t.Errorf("closed finding: %+v (opened id %s)", closed, opened.IncidentID)
	}
	_ = written
	// Evidence cites line numbers, as analyze does: the line of that
	// number in the file is the cited text (the files had a line before
	// the agent started, which the first start counts).
	for _, e := range closed.Evidence {
		data, err := os.ReadFile(e.Path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		if e.Line < 1 || e.Offset != 0 || int(e.Line) > len(lines) || lines[e.Line-1] != e.Text {
			t.Errorf("evidence %s line %d (offset %d) does not cite %q", e.Path, e.Line, e.Offset, e.Text)
		}
	}

	// /healthz and /metrics answer.
	// (the listener address is chosen by the kernel: read it from the log is
	// not needed, the handler is tested directly)
	rec := httpGet(t, a.httpHandler(), "/healthz")
	if !strings.Contains(rec, "ok") {
		t.Errorf("healthz: %q", rec)
	}
	if m := httpGet(t, a.httpHandler(), "/metrics"); !strings.Contains(m, `origin_agent_incidents_total{cause="upstream_down"} 1`) ||
		!strings.Contains(m, "origin_agent_lines_read_total") {
		t.Errorf("metrics lack counters:\n%s", m)
	}

	stop()

	// The closed incident's end is kept for the next start (Resume).
	if end, err := loadLastIncident(opt.StateDir); err != nil || !end.Equal(closed.End) {
		t.Errorf("saved last incident end %v, %v; want the closed finding's %v", end, err, closed.End)
	}

	// Restart: positions were flushed, nothing is re-read, nothing re-reported.
	out2 := newCollect()
	opt.Emitters = []Emitter{out2}
	opt.MetricsListen = ""
	a2, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel2()
	a2.Run(ctx2)
	if len(out2.fs) != 0 {
		t.Errorf("after restart %d findings were re-reported: %+v", len(out2.fs), out2.fs)
	}
}

func httpGet(t *testing.T, h http.Handler, path string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", path, nil)
	w := &respRecorder{header: http.Header{}}
	h.ServeHTTP(w, req)
	return w.body.String()
}

type respRecorder struct {
	header http.Header
	body   strings.Builder
	code   int
}

func (r *respRecorder) Header() http.Header         { return r.header }
func (r *respRecorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *respRecorder) WriteHeader(c int)           { r.code = c }

// TestCheckFindings: a check turning bad emits a failing finding once, and a
// resolved one when it turns good.
func TestCheckFindings(t *testing.T) {
	a, err := New(Options{StateDir: t.TempDir(), Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	out := newCollect()
	a.opt.Emitters = []Emitter{out}
	bad := checks.Check{ID: "listener.443", Status: checks.Fail, Cause: correlate.CauseListenerDown, Summary: "nothing listens on :443"}
	a.checkResults(context.Background(), []checks.Check{bad})
	a.checkResults(context.Background(), []checks.Check{bad})
	a.checkResults(context.Background(), []checks.Check{{ID: "listener.443", Status: checks.Skip}})
	a.checkResults(context.Background(), []checks.Check{{ID: "listener.443", Status: checks.Pass}})
	if len(out.fs) != 2 || out.fs[0].State != finding.StateFailing || out.fs[1].State != finding.StateResolved ||
		out.fs[0].IncidentID != out.fs[1].IncidentID || out.fs[0].Cause != correlate.CauseListenerDown || out.fs[1].Cause != correlate.CauseListenerDown {
		t.Fatalf("findings: %+v", out.fs)
	}
	if !strings.Contains(string(out.fs[0].Context), `"mem_total_bytes":`) || out.fs[1].Context != nil {
		t.Errorf("host context: failing %s, resolved %s", out.fs[0].Context, out.fs[1].Context)
	}
}

// A health result becomes kind health, severity warning, also when its
// check would be critical.
func TestHealthFinding(t *testing.T) {
	a, err := New(Options{StateDir: t.TempDir(), Host: "h"})
	if err != nil {
		t.Fatal(err)
	}
	out := newCollect()
	a.opt.Emitters = []Emitter{out}
	bad := checks.Check{ID: "health.file:/var/log/php8.2-fpm.log", Status: checks.Warn, Cause: checks.CauseCannotObserve, Summary: "cannot read", Fix: []string{"systemctl enable --now origin-agent-logaccess.path"}}
	for range 3 {
		a.checkResults(context.Background(), []checks.Check{bad})
	}
	a.checkResults(context.Background(), []checks.Check{checks.Passed(bad.ID, "readable")})
	if len(out.fs) != 2 {
		t.Fatalf("findings: %+v", out.fs)
	}
	for _, f := range out.fs {
		if f.Kind != finding.KindHealth || f.Severity != finding.SeverityWarning || f.Cause != checks.CauseCannotObserve || f.Remediation != bad.Fix[0] {
			t.Errorf("finding: %+v", f)
		}
	}
	if out.fs[0].State != finding.StateFailing || out.fs[1].State != finding.StateResolved {
		t.Errorf("states %s %s", out.fs[0].State, out.fs[1].State)
	}
}

// liveCorrelate is the correlator of the live tests: a 2 s gap (incidents
// close quickly) and the 1 s settle `origin-agent run` sets.
func liveCorrelate() correlate.Config {
	cfg := correlate.DefaultConfig()
	cfg.Gap = 2 * time.Second
	cfg.Settle = time.Second
	return cfg
}

// nginxWatches read an nginx access log (combined) and its error log.
func nginxWatches(access, errlog string) []Watch {
	return []Watch{
		{Path: access, Type: parsers.TypeNginxAccess, Parse: nginx.NewAccess(nginx.Combined(), parsers.Options{})},
		{Path: errlog, Type: parsers.TypeNginxError, Parse: nginx.NewError(parsers.Options{Location: time.Local})},
	}
}

// startAgent runs New(opt) and returns once its sources had the time to
// choose where to start (the end of each file). stop cancels Run and fails
// the test when it does not return within 5 s or returns an error; it runs
// at the test's end too, and only once.
func startAgent(t *testing.T, opt Options) (a *Agent, stop func()) {
	t.Helper()
	a, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("Run did not return within 5 s of cancel")
			}
		})
	}
	t.Cleanup(stop)
	time.Sleep(600 * time.Millisecond)
	return a, stop
}
