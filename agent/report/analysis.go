// Package report renders analyses and audits for people (text, HTML) and
// for programs (JSON, whose shape is a documented contract).
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/origin-agent/origin-agent/agent/analyze"
	"github.com/origin-agent/origin-agent/agent/correlate"
)

// AnalysisSchema is the JSON schema id of `analyze --format json`.
const AnalysisSchema = "origin-agent/analysis/v1"

type jsonAnalysis struct {
	Schema    string               `json:"schema"`
	Files     []analyze.FileReport `json:"files"`
	Incidents []jsonIncident       `json:"incidents"`
	Ignored   []string             `json:"ignored,omitempty"`
}

type jsonIncident struct {
	Case string `json:"case,omitempty"`
	correlate.Incident
}

// AnalysisJSON writes res as one analysis/v1 document. Cases are flattened:
// every incident carries its case's name when there are several.
func AnalysisJSON(w io.Writer, res *analyze.Result) error {
	doc := jsonAnalysis{Schema: AnalysisSchema, Files: []analyze.FileReport{}, Incidents: []jsonIncident{}}
	for _, c := range res.Cases {
		doc.Files = append(doc.Files, c.Files...)
		doc.Ignored = append(doc.Ignored, c.Ignored...)
		for _, inc := range c.Incidents {
			if inc.Evidence == nil {
				inc.Evidence = []correlate.Evidence{}
			}
			if inc.EdgeStatus == nil {
				inc.EdgeStatus = []int{}
			}
			inc.Scope = nonNilScope(inc.Scope)
			doc.Incidents = append(doc.Incidents, jsonIncident{Case: c.Name, Incident: inc})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// nonNilScope makes the lists of sc empty rather than null in JSON.
func nonNilScope(sc correlate.Scope) correlate.Scope {
	e := correlate.EmptyScope()
	if sc.Sites != nil {
		e.Sites = sc.Sites
	}
	if sc.Pools != nil {
		e.Pools = sc.Pools
	}
	if sc.Upstreams != nil {
		e.Upstreams = sc.Upstreams
	}
	if sc.Paths != nil {
		e.Paths = sc.Paths
	}
	return e
}

// textEvidence is how many evidence lines the text report shows per incident.
const textEvidence = 3

// AnalysisText writes what an admin reads at 3 a.m.: per incident when, how
// many, the cause in plain words, the best evidence lines and the fix; then
// what was read.
func AnalysisText(w io.Writer, res *analyze.Result) error {
	pw := &errWriter{w: neutralWriter{w}}
	total := 0
	for _, c := range res.Cases {
		total += len(c.Incidents)
	}
	for ci, c := range res.Cases {
		if ci > 0 {
			pw.printf("\n")
		}
		if c.Name != "" {
			pw.printf("== %s ==\n", c.Name)
		}
		if len(c.Incidents) == 0 {
			pw.printf("No incidents: no burst of 502/503/504 in the logs read.\n")
		}
		for i, inc := range c.Incidents {
			writeIncident(pw, i+1, len(c.Incidents), inc)
		}
		writeFiles(pw, c)
	}
	if len(res.Cases) > 1 {
		pw.printf("\n%d incident(s) in %d case(s).\n", total, len(res.Cases))
	}
	return pw.err
}

func writeIncident(pw *errWriter, n, of int, inc correlate.Incident) {
	dur := inc.End.Sub(inc.Start).Round(time.Second)
	pw.printf("Incident %d of %d: %s\n", n, of, inc.Cause)
	if len(inc.EdgeStatus) > 0 {
		pw.printf("  edge:     Cloudflare showed visitors %s\n", joinInts(inc.EdgeStatus))
	}
	if w := scopeText(inc.Scope); w != "" {
		pw.printf("  where:    %s\n", w)
	}
	pw.printf("  when:     %s → %s (%s)\n", inc.Start.Format("2006-01-02 15:04:05Z07:00"), inc.End.Format("15:04:05"), dur)
	if st := statuses(inc.Statuses); st != "" {
		pw.printf("  errors:   %s of %d requests\n", st, inc.Requests)
	} else {
		pw.printf("  errors:   none in the access log (%d requests)\n", inc.Requests)
	}
	pw.printf("  cause:    %s (confidence %.0f%%)\n", inc.Cause.Describe(), inc.Confidence*100)
	pw.printf("  summary:  %s\n", inc.Summary)
	shown := 0
	for _, e := range bestEvidence(inc.Evidence) {
		if shown == 0 {
			pw.printf("  evidence:\n")
		}
		pw.printf("    %s:%d: %s\n", e.Path, e.Line, oneLine(e.Text, 220))
		shown++
	}
	pw.printf("  fix:      %s\n\n", inc.Remediation)
}

// bestEvidence prefers the deciding lines (kernel, php-fpm, proxy errors)
// over the access lines that only show the status.
func bestEvidence(ev []correlate.Evidence) []correlate.Evidence {
	var first, rest []correlate.Evidence
	for _, e := range ev {
		if strings.Contains(e.Path, "access") {
			rest = append(rest, e)
		} else {
			first = append(first, e)
		}
	}
	out := append(first, rest...)
	if len(out) > textEvidence {
		out = out[:textEvidence]
	}
	return out
}

func statuses(m map[string]int) string {
	var parts []string
	for _, s := range []string{"502", "503", "504", "499"} {
		if m[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d×%s", m[s], s))
		}
	}
	return strings.Join(parts, ", ")
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// scopeText is an incident's scope on one line: "site shop.example.com ·
// pool www · upstream unix:/run/php/php8.2-fpm.sock · paths /checkout.php (9)".
func scopeText(sc correlate.Scope) string {
	var parts []string
	if len(sc.Sites) > 0 {
		parts = append(parts, "site "+strings.Join(sc.Sites, ", "))
	}
	if len(sc.Pools) > 0 {
		parts = append(parts, "pool "+strings.Join(sc.Pools, ", "))
	}
	if len(sc.Upstreams) > 0 {
		parts = append(parts, "upstream "+strings.Join(sc.Upstreams, ", "))
	}
	if len(sc.Paths) > 0 {
		p := make([]string, len(sc.Paths))
		for i, c := range sc.Paths {
			p[i] = fmt.Sprintf("%s (%d)", c.Path, c.Count)
		}
		parts = append(parts, "paths "+strings.Join(p, ", "))
	}
	return strings.Join(parts, " · ")
}

func writeFiles(pw *errWriter, c analyze.Case) {
	pw.printf("Files read:\n")
	for _, f := range c.Files {
		t := string(f.Type)
		if t == "" {
			t = "(empty)"
		}
		if f.Format != "" && f.Format != t {
			t += "/" + f.Format
		}
		pw.printf("  %-22s %-42s %8d lines, %d parsed, %d skipped\n", t, f.Path, f.Lines, f.Parsed, f.Skipped)
		for _, s := range f.FirstSkipped {
			pw.printf("      skipped line %d (%s): %s\n", s.Line, s.Reason, oneLine(s.Text, 120))
		}
		if f.Error != "" {
			pw.printf("      error: %s\n", f.Error)
		}
	}
	for _, p := range c.Ignored {
		pw.printf("  %-22s %s\n", "(not a log)", p)
	}
}

func oneLine(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '·'
		}
		return r
	}, s)
	if len([]rune(s)) > max {
		return string([]rune(s)[:max]) + "…"
	}
	return s
}

type errWriter struct {
	w   io.Writer
	err error
}

func (p *errWriter) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}
