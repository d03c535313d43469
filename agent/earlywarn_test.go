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
