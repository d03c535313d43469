package report

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/origin-agent/origin-agent/agent/analyze"
	"github.com/origin-agent/origin-agent/agent/correlate"
)

// The HTML reports are one self-contained file: a base layout (layout.html:
// document, inline CSS, header, navigation, sections) and one block
// template per kind of section (analysis.html: a case). Every log-derived
// string goes through html/template's contextual escaping; the only
// template.HTML values are the outputs of executing these templates.
//
//go:embed templates
var templateFS embed.FS

// Page is a whole HTML report: the layout around pre-rendered sections.
// Analyze and audit fill it with their own blocks.
type Page struct {
	Title    string
	Subtitle string
	Nav      []NavItem
	Sections []Section
}

// NavItem is a link in the page's table of contents.
type NavItem struct {
	Href  string // "#case-1"
	Label string
	Tags  []Tag // small labels after the link (causes, statuses)
}

// Tag is a small coloured label; Class selects its colour in the CSS.
type Tag struct {
	Class string
	Text  string
}

// Section is one part of a page: its heading and a body rendered by a block
// template (renderBlock), so it is already escaped.
type Section struct {
	ID       string
	Title    string
	Subtitle string
	Body     template.HTML
}

// htmlTemplates parses the embedded templates. Parsing on each render keeps
// the package free of mutable globals; it costs well under a millisecond.
func htmlTemplates() (*template.Template, error) {
	css, err := templateFS.ReadFile("templates/style.css")
	if err != nil {
		return nil, fmt.Errorf("read style.css: %w", err)
	}
	t := template.New("report").Funcs(template.FuncMap{
		"css": func() template.CSS { return template.CSS(css) },
	})
	t, err = t.ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse report templates: %w", err)
	}
	return t, nil
}

// renderBlock executes one block template into a Section body.
func renderBlock(t *template.Template, name string, data any) (template.HTML, error) {
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	// Safe: the output of html/template, escaped in context.
	return template.HTML(b.String()), nil
}

// renderPage writes the layout around p's sections.
func renderPage(w io.Writer, t *template.Template, p *Page) error {
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		return fmt.Errorf("render page: %w", err)
	}
	_, err := w.Write(neutralize(b.Bytes()))
	return err
}

// AnalysisHTML writes res as one self-contained HTML page: per case a
// timeline (requests by status class, incident bands, signal markers; an
// inline SVG drawn here, so it needs no script), one card per incident and
// the files read. Each card carries data-cause, data-start and data-end
// (RFC 3339) for tests and scripts.
func AnalysisHTML(w io.Writer, res *analyze.Result) error {
	t, err := htmlTemplates()
	if err != nil {
		return err
	}
	p := &Page{Title: "origin-agent incident report"}
	total := 0
	var first, last time.Time
	for _, c := range res.Cases {
		total += len(c.Incidents)
		if tl := c.Timeline; tl != nil && len(tl.Buckets) > 0 {
			if first.IsZero() || tl.First.Before(first) {
				first = tl.First
			}
			if tl.Last.After(last) {
				last = tl.Last
			}
		}
	}
	p.Subtitle = plural(total, "incident") + " of 502/503/504"
	if len(res.Cases) > 1 {
		p.Subtitle += " in " + plural(len(res.Cases), "case")
	}
	if !first.IsZero() {
		p.Subtitle += " · logs from " + stamp(first) + " to " + stamp(last.In(first.Location()))
	}
	for i, c := range res.Cases {
		v := caseView(i, &c)
		body, err := renderBlock(t, "case", v)
		if err != nil {
			return err
		}
		p.Sections = append(p.Sections, Section{ID: v.ID, Title: v.Title, Subtitle: v.Subtitle, Body: body})
		if len(res.Cases) > 1 {
			item := NavItem{Href: "#" + v.ID, Label: v.Title}
			for _, inc := range v.Incidents {
				item.Tags = append(item.Tags, Tag{Class: "cause", Text: inc.Cause})
			}
			if len(v.Incidents) == 0 {
				item.Tags = append(item.Tags, Tag{Class: "none", Text: "no incident"})
			}
			p.Nav = append(p.Nav, item)
		}
	}
	return renderPage(w, t, p)
}

const (
	stampShort = "15:04:05"
	// cardEvidenceChars bounds one evidence line in a card; cardEvidenceMany
	// is how many lines a card shows when a case has more than manyIncidents
	// incidents, to keep the page small.
	cardEvidenceChars = 1000
	cardEvidenceMany  = 3
	manyIncidents     = 100
)

// caseData is what the "case" block renders.
type caseData struct {
	ID, Title, Subtitle string
	Timeline            *timelineView
	Incidents           []incidentView
	Files               []fileView
	Ignored             []string
}

type incidentView struct {
	Anchor      string
	N           int
	Cause       string
	Describe    string
	Start, End  string // RFC 3339, for data- attributes
	When        string
	StartISO    string
	Duration    string
	Statuses    []Tag
	Edge        []Tag // what Cloudflare's visitors were shown
	Sites       []string
	Pools       []string
	Upstreams   []string
	Requests    int
	Summary     string
	Hosts       []correlate.Count
	Paths       []correlate.Count
	Evidence    []evidenceView
	Remediation []segment
	Confidence  int // percent
}

type evidenceView struct {
	Where string // path:line
	Time  string
	Src   string // log type, for the colour of the line
	Text  []segment
}

// segment is a piece of text, marked (highlighted / code) or not.
type segment struct {
	Text string
	Mark bool
}

type fileView struct {
	Path, Type, Format  string
	Lines, Parsed, Skip int64
	Skipped             []analyze.Skipped
	Error               string
}

func caseView(i int, c *analyze.Case) *caseData {
	v := &caseData{ID: "case-" + strconv.Itoa(i+1), Title: c.Name, Ignored: c.Ignored}
	if v.Title == "" {
		v.Title = "Analysis"
	}
	loc := time.UTC
	if c.Timeline != nil && len(c.Timeline.Buckets) > 0 {
		loc = c.Timeline.Start.Location()
	}
	v.Subtitle = plural(len(c.Incidents), "incident")
	if c.Timeline != nil && len(c.Timeline.Buckets) > 0 {
		tl := c.Timeline
		v.Subtitle += " · " + stamp(tl.First) + " → " + tl.Last.Format(stampShort) +
			" (" + humanDuration(tl.Last.Sub(tl.First)) + ")"
	}
	v.Timeline = buildTimeline(c.Timeline, c.Incidents, v.ID)
	srcOf := map[string]string{}
	for _, f := range c.Files {
		srcOf[f.Path] = string(f.Type)
		v.Files = append(v.Files, fileView{Path: f.Path, Type: string(f.Type), Format: f.Format,
			Lines: f.Lines, Parsed: f.Parsed, Skip: f.Skipped, Skipped: f.FirstSkipped, Error: f.Error})
	}
	for n, inc := range c.Incidents {
		iv := incidentView{
			Anchor:      fmt.Sprintf("%s-incident-%d", v.ID, n+1),
			N:           n + 1,
			Cause:       string(inc.Cause),
			Describe:    inc.Cause.Describe(),
			Start:       inc.Start.Format(time.RFC3339Nano),
			End:         inc.End.Format(time.RFC3339Nano),
			StartISO:    inc.Start.Format(time.RFC3339),
			When:        stamp(inc.Start.In(loc)) + " → " + inc.End.In(loc).Format(stampShort),
			Duration:    humanDuration(inc.End.Sub(inc.Start)),
			Requests:    inc.Requests,
			Summary:     inc.Summary,
			Hosts:       inc.Hosts,
			Paths:       inc.Paths,
			Remediation: codeSpans(inc.Remediation),
			Confidence:  int(inc.Confidence*100 + 0.5),
		}
		for _, s := range []string{"502", "503", "504", "499"} {
			if inc.Statuses[s] > 0 {
				iv.Statuses = append(iv.Statuses, Tag{Class: "s" + s, Text: strconv.Itoa(inc.Statuses[s]) + " × " + s})
			}
		}
		for _, e := range inc.EdgeStatus {
			iv.Edge = append(iv.Edge, Tag{Class: "edge", Text: strconv.Itoa(e)})
		}
		iv.Sites, iv.Pools, iv.Upstreams = inc.Scope.Sites, inc.Scope.Pools, inc.Scope.Upstreams
		ev := inc.Evidence
		if len(c.Incidents) > manyIncidents && len(ev) > cardEvidenceMany {
			ev = bestEvidence(ev)
		}
		for _, e := range ev {
			txt := e.Text
			if len(txt) > cardEvidenceChars {
				txt = strings.ToValidUTF8(txt[:cardEvidenceChars], "") + "…"
			}
			iv.Evidence = append(iv.Evidence, evidenceView{
				Where: e.Path + ":" + strconv.FormatInt(e.Line, 10),
				Time:  e.Time.In(loc).Format(stampShort),
				Src:   srcOf[e.Path],
				Text:  highlight(txt),
			})
		}
		v.Incidents = append(v.Incidents, iv)
	}
	return v
}

// keyword is a phrase worth highlighting in an evidence line; Mark is the
// part of Find that gets the highlight (all of it when empty).
type keyword struct{ Find, Mark string }

// highlight splits s into plain and marked segments at the keywords.
func highlight(s string) []segment {
	keywords := [...]keyword{
		{Find: "Out of memory"}, {Find: "out of memory"}, {Find: "Killed process"}, {Find: "invoked oom-killer"},
		{Find: "oom-kill:"}, {Find: "segfault at"}, {Find: "exited on signal"},
		{Find: "server reached pm.max_children"}, {Find: "seems busy"}, {Find: "execution timed out"},
		{Find: "Terminating"}, {Find: "exiting, bye-bye!"}, {Find: "upstream timed out"},
		{Find: "Connection refused"}, {Find: "No such file or directory"}, {Find: "Resource temporarily unavailable"},
		{Find: "Permission denied"}, {Find: "prematurely closed"}, {Find: "Connection reset by peer"},
		{Find: "too big header"}, {Find: "invalid header"}, {Find: "no live upstreams"},
		{Find: "worker_connections are not enough"}, {Find: "Too many open files"}, {Find: "limiting requests"},
		{Find: "limiting connections"}, {Find: "MaxRequestWorkers"}, {Find: "The timeout specified has expired"},
		{Find: "Failed to read FastCGI header"},
		{Find: `" 502 `, Mark: "502"}, {Find: `" 503 `, Mark: "503"}, {Find: `" 504 `, Mark: "504"},
	}
	var out []segment
	for len(s) > 0 {
		best, bi, bk := -1, 0, keyword{}
		for _, k := range keywords {
			if i := strings.Index(s, k.Find); i >= 0 && (best < 0 || i < best) {
				best, bk = i, k
			}
		}
		if best < 0 {
			break
		}
		start, n := best, len(bk.Find)
		if bk.Mark != "" {
			start += strings.Index(bk.Find, bk.Mark)
			n = len(bk.Mark)
		}
		bi = best + len(bk.Find)
		if bk.Mark != "" {
			bi = start + n
		}
		if start > 0 {
			out = append(out, segment{Text: s[:start]})
		}
		out = append(out, segment{Text: s[start : start+n], Mark: true})
		s = s[bi:]
	}
	if s != "" {
		out = append(out, segment{Text: s})
	}
	return out
}

// codeSpans splits a remediation at its `backticks` into code segments.
func codeSpans(s string) []segment {
	parts := strings.Split(s, "`")
	if len(parts)%2 == 0 { // unbalanced: keep the text as it is
		return []segment{{Text: s}}
	}
	var out []segment
	for i, p := range parts {
		if p != "" {
			out = append(out, segment{Text: p, Mark: i%2 == 1})
		}
	}
	return out
}

// stamp prints a time for people: "2026-11-20 10:01:02 UTC", or with its
// offset ("+01:00") outside UTC.
func stamp(t time.Time) string {
	if _, off := t.Zone(); off == 0 {
		return t.Format("2006-01-02 15:04:05") + " UTC"
	}
	return t.Format("2006-01-02 15:04:05 -07:00")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// humanDuration prints d compactly: "850 ms", "42 s", "3 min 5 s", "2 h 5 min".
func humanDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "0 s"
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	case d < time.Minute:
		return strconv.Itoa(int(d.Round(time.Second)/time.Second)) + " s"
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%d min %d s", int(d/time.Minute), int(d%time.Minute/time.Second))
	case d < 48*time.Hour:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%d h %d min", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
}
