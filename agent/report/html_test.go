package report

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/analyze"
	"github.com/origin-agent/origin-agent/agent/correlate"
)

const (
	xssScript = `<script>alert(1)</script>`
	xssImg    = `"><img src=x onerror=alert(1)>`
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// hostileResult is an analysis whose every log-derived string is an attack.
func hostileResult() *analyze.Result {
	tl := &analyze.Timeline{Start: t0, Step: time.Second, First: t0, Last: t0.Add(9 * time.Second),
		Buckets: make([]analyze.Bucket, 10)}
	for i := range tl.Buckets {
		tl.Buckets[i][analyze.ClassOK] = 20
	}
	tl.Buckets[4][analyze.Class502] = 7
	tl.Markers = []analyze.Marker{{Time: t0.Add(4 * time.Second), Kind: analyze.MarkOOMKill, Label: "OOM kill: " + xssScript,
		Evidence: correlate.Evidence{Time: t0.Add(4 * time.Second), Path: "kern.log" + xssImg, Line: 3, Text: "Killed process 1 " + xssScript + xssImg}}}
	tl.MarkerCounts[analyze.MarkOOMKill] = 1
	inc := correlate.Incident{
		Start: t0.Add(4 * time.Second), End: t0.Add(5 * time.Second), Statuses: map[string]int{"502": 7},
		Requests: 27, Cause: correlate.CauseOOMKill, Confidence: 0.9,
		Summary:     "worker " + xssScript + " was killed",
		Remediation: "raise memory `" + xssImg + "` and " + xssScript,
		Evidence: []correlate.Evidence{
			{Time: t0.Add(4 * time.Second), Path: "access.log", Line: 9, Text: `203.0.113.7 - - [20/Nov/2026:10:00:04 +0000] "GET /` + xssScript + ` HTTP/1.1" 502 157 "` + xssImg + `" "curl/8.0"`},
			{Time: t0.Add(4 * time.Second), Path: "error.log", Line: 2, Text: `recv() failed (104: Connection reset by peer) ` + xssImg},
		},
		Hosts: []correlate.Count{{Value: xssImg, N: 3}},
		Paths: []correlate.Count{{Value: "/" + xssScript, N: 7}},
	}
	return &analyze.Result{Cases: []analyze.Case{{
		Name:      "case " + xssScript,
		Incidents: []correlate.Incident{inc},
		Timeline:  tl,
		Files: []analyze.FileReport{{Path: "access.log", Type: "nginx_access", Format: "combined", Lines: 10, Parsed: 9, Skipped: 1,
			FirstSkipped: []analyze.Skipped{{Line: 1, Text: xssScript + xssImg, Reason: "line does not match " + xssImg}}}},
		Ignored: []string{"README" + xssImg},
	}}}
}

func renderHTML(t testing.TB, res *analyze.Result) string {
	t.Helper()
	var b bytes.Buffer
	if err := AnalysisHTML(&b, res); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestAnalysisHTMLEscapesLogText(t *testing.T) {
	res := hostileResult()
	res.Cases = append(res.Cases, res.Cases[0]) // two cases: the navigation repeats the names
	out := renderHTML(t, res)
	for _, bad := range []string{"<script", "<img"} { // escaped, "onerror=" is only text
		if i := strings.Index(out, bad); i >= 0 {
			t.Errorf("raw %q in the output: …%s…", bad, out[max(0, i-80):min(len(out), i+80)])
		}
	}
	for _, want := range []string{
		"&lt;script&gt;alert(1)&lt;/script&gt;",                    // in text
		"&#34;&gt;&lt;img src=x onerror=alert(1)&gt;",              // in text
		`<code>&#34;&gt;&lt;img src=x onerror=alert(1)&gt;</code>`, // remediation code span
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

var cardRE = regexp.MustCompile(`<article class="incident" id="[^"]*" data-cause="([^"]*)" data-start="([^"]*)" data-end="([^"]*)">`)

func TestAnalysisHTMLCardPerIncident(t *testing.T) {
	res, err := analyze.Run(context.Background(), analyze.Options{Args: []string{"../../examples"}})
	if err != nil {
		t.Fatal(err)
	}
	out := renderHTML(t, res)
	var want [][3]string
	for _, c := range res.Cases {
		for _, inc := range c.Incidents {
			want = append(want, [3]string{string(inc.Cause), inc.Start.Format(time.RFC3339Nano), inc.End.Format(time.RFC3339Nano)})
		}
	}
	if len(want) < 10 {
		t.Fatalf("examples gave only %d incidents", len(want))
	}
	got := cardRE.FindAllStringSubmatch(out, -1)
	if len(got) != len(want) {
		t.Fatalf("%d cards for %d incidents", len(got), len(want))
	}
	for i := range want {
		g := [3]string{got[i][1], got[i][2], got[i][3]}
		if g != want[i] {
			t.Errorf("card %d: %v, want %v", i, g, want[i])
		}
		for _, s := range g[1:] {
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				t.Errorf("card %d: %q is not RFC 3339: %v", i, s, err)
			}
		}
	}
	if n := strings.Count(out, "data-cause="); n != len(want) {
		t.Errorf("data-cause appears %d times, want only on the %d cards", n, len(want))
	}
	// Every case has its section and a drawn timeline.
	for i, c := range res.Cases {
		if !strings.Contains(out, fmt.Sprintf(`<section class="section" id="case-%d">`, i+1)) || !strings.Contains(out, "<h2>"+c.Name+"</h2>") {
			t.Errorf("no section for case %q", c.Name)
		}
	}
	if n := strings.Count(out, `<svg class="tl"`); n != len(res.Cases) {
		t.Errorf("%d timelines for %d cases", n, len(res.Cases))
	}
}

var attrRE = regexp.MustCompile(`(?i)\b(src|href|action|xlink:href|srcset|poster|data)\s*=\s*"([^"]*)"`)

// assertSelfContained checks that a page loads nothing: no src at all, every
// link an in-page anchor, no url() or @import in the CSS. Log text cannot
// fake or hide an attribute: its quotes are escaped.
func assertSelfContained(t *testing.T, out string) {
	t.Helper()
	for _, m := range attrRE.FindAllStringSubmatch(out, -1) {
		if strings.EqualFold(m[1], "href") && strings.HasPrefix(m[2], "#") {
			continue
		}
		t.Errorf("external reference %s=%q", m[1], m[2])
	}
	style := out[strings.Index(out, "<style>"):strings.Index(out, "</style>")]
	for _, bad := range []string{"url(", "@import", "http:", "https:"} {
		if strings.Contains(style, bad) {
			t.Errorf("style has %q", bad)
		}
	}
	for _, tag := range []string{"<link", "<iframe", "<object", "<embed", "<base", "<script", "<img", "<meta http-equiv"} {
		if strings.Contains(strings.ToLower(out), tag) {
			t.Errorf("page has %s", tag)
		}
	}
}

func TestAnalysisHTMLSelfContained(t *testing.T) {
	res, err := analyze.Run(context.Background(), analyze.Options{Args: []string{"../../examples"}})
	if err != nil {
		t.Fatal(err)
	}
	out := renderHTML(t, res)
	if !strings.Contains(out, "https://shop.example.com/") && !strings.Contains(out, "https:/") {
		t.Log("(no URL in the examples' log text)")
	}
	assertSelfContained(t, out)
	assertSelfContained(t, renderHTML(t, hostileResult()))
	if !strings.HasPrefix(out, "<!DOCTYPE html>") || !strings.Contains(out, "prefers-color-scheme: dark") || !strings.Contains(out, "@media print") {
		t.Error("page lacks doctype, dark or print styles")
	}
}

func TestAnalysisHTMLEmpty(t *testing.T) {
	cases := []struct {
		name string
		res  *analyze.Result
		want []string
	}{
		{"no cases", &analyze.Result{}, []string{"0 incidents"}},
		{"nil timeline", &analyze.Result{Cases: []analyze.Case{{Name: "x"}}}, []string{"No time-stamped lines", "No incidents"}},
		{"empty timeline", &analyze.Result{Cases: []analyze.Case{{Timeline: &analyze.Timeline{},
			Files: []analyze.FileReport{{Path: "empty.log"}}}}}, []string{"No time-stamped lines", "(empty)", "empty.log"}},
	}
	for _, c := range cases {
		out := renderHTML(t, c.res)
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: no %q in the page", c.name, w)
			}
		}
	}
}

var rectRE = regexp.MustCompile(`<rect class="(\w+)" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/>`)

func TestTimelineSVG(t *testing.T) {
	res := hostileResult()
	c := &res.Cases[0]
	out := renderHTML(t, res)
	rects := rectRE.FindAllStringSubmatch(out, -1)
	// 10 bars of 2xx and one 502 segment.
	classes := map[string]int{}
	for _, r := range rects {
		classes[r[1]]++
		if r[5] == "0.0" {
			t.Errorf("empty rect %s", r[0])
		}
	}
	if classes["ok"] != 10 || classes["s502"] != 1 || len(classes) != 2 {
		t.Errorf("bar segments %v, want 10 ok and 1 s502", classes)
	}
	// The 502 segment sits on the axis, in the fifth bar, under the 2xx one.
	v := buildTimeline(c.Timeline, c.Incidents, "case-1")
	var bar barView
	for _, b := range v.Bars {
		if strings.Contains(b.Title, "502: 7") {
			bar = b
		}
	}
	if len(bar.Rects) != 2 || bar.Rects[0].Class != "s502" || bar.Rects[1].Class != "ok" {
		t.Fatalf("502 bar: %+v", bar)
	}
	if !strings.HasPrefix(bar.Title, "10:00:04–10:00:05: 27 requests") {
		t.Errorf("bar title %q", bar.Title)
	}
	if len(v.Bands) != 1 || v.Bands[0].Href != "#case-1-incident-1" || v.Bands[0].Label != "#1 oom_kill" {
		t.Errorf("bands %+v", v.Bands)
	}
	if len(v.Markers) != 1 || v.Markers[0].Kind != "oom_kill" || !strings.Contains(v.Markers[0].Title, "kern.log") {
		t.Errorf("markers %+v", v.Markers)
	}
	// The band covers 10:00:04 to the end of 10:00:05 on a 10 s axis.
	x0, x1 := plotLeft+0.4*(plotRight-plotLeft), plotLeft+0.6*(plotRight-plotLeft)
	if v.Bands[0].X != num(x0) || v.Bands[0].W != num(x1-x0) {
		t.Errorf("band x %s w %s, want %s %s", v.Bands[0].X, v.Bands[0].W, num(x0), num(x1-x0))
	}
}

// Buckets beyond maxBars are summed into display bars; no count is lost.
func TestTimelineBarsSummed(t *testing.T) {
	tl := &analyze.Timeline{Start: t0, Step: time.Second, First: t0, Last: t0.Add(999 * time.Second), Buckets: make([]analyze.Bucket, 1000)}
	for i := range tl.Buckets {
		tl.Buckets[i][analyze.ClassOK] = 1
		tl.Buckets[i][analyze.Class504] = i % 2
	}
	v := buildTimeline(tl, nil, "c")
	if len(v.Bars) != 200 || v.Interval != "5 s" {
		t.Fatalf("%d bars of %s, want 200 of 5 s", len(v.Bars), v.Interval)
	}
	for _, b := range v.Bars {
		if !strings.Contains(b.Title, ": 7 requests") && !strings.Contains(b.Title, ": 8 requests") {
			t.Fatalf("bar %q", b.Title)
		}
	}
}

func TestHighlight(t *testing.T) {
	cases := []struct {
		in   string
		want string // marked parts in [brackets]
	}{
		{`connect() to unix:/run/php.sock failed (111: Connection refused) while connecting`, `connect() to unix:/run/php.sock failed (111: [Connection refused]) while connecting`},
		{`1.2.3.4 - - [x] "GET / HTTP/1.1" 502 157 "-" "curl"`, `1.2.3.4 - - [x] "GET / HTTP/1.1" [502] 157 "-" "curl"`},
		{`Memory cgroup out of memory: Killed process 4121 (php-fpm8.2)`, `Memory cgroup [out of memory]: [Killed process] 4121 (php-fpm8.2)`},
		{`nothing to see`, `nothing to see`},
		{``, ``},
	}
	for _, c := range cases {
		var b strings.Builder
		for _, s := range highlight(c.in) {
			if s.Mark {
				b.WriteString("[" + s.Text + "]")
			} else {
				b.WriteString(s.Text)
			}
		}
		if b.String() != c.want {
			t.Errorf("highlight(%q) = %q, want %q", c.in, b.String(), c.want)
		}
	}
}

func TestCodeSpans(t *testing.T) {
	cases := []struct{ in, want string }{
		{"run `systemctl status x` now", "run [systemctl status x] now"},
		{"`a` and `b`", "[a] and [b]"},
		{"odd ` tick", "odd ` tick"},
	}
	for _, c := range cases {
		var b strings.Builder
		for _, s := range codeSpans(c.in) {
			if s.Mark {
				b.WriteString("[" + s.Text + "]")
			} else {
				b.WriteString(s.Text)
			}
		}
		if b.String() != c.want {
			t.Errorf("codeSpans(%q) = %q, want %q", c.in, b.String(), c.want)
		}
	}
}

func TestHelpers(t *testing.T) {
	for _, c := range []struct{ n, want int }{{0, 1}, {1, 1}, {3, 5}, {7, 10}, {11, 20}, {4400, 5000}, {50001, 100000}} {
		if got := niceCeil(c.n); got != c.want {
			t.Errorf("niceCeil(%d) = %d, want %d", c.n, got, c.want)
		}
	}
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{850 * time.Millisecond, "850 ms"}, {42 * time.Second, "42 s"}, {185 * time.Second, "3 min 5 s"}, {125 * time.Minute, "2 h 5 min"}, {-time.Second, "0 s"}, {72 * time.Hour, "3 days"}} {
		if got := humanDuration(c.d); got != c.want {
			t.Errorf("humanDuration(%v) = %q, want %q", c.d, got, c.want)
		}
	}
	x := func(time.Time) float64 { return 0 }
	for _, c := range []struct {
		span  time.Duration
		first string
		n     int
	}{{7 * time.Second, "10:00:01", 7}, {75 * time.Minute, "10:10", 7}, {24 * time.Hour, "12:00", 8}, {20 * 24 * time.Hour, "Nov 23", 5}} {
		ticks := xTicks(t0.Add(500*time.Millisecond), t0.Add(c.span), x)
		if len(ticks) != c.n || ticks[0].Label != c.first {
			t.Errorf("span %v: %d ticks from %q, want %d from %q", c.span, len(ticks), ticks[0].Label, c.n, c.first)
		}
	}
}

// genLog writes n lines of a synthetic combined access log (1% gateway
// errors in 10 bursts) with agent/analyze/internal/genlog.
func genLog(t testing.TB, n int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "access.log")
	cmd := exec.Command("go", "run", "../analyze/internal/genlog", "-n", fmt.Sprint(n), "-o", p)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("genlog: %v\n%s", err, out)
	}
	return p
}

// TestAnalysisHTMLLarge renders the report of a 1M-line log (50k under
// -short), checks it stays under 1 MB and, when Chromium is there, how long
// the browser takes to load it.
func TestAnalysisHTMLLarge(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 50_000
	}
	p := genLog(t, n)
	res, err := analyze.Run(context.Background(), analyze.Options{Args: []string{p}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out := renderHTML(t, res)
	t.Logf("%d lines: %d incidents, report %d bytes, rendered in %v", n, len(res.Cases[0].Incidents), len(out), time.Since(start))
	if len(out) > 1<<20 {
		t.Errorf("report is %d bytes, want under 1 MB", len(out))
	}
	if got := len(cardRE.FindAllString(out, -1)); got != len(res.Cases[0].Incidents) || got == 0 {
		t.Errorf("%d cards for %d incidents", got, len(res.Cases[0].Incidents))
	}
	assertSelfContained(t, out)
	if testing.Short() {
		return
	}
	html := filepath.Join(t.TempDir(), "large.html")
	if err := os.WriteFile(html, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	pg := b.open(t, html)
	t.Logf("browser load of the %d-line report: %v (navigate → load event; %.0f ms by the page's own timing)", n, pg.loadWall, pg.loadMS)
	pg.assertClean(t)
	pg.screenshot(t, "large.png", "")
}

// A day of logs: one request a second with bursts, and php-fpm restarts and
// OOM kills as markers. The page stays small.
func TestAnalysisHTMLDaySize(t *testing.T) {
	dir := t.TempDir()
	var acc, fpm, kern bytes.Buffer
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for s := 0; s < 86400; s++ {
		tm := day.Add(time.Duration(s) * time.Second)
		st := 200
		if s%7200 < 20 { // a 20 s burst every two hours
			st = 502
		}
		fmt.Fprintf(&acc, "203.0.113.%d - - [%s] \"GET /p/%d HTTP/1.1\" %d 512 \"-\" \"curl/8.0\"\n", s%250, tm.Format("02/Jan/2006:15:04:05 -0700"), s%5000, st)
		if s%600 == 0 {
			fmt.Fprintf(&fpm, "[%s] NOTICE: fpm is running, pid %d\n", tm.Format("02-Jan-2006 15:04:05"), 1000+s)
			fmt.Fprintf(&fpm, "[%s] WARNING: [pool www] child %d exited on signal 9 (SIGKILL) after 12.000000 seconds from start\n", tm.Format("02-Jan-2006 15:04:05"), 2000+s)
		}
		if s%900 == 0 {
			fmt.Fprintf(&kern, "%s host kernel: [%d.000000] Out of memory: Killed process %d (php-fpm8.2) total-vm:512000kB, anon-rss:400000kB, file-rss:0kB, shmem-rss:0kB, UID:33 pgtables:900kB oom_score_adj:0\n", tm.Format("Jan _2 15:04:05"), s, 2000+s)
		}
	}
	for name, b := range map[string]*bytes.Buffer{"access.log": &acc, "php-fpm.log": &fpm, "kern.log": &kern} {
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := analyze.Run(context.Background(), analyze.Options{Args: []string{dir}, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Cases[0]
	if len(c.Incidents) != 12 || len(c.Timeline.Markers) == 0 {
		t.Fatalf("%d incidents, %d markers; files %+v", len(c.Incidents), len(c.Timeline.Markers), c.Files)
	}
	out := renderHTML(t, res)
	t.Logf("a day of logs (%d lines): %d incidents, %d markers kept, report %d bytes", 86400+len(c.Timeline.Markers), len(c.Incidents), len(c.Timeline.Markers), len(out))
	if len(out) > 1<<20 {
		t.Errorf("report is %d bytes, want under 1 MB", len(out))
	}
	assertSelfContained(t, out)
}

func BenchmarkAnalysisHTML(b *testing.B) {
	res, err := analyze.Run(context.Background(), analyze.Options{Args: []string{"../../examples"}})
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if err := AnalysisHTML(&buf, res); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := AnalysisHTML(&buf, res); err != nil {
			b.Fatal(err)
		}
	}
}
