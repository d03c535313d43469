package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/origin-agent/origin-agent/agent/analyze"
	"github.com/origin-agent/origin-agent/agent/correlate"
)

// Characters a request can put in a log line that make a report show
// something else than it holds: a right-to-left override (U+202E) that
// reverses what follows, an isolate, a terminal escape that clears the
// screen, a C1 CSI, a line separator.
var trojans = []string{"\u202e", "\u2066", "\u200f", "\x1b[2J", "\u009b31m", "\u2028", "\x07"}

func trojanResult() *analyze.Result {
	bad := strings.Join(trojans, "x")
	tl := &analyze.Timeline{Start: t0, Step: time.Second, First: t0, Last: t0.Add(9 * time.Second), Buckets: make([]analyze.Bucket, 10)}
	tl.Buckets[4][analyze.Class502] = 7
	tl.Markers = []analyze.Marker{{Time: t0.Add(4 * time.Second), Kind: analyze.MarkOOMKill, Label: "OOM kill: php" + bad,
		Evidence: correlate.Evidence{Time: t0.Add(4 * time.Second), Path: "kern.log", Line: 3, Text: "Killed process 1 (php" + bad + ")"}}}
	tl.MarkerCounts[analyze.MarkOOMKill] = 1
	inc := correlate.Incident{
		Start: t0.Add(4 * time.Second), End: t0.Add(5 * time.Second), Statuses: map[string]int{"502": 7},
		Requests: 27, Cause: correlate.CauseOOMKill, Confidence: 0.9,
		Summary:  "worker php" + bad + " was killed",
		Evidence: []correlate.Evidence{{Time: t0.Add(4 * time.Second), Path: "access.log", Line: 9, Text: `203.0.113.7 - - "GET /a` + bad + `gpj.exe HTTP/1.1" 502 157`}},
		Hosts:    []correlate.Count{{Value: "shop" + bad, N: 3}},
		Paths:    []correlate.Count{{Value: "/a" + bad, N: 7}},
	}
	return &analyze.Result{Cases: []analyze.Case{{
		Incidents: []correlate.Incident{inc},
		Timeline:  tl,
		Files: []analyze.FileReport{{Path: "access" + bad + ".log", Type: "nginx_access", Format: "combined", Lines: 10, Parsed: 9, Skipped: 1,
			FirstSkipped: []analyze.Skipped{{Line: 1, Text: "junk" + bad, Reason: "line does not match"}}}},
		Ignored: []string{"README" + bad},
	}}}
}

// TestReportsNeutralizeControls: no bidi control, terminal escape or other
// control character from a log reaches a text or HTML report; each is shown
// as [U+XXXX], and ordinary non-ASCII text passes unchanged.
func TestReportsNeutralizeControls(t *testing.T) {
	res := trojanResult()
	var text bytes.Buffer
	if err := AnalysisText(&text, res); err != nil {
		t.Fatal(err)
	}
	html := renderHTML(t, res)
	for name, out := range map[string]string{"text": text.String(), "html": html} {
		for _, c := range []string{"\u202e", "\u2066", "\u200f", "\x1b", "\u009b", "\u2028", "\x07"} {
			if strings.Contains(out, c) {
				t.Errorf("%s report holds %+q", name, c)
			}
		}
		for _, want := range []string{"[U+202E]", "[U+2066]", "[U+001B]", "[U+009B]"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s report does not show %s", name, want)
			}
		}
	}
	if got := string(neutralize([]byte("café → 5×502 …\tok\n"))); got != "café → 5×502 …\tok\n" {
		t.Errorf("ordinary text changed: %q", got)
	}
	if got := string(neutralize([]byte("a\xff\u202eb"))); got != "a\xff[U+202E]b" {
		t.Errorf("invalid UTF-8 next to a control: %q", got)
	}
}

// FuzzNeutralize: whatever the bytes, no hidden character survives, and
// text without one passes unchanged.
func FuzzNeutralize(f *testing.F) {
	for _, s := range append(trojans, "café", "a\xffb", "\xe2\x80", "plain\tline\n") {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out := neutralize(b)
		for i := 0; i < len(out); {
			r, n := utf8.DecodeRune(out[i:])
			if r != utf8.RuneError && hidden(r) {
				t.Fatalf("%q → %q keeps %U", b, out, r)
			}
			i += n
		}
		clean := true
		for i := 0; i < len(b); {
			r, n := utf8.DecodeRune(b[i:])
			if r != utf8.RuneError && hidden(r) {
				clean = false
			}
			i += n
		}
		if clean && !bytes.Equal(out, b) {
			t.Fatalf("%q changed to %q", b, out)
		}
	})
}
