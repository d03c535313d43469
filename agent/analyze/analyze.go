// Package analyze runs the diagnosis engine over log files after the fact:
// it finds the files, tells their formats, merges their lines by time and
// feeds the same correlator the live agent uses.
package analyze

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/detect"
)

// ErrUsage marks errors in what the user asked for (exit status 2).
var ErrUsage = errors.New("usage")

// Options are the inputs of one analysis.
type Options struct {
	Args       []string // [TYPE=]PATH
	NginxConf  string   // --nginx-conf
	ApacheConf string   // --apache-conf
	Gap        time.Duration
	Since      time.Time
	Until      time.Time
	Location   *time.Location // zone for zoneless stamps; nil: taken from the access log, else local
	Log        func(format string, args ...any)
	// Labels names inputs in reports and evidence by something other than
	// their path: a journal export in a temporary file is "journalctl …".
	Labels map[string]string
}

// Result is what an analysis found, per case (a set of logs from one host).
type Result struct {
	Cases []Case
}

// Case is one set of logs analysed together. Name is empty when all inputs
// form one set; when a directory holds one sub-directory per incident (like
// examples/), each sub-directory is its own case.
type Case struct {
	Name      string
	Files     []FileReport
	Ignored   []string // files in a directory that are not a log we know
	Incidents []correlate.Incident
	Timeline  *Timeline // requests and markers over time, for the HTML report
}

// FileReport says what was read from one file.
type FileReport struct {
	Path    string       `json:"path"`
	Type    parsers.Type `json:"type"`
	Format  string       `json:"format,omitempty"`
	Lines   int64        `json:"lines"`
	Parsed  int64        `json:"parsed"`
	Skipped int64        `json:"skipped"`
	// Continued counts lines that continue the message of a parsed line
	// before them (nginx's multi-line PHP messages): neither parsed nor
	// skipped.
	Continued int64 `json:"continued,omitempty"`
	// FirstSkipped holds the first few unparseable lines, for the report.
	FirstSkipped []Skipped `json:"first_skipped,omitempty"`
	Error        string    `json:"error,omitempty"`
}

// Skipped is an unparseable line.
type Skipped struct {
	Line   int64  `json:"line"`
	Text   string `json:"text"`
	Reason string `json:"reason"`
}

const (
	sampleLines  = 40
	keepSkipped  = 5
	skippedChars = 300
)

// input is one file to read, with its type when known.
type input struct {
	path     string
	name     string       // how reports call it: path, or its label
	typ      parsers.Type // from TYPE= or detection
	explicit bool
	cand     detect.Candidate
	build    builder
	sample   [][]byte
	copy     string // a private copy of a stream input (named pipe, /dev/fd/N): see stream.go
}

// Run performs the analysis. Errors wrapping ErrUsage are the user's to fix
// (bad TYPE, missing file, undetectable explicit file); other errors are
// I/O failures. A file that fails midway is reported in its FileReport and
// the rest of the analysis goes on.
func Run(ctx context.Context, o Options) (*Result, error) {
	if len(o.Args) == 0 {
		return nil, fmt.Errorf("%w: no log files given", ErrUsage)
	}
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	formats, err := loadServerFormats(o)
	if err != nil {
		return nil, err
	}
	sets, err := collect(o.Args)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	var tmp string
	defer func() {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}()
	mkdir := func() (string, error) {
		if tmp == "" {
			d, err := os.MkdirTemp("", "origin-agent-analyze-")
			if err != nil {
				return "", fmt.Errorf("a directory for copies of piped input: %w", err)
			}
			tmp = d
		}
		return tmp, nil
	}
	for _, set := range sets {
		if err := spoolStreams(ctx, set, mkdir); err != nil {
			return nil, err
		}
		c, err := runCase(ctx, o, formats, set)
		if err != nil {
			return nil, err
		}
		res.Cases = append(res.Cases, *c)
	}
	return res, nil
}

// fileSet is the files of one case.
type fileSet struct {
	name    string
	inputs  []*input
	ignored []string
	notes   []string // what the directory walk skipped, and why
}

// collect expands the arguments into cases. Explicit files must exist and
// be readable; files found by walking a directory are kept only if their
// type can be told.
func collect(args []string) ([]*fileSet, error) {
	main := &fileSet{}
	var sets []*fileSet
	for _, a := range args {
		typ, p := splitArg(a)
		if typ != "" && !validType(typ) {
			return nil, fmt.Errorf("%w: unknown log type %q in %q (one of: %s)", ErrUsage, typ, a, typeList())
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUsage, err)
		}
		if !st.IsDir() {
			main.inputs = append(main.inputs, &input{path: p, typ: typ, explicit: true})
			continue
		}
		sub, err := walkDir(p, typ)
		if err != nil {
			return nil, err
		}
		if len(sub) == 1 && sub[0].name == "" {
			main.inputs = append(main.inputs, sub[0].inputs...)
			main.ignored = append(main.ignored, sub[0].ignored...)
			main.notes = append(main.notes, sub[0].notes...)
			continue
		}
		sets = append(sets, sub...)
	}
	if len(main.inputs) > 0 || len(sets) == 0 {
		sets = append([]*fileSet{main}, sets...)
	}
	return sets, nil
}

// walkDir lists the regular files under dir. When dir itself holds no log
// but two or more of its sub-directories each hold an access log, every
// sub-directory is a case of its own (a folder of incidents); otherwise the
// whole tree is one set (like /var/log, where nginx/, apache2/ and
// kern.log belong together).
func walkDir(dir string, typ parsers.Type) ([]*fileSet, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUsage, err)
	}
	var topFiles, subdirs []string
	top := newWalker()
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		typ, fi, ok := top.entryType(p, e)
		if !ok {
			continue
		}
		if typ.IsDir() {
			if !top.once(p, fi, e) {
				continue
			}
			subdirs = append(subdirs, p)
		} else if typ.IsRegular() {
			topFiles = append(topFiles, p)
		}
	}
	topHasLog := false
	for _, f := range topFiles {
		if looksLikeLogName(f) {
			topHasLog = true
		}
	}
	if !topHasLog && len(subdirs) >= 2 {
		var cases []*fileSet
		withAccess := 0
		for _, sd := range subdirs {
			fs := &fileSet{name: filepath.Base(sd)}
			files, err := walkFiles(sd, &fs.notes)
			if err != nil {
				return nil, err
			}
			for _, f := range files {
				fs.inputs = append(fs.inputs, &input{path: f, typ: typ, explicit: typ != ""})
			}
			for _, f := range files {
				if h := detect.Hint(f); detect.IsAccess(h) {
					withAccess++
					break
				}
			}
			if len(fs.inputs) > 0 {
				cases = append(cases, fs)
			}
		}
		if withAccess >= 2 {
			cases[0].notes = append(top.notes, cases[0].notes...)
			return cases, nil // top-level files (README, scripts) are not logs
		}
	}
	set := &fileSet{}
	files, err := walkFiles(dir, &set.notes)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		set.inputs = append(set.inputs, &input{path: f, typ: typ, explicit: typ != ""})
	}
	return []*fileSet{set}, nil
}

func walkFiles(dir string, notes *[]string) ([]string, error) {
	w := newWalker()
	files, err := w.files(dir)
	*notes = append(*notes, w.notes...)
	return files, err
}

// looksLikeLogName reports whether a file name is one a log would have.
func looksLikeLogName(p string) bool {
	b := strings.ToLower(filepath.Base(p))
	for _, ext := range []string{".md", ".sh", ".txt", ".conf", ".go", ".json", ".yaml", ".yml", ".toml", ".html", ".png"} {
		if strings.HasSuffix(b, ext) {
			return false
		}
	}
	return true
}

func splitArg(a string) (parsers.Type, string) {
	if i := strings.IndexByte(a, '='); i > 0 {
		t := a[:i]
		if !strings.ContainsAny(t, "/.") {
			return parsers.Type(t), a[i+1:]
		}
	}
	return "", a
}

func validType(t parsers.Type) bool {
	for _, x := range parsers.Types {
		if x == t {
			return true
		}
	}
	return false
}

func typeList() string {
	var s []string
	for _, t := range parsers.Types {
		s = append(s, string(t))
	}
	return strings.Join(s, " ")
}

// runCase detects the files' formats, merges their lines by time and runs
// the correlator over them.
func runCase(ctx context.Context, o Options, formats *serverFormats, set *fileSet) (*Case, error) {
	c := &Case{Name: set.name, Ignored: set.ignored, Timeline: &Timeline{}}
	for _, n := range set.notes {
		o.Log("%s", n)
	}
	var ins []*input
	for _, in := range set.inputs {
		if err := ctx.Err(); err != nil {
			return nil, err // SIGTERM while sampling thousands of files
		}
		in.name = in.path
		if l, ok := o.Labels[in.path]; ok {
			in.name = l
		}
		s, err := sample(in.file(), sampleLines)
		if err != nil {
			if in.explicit || isPermission(err) {
				return nil, fmt.Errorf("%w: %v", ErrUsage, err)
			}
			c.Ignored = append(c.Ignored, in.name)
			continue
		}
		in.sample = s
		cands, builders := formats.candidates(in.path, in.typ)
		r := detect.Detect(in.path, s, cands)
		if r.Index < 0 {
			if len(s) == 0 {
				// An empty file is fine: nothing to read. Listed as
				// empty, not as "not a log": a fresh nginx access.log is one.
				c.Files = append(c.Files, FileReport{Path: in.name, Type: in.typ})
				continue
			}
			if in.explicit && in.typ != "" && r.Near >= 0 {
				// The user named the type: read the file with the format
				// that parsed most of the sample, even below the share
				// that detection needs on its own.
				r.Index, r.Matched = r.Near, r.NearMatched
			} else if in.explicit && in.typ != "" {
				return nil, fmt.Errorf("%w: %s: no line of the first %d parses as %s", ErrUsage, in.name, r.Sampled, in.typ)
			}
		}
		if r.Index < 0 {
			if in.explicit && r.Near >= 0 {
				return nil, fmt.Errorf("%w: %s: only %d of the first %d lines parse (as %s %s); if that is what it is, name it as %s=PATH", ErrUsage, in.name, r.NearMatched, r.Sampled, cands[r.Near].Type, cands[r.Near].Name, cands[r.Near].Type)
			}
			if in.explicit {
				return nil, fmt.Errorf("%w: %s: cannot tell what kind of log this is; name it as TYPE=PATH with TYPE one of: %s", ErrUsage, in.name, typeList())
			}
			c.Ignored = append(c.Ignored, in.name)
			continue
		}
		in.cand, in.build = cands[r.Index], builders[r.Index]
		in.typ = in.cand.Type
		ins = append(ins, in)
	}
	fixAccessServer(ins)
	loc := o.Location
	if loc == nil {
		loc = zoneFromAccess(ins)
	}

	cfg := correlate.DefaultConfig()
	if o.Gap > 0 {
		cfg.Gap = o.Gap
	}
	hasAccess := false
	for _, in := range ins {
		hasAccess = hasAccess || detect.IsAccess(in.typ)
	}
	cfg.ProxyErrorsAsRequests = !hasAccess
	corr := correlate.New(cfg)

	var h streamHeap
	opens := newOpenSet()
	reports := make([]*FileReport, len(ins))
	for i, in := range ins {
		if err := ctx.Err(); err != nil {
			for _, s := range h {
				s.close()
			}
			return nil, err
		}
		popts := parsers.Options{Location: loc, Ref: modTime(in.file())}
		parse, fb := in.build(popts, true)
		reports[i] = &FileReport{Path: in.name, Type: in.typ, Format: in.cand.Name}
		s, err := newStream(in, parse, reports[i], o)
		if s != nil {
			s.fallback = fb
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUsage, err)
		}
		if detect.IsAccess(in.typ) {
			s.head.Site = formats.siteOf(in.path)
		}
		if s.advance() {
			h = append(h, s)
			opens.opened(s)
		} else {
			s.close()
		}
	}
	heap.Init(&h)
	n := 0
	for h.Len() > 0 {
		s := h[0]
		corr.Observe(&s.head)
		c.Timeline.add(&s.head)
		if n++; n&0xfff == 0 && ctx.Err() != nil {
			for _, s := range h {
				s.close()
			}
			return nil, ctx.Err()
		}
		opens.wake(s)
		if s.advance() {
			if len(h) > 1 {
				heap.Fix(&h, 0)
			}
		} else {
			s.close()
			opens.closed(s)
			heap.Pop(&h)
		}
	}
	for _, u := range corr.Flush() {
		if u.State == correlate.Closed {
			c.Incidents = append(c.Incidents, u.Incident)
		}
	}
	for _, r := range reports {
		c.Files = append(c.Files, *r)
	}
	return c, nil
}

func isPermission(err error) bool { return errors.Is(err, os.ErrPermission) }

func modTime(p string) time.Time {
	st, err := os.Stat(p)
	if err != nil {
		return time.Time{}
	}
	return st.ModTime()
}

// fixAccessServer: nginx's and apache's combined formats are the same
// bytes. A file detected as nginx_access in a set whose only error logs are
// apache's (and whose name does not say nginx) is apache's.
func fixAccessServer(ins []*input) {
	var nginxErr, apacheErr bool
	for _, in := range ins {
		nginxErr = nginxErr || in.typ == parsers.TypeNginxError
		apacheErr = apacheErr || in.typ == parsers.TypeApacheError
	}
	if !apacheErr || nginxErr {
		return
	}
	for _, in := range ins {
		if in.typ == parsers.TypeNginxAccess && !in.explicit && !strings.Contains(strings.ToLower(in.path), "nginx") {
			in.typ = parsers.TypeApacheAccess
			in.cand.Type = parsers.TypeApacheAccess
		}
	}
}

// zoneFromAccess returns the zone the access logs' stamps carry, so that
// zoneless stamps (nginx error log, php-fpm, syslog) from the same host line
// up with them. Without one, local time is assumed.
func zoneFromAccess(ins []*input) *time.Location {
	for _, in := range ins {
		for _, l := range in.sample {
			ev, err := in.cand.Parse(l)
			if err == nil && !ev.NoZone && !ev.Time.IsZero() {
				name, off := ev.Time.Zone()
				if name == "UTC" && off == 0 {
					return time.UTC
				}
				return time.FixedZone(name, off)
			}
		}
	}
	return time.Local
}

// stream reads one file and yields its parsed lines.
type stream struct {
	in     *input
	lr     *lineReader
	parse  parsers.Func
	rep    *FileReport
	head   correlate.Input
	last   time.Time
	since  time.Time
	until  time.Time
	log    func(string, ...any)
	closed bool
	// epoch counts the clock's steps back in this file: the merge takes
	// every file's lines from before a step before any line after it.
	epoch  int
	inSet  bool // counted by the case's openSet
	prevOK bool // the line before parsed or continued a parsed one
	// fallback reads lines parse does not (other formats of the type, its
	// server's error lines, syslog prefixes); nil when there is none.
	fallback detect.Fallback
}

func newStream(in *input, parse parsers.Func, rep *FileReport, o Options) (*stream, error) {
	lr, err := openLines(in.file())
	if err != nil {
		return nil, err
	}
	return &stream{in: in, lr: lr, parse: parse, rep: rep, since: o.Since, until: o.Until, log: o.Log,
		head: correlate.Input{Type: in.typ, Path: in.name}}, nil
}

// advance moves to the next parsed line in range; false at the end.
func (s *stream) advance() bool {
	for {
		line, err := s.lr.next()
		if err == io.EOF {
			return false
		}
		if err != nil {
			s.rep.Error = fmt.Sprintf("after line %d: %v", s.lr.n, err)
			s.log("%s: read error after line %d: %v", s.in.name, s.lr.n, err)
			return false
		}
		s.rep.Lines++
		if s.lr.tooLong {
			s.skip(line, "line longer than 1 MiB")
			continue
		}
		if len(line) == 0 {
			s.rep.Lines-- // blank lines are not lines of the log
			continue
		}
		s.head.Event, err = s.parse(line)
		if err != nil && s.fallback != nil && !errors.Is(err, parsers.ErrContinuation) {
			s.head.Event, err = s.fallback(line, s.head.Event, err)
		}
		if err != nil {
			if s.prevOK && errors.Is(err, parsers.ErrContinuation) {
				s.rep.Continued++
				continue
			}
			s.prevOK = false
			reason := err.Error()
			if errors.Is(err, parsers.ErrContinuation) {
				reason = "not a line of this log (nor the continuation of one before it)"
			}
			s.skip(line, reason)
			continue
		}
		s.prevOK = true
		ev := &s.head.Event
		s.head.Type = detect.LineType(s.in.typ, ev)
		s.rep.Parsed++
		if ev.Time.IsZero() {
			ev.Time = s.last
		} else {
			if !s.last.IsZero() && s.last.Sub(ev.Time) > correlate.ClockStep {
				s.epoch++ // the clock stepped back: after every log's lines before it
			}
			s.last = ev.Time
		}
		if !ev.Time.IsZero() {
			if !s.since.IsZero() && ev.Time.Before(s.since) {
				continue
			}
			if !s.until.IsZero() && ev.Time.After(s.until) {
				continue
			}
		}
		s.head.Line = s.lr.n
		s.head.Text = line
		return true
	}
}

func (s *stream) skip(line []byte, reason string) {
	s.rep.Skipped++
	if len(s.rep.FirstSkipped) < keepSkipped {
		t := line
		if len(t) > skippedChars {
			t = t[:skippedChars]
		}
		s.rep.FirstSkipped = append(s.rep.FirstSkipped, Skipped{Line: s.lr.n, Text: strings.ToValidUTF8(string(t), "\uFFFD"), Reason: reason})
	}
}

func (s *stream) close() {
	if !s.closed {
		s.closed = true
		s.lr.Close()
	}
}

// streamHeap orders streams by the time of their current line.
type streamHeap []*stream

func (h streamHeap) Len() int { return len(h) }
func (h streamHeap) Less(i, j int) bool {
	if h[i].epoch != h[j].epoch {
		return h[i].epoch < h[j].epoch
	}
	return h[i].head.Event.Time.Before(h[j].head.Event.Time)
}
func (h streamHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *streamHeap) Push(x any)   { *h = append(*h, x.(*stream)) }
func (h *streamHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
