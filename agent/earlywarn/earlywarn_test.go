package earlywarn

import (
	"os"
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
const examplePool = "../../examples/nginx-pool-exhausted/"

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
	w := New("web1", 5*time.Minute)
	var got []finding.Finding
	var at []int
	for i, l := range readLines(t, examplePool+"php-fpm.log") {
		ev, err := parse([]byte(l))
		if err != nil {
			continue
		}
		in := correlate.Input{Type: parsers.TypePHPFPM, Event: ev, Path: "/var/log/php8.2-fpm.log", Line: int64(i + 1), Text: []byte(l)}
		if f, ok := w.Observe(&in); ok {
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
	if r := w.Related(inc(warned.Add(time.Minute)), 2*time.Minute); !slices.Equal(r, []string{f.ID}) {
		t.Errorf("incident a minute later: related %q, want %q", r, f.ID)
	}
	if r := w.Related(inc(warned.Add(-time.Hour)), 2*time.Minute); len(r) != 0 {
		t.Errorf("incident an hour before: related %q", r)
	}

	if res := w.Tick(warned.Add(5*time.Minute - time.Second)); len(res) != 0 {
		t.Fatalf("resolved after %v quiet: %+v", 5*time.Minute-time.Second, res)
	}
	res := w.Tick(warned.Add(5 * time.Minute))
	if len(res) != 1 || res[0].State != finding.StateResolved || res[0].IncidentID != f.IncidentID || !strings.HasPrefix(res[0].Summary, "resolved: php-fpm pool www") {
		t.Fatalf("resolution: %+v", res)
	}
	// Still linked for an incident that closes after the resolution.
	if r := w.Related(inc(warned.Add(90*time.Second)), 2*time.Minute); !slices.Equal(r, []string{f.ID}) {
		t.Errorf("after resolution: related %q", r)
	}
	// A new saturation later is a new warning with its own id.
	l := "[22-Nov-2026 17:30:00] WARNING: [pool www] server reached pm.max_children setting (3), consider raising it"
	ev, _ := parse([]byte(l))
	f2, ok := w.Observe(&correlate.Input{Type: parsers.TypePHPFPM, Event: ev, Text: []byte(l)})
	if !ok || f2.ID == f.ID || strings.Contains(f2.Summary, "running slow") {
		t.Errorf("second saturation: %v %+v (the slow lines of 17:12 are stale by 17:30)", ok, f2)
	}
}

// BenchmarkObserve: every line read passes through Observe;
// the access lines that dominate must cost nothing.
func BenchmarkObserve(b *testing.B) {
	w := New("web1", DefaultQuiet)
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
			w.Observe(&fpm)
		} else {
			w.Observe(&access)
		}
	}
}
