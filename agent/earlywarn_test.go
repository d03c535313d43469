package agent

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/agent/finding"
	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/nginx"
	"github.com/origin-agent/origin-agent/parsers/phpfpm"
)

// examplePool is php-fpm's log of a real pool exhaustion (pm.max_children
// 3, a slow report.php) captured by examples/generate.sh.
const examplePool = "../examples/nginx-pool-exhausted/"

func readLines(t *testing.T, p string) []string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

func TestPoolWarnings(t *testing.T) {
	parse := phpfpm.New(parsers.Options{Location: time.UTC})
	w := newPoolWarnings("web1", 5*time.Minute)
	var got []finding.Finding
	var at []int
	for i, l := range readLines(t, examplePool+"php-fpm.log") {
		ev, err := parse([]byte(l))
		if err != nil {
			continue
		}
		in := correlate.Input{Type: parsers.TypePHPFPM, Event: ev, Path: "/var/log/php8.2-fpm.log", Line: int64(i + 1), Text: []byte(l)}
		if f, ok := w.observe(&in); ok {
			got = append(got, f)
			at = append(at, i+1)
		}
	}
	if len(got) != 1 || at[0] != 14 {
		t.Fatalf("warnings at lines %v: %+v", at, got)
	}
	f := got[0]
	if f.Kind != finding.KindCheck || f.State != finding.StateFailing || f.Severity != finding.SeverityWarning ||
		f.Cause != correlate.CausePoolSaturated || f.Check != "php_fpm.pool_saturated.www" {
		t.Errorf("finding: %+v", f)
	}
	for _, want := range []string{"php-fpm pool www reached pm.max_children (3)", "/tmp/origin-examples.bqnXWI/www/report.php is running slow (executing too slow 2 time(s))"} {
		if !strings.Contains(f.Summary, want) {
			t.Errorf("summary lacks %q: %s", want, f.Summary)
		}
	}
	if len(f.Evidence) != 2 || f.Evidence[0].Line != 14 || !strings.Contains(f.Evidence[1].Text, "executing too slow") || !strings.HasPrefix(f.Remediation, "Make report.php faster") {
		t.Errorf("evidence %+v, fix %q", f.Evidence, f.Remediation)
	}
	warned := time.Date(2026, 11, 22, 17, 12, 33, 0, time.UTC)

	inc := func(start time.Time) correlate.Incident {
		return correlate.Incident{Start: start, End: start.Add(20 * time.Second)}
	}
	if r := w.related(inc(warned.Add(time.Minute)), 2*time.Minute); !slices.Equal(r, []string{f.ID}) {
		t.Errorf("incident a minute later: related %q, want %q", r, f.ID)
	}
	if r := w.related(inc(warned.Add(-time.Hour)), 2*time.Minute); len(r) != 0 {
		t.Errorf("incident an hour before: related %q", r)
	}

	if res := w.tick(warned.Add(5*time.Minute - time.Second)); len(res) != 0 {
		t.Fatalf("resolved after %v quiet: %+v", 5*time.Minute-time.Second, res)
	}
	res := w.tick(warned.Add(5 * time.Minute))
	if len(res) != 1 || res[0].State != finding.StateResolved || res[0].IncidentID != f.IncidentID || !strings.HasPrefix(res[0].Summary, "resolved: php-fpm pool www") {
		t.Fatalf("resolution: %+v", res)
	}
	// Still linked for an incident that closes after the resolution.
	if r := w.related(inc(warned.Add(90*time.Second)), 2*time.Minute); !slices.Equal(r, []string{f.ID}) {
		t.Errorf("after resolution: related %q", r)
	}
	// A new saturation later is a new warning with its own id.
	l := "[22-Nov-2026 17:30:00] WARNING: [pool www] server reached pm.max_children setting (3), consider raising it"
	ev, _ := parse([]byte(l))
	f2, ok := w.observe(&correlate.Input{Type: parsers.TypePHPFPM, Event: ev, Text: []byte(l)})
	if !ok || f2.ID == f.ID || strings.Contains(f2.Summary, "running slow") {
		t.Errorf("second saturation: %v %+v (the slow lines of 17:12 are stale by 17:30)", ok, f2)
	}
}

var stamp = regexp.MustCompile(`^\[\d\d-[A-Za-z]{3}-\d{4} \d\d:\d\d:\d\d\]`)

// TestEarlyWarningLive: the daemon tails real php-fpm, nginx error and
// access lines (the pool exhaustion example, re-stamped to now). The
// early warning is reported as soon as php-fpm's line is read, while no
// gateway status exists yet; the 502 incident that follows carries its id
// in related; the warning resolves once the pool has been quiet for
// PoolQuiet.
func TestEarlyWarningLive(t *testing.T) {
	dir := t.TempDir()
	fpmLog := filepath.Join(dir, "php8.2-fpm.log")
	access := filepath.Join(dir, "access.log")
	errlog := filepath.Join(dir, "error.log")
	for _, p := range []string{fpmLog, access, errlog} {
		os.WriteFile(p, nil, 0o644)
	}
	out := newCollect()
	startAgent(t, Options{
		StateDir: filepath.Join(dir, "state"),
		Host:     "web1",
		Watches: append(nginxWatches(access, errlog),
			Watch{Path: fpmLog, Type: parsers.TypePHPFPM, Parse: phpfpm.New(parsers.Options{Location: time.Local})}),
		Correlate: liveCorrelate(),
		PoolQuiet: 3 * time.Second,
		Emitters:  []Emitter{out},
		Log:       testLog(t),
	})

	now := time.Now()
	fpmStamp := "[" + now.Local().Format("02-Jan-2006 15:04:05") + "]"
	for _, l := range readLines(t, examplePool+"php-fpm.log")[5:14] { // the slow report.php lines, then max_children
		appendLine(t, fpmLog, stamp.ReplaceAllString(l, fpmStamp))
	}
	warn, latency := out.wait(t, 5*time.Second, func(f finding.Finding) bool { return f.Cause == correlate.CausePoolSaturated })
	t.Logf("early warning after %v: %s", latency, warn.Summary)
	if warn.State != finding.StateFailing || !strings.Contains(warn.Summary, "pool www reached pm.max_children (3)") || !strings.Contains(warn.Summary, "report.php is running slow") {
		t.Errorf("warning: %+v", warn)
	}
	out.mu.Lock()
	for _, f := range out.fs {
		if f.Kind == finding.KindIncident {
			t.Errorf("an incident before any gateway status: %+v", f)
		}
	}
	out.mu.Unlock()

	// The 502s that follow (nginx: connect() … (11: Resource temporarily
	// unavailable) to the full pool's socket).
	errLines := readLines(t, examplePool+"error.log")
	accLines := readLines(t, examplePool+"access.log")
	for i := 0; i < 3; i++ {
		appendLine(t, errlog, now.Local().Format("2006/01/02 15:04:05")+errLines[6+i][len("2026/11/22 17:12:31"):])
		appendLine(t, access, strings.Replace(accLines[40+i], "22/Nov/2026:17:12:31 +0000", now.UTC().Format("02/Jan/2006:15:04:05 -0700"), 1))
	}
	inc, _ := out.wait(t, 5*time.Second, func(f finding.Finding) bool { return f.Kind == finding.KindIncident })
	if !slices.Contains(inc.Related, warn.ID) {
		t.Errorf("incident %s (%s) related %q, want the warning %s", inc.ID, inc.Cause, inc.Related, warn.ID)
	}
	res, _ := out.wait(t, 10*time.Second, func(f finding.Finding) bool {
		return f.Cause == correlate.CausePoolSaturated && f.State == finding.StateResolved
	})
	if res.IncidentID != warn.IncidentID {
		t.Errorf("resolved %+v, warning %+v", res, warn)
	}
}

// BenchmarkPoolWarningsObserve: every line read passes through observe;
// the access lines that dominate must cost nothing.
func BenchmarkPoolWarningsObserve(b *testing.B) {
	w := newPoolWarnings("web1", DefaultPoolQuiet)
	line := []byte(`203.0.113.7 - - [22/Nov/2026:17:12:30 +0000] "GET / HTTP/1.1" 200 702 "-" "curl/8.0"`)
	ev, err := nginx.NewAccess(nginx.Combined(), parsers.Options{})(line)
	if err != nil {
		b.Fatal(err)
	}
	slow := []byte(`[22-Nov-2026 17:12:32] WARNING: [pool www] child 21153, script '/var/www/report.php' (request: "GET /report.php") executing too slow (1.065748 sec), logging`)
	fev, err := phpfpm.New(parsers.Options{Location: time.UTC})(slow)
	if err != nil {
		b.Fatal(err)
	}
	access := correlate.Input{Type: parsers.TypeNginxAccess, Event: ev, Text: line}
	fpm := correlate.Input{Type: parsers.TypePHPFPM, Event: fev, Text: slow}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%100 == 0 {
			w.observe(&fpm)
		} else {
			w.observe(&access)
		}
	}
}
