package analyze

import (
	"strconv"
	"strings"
	"time"

	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/parsers"
)

// Timeline is the shape of one case over time, for the HTML report: request
// counts per time bucket by status class, and markers for the lines that
// usually explain an incident (OOM kills, pool warnings, restarts…).
//
// Its memory is bounded whatever the input: buckets start at one second and
// coarsen (pairs merge, Step doubles) whenever the span would need more than
// MaxBuckets of them, and at most MaxMarkers markers are kept per kind while
// MarkerCounts counts them all. Recording a line allocates nothing except
// when a marker is kept or the bucket array grows.
type Timeline struct {
	// Start is the beginning of Buckets[0], aligned to a multiple of Step
	// since the Unix epoch, in the zone of the first time stamp seen.
	Start time.Time
	// Step is the width of a bucket: a whole number of seconds (a power of two).
	Step    time.Duration
	Buckets []Bucket
	// First and Last are the earliest and latest time stamps seen (any line).
	First, Last time.Time
	// Markers are the kept markers, in the order the lines were read (the
	// analysis merges files by time, so nearly in time order).
	Markers []Marker
	// MarkerCounts counts markers seen per kind, kept or not.
	MarkerCounts [NumMarkerKinds]int

	startSec, stepSec, endSec int64 // Start, Step, end of the last bucket in Unix seconds
	first, last               int64
}

// MaxBuckets bounds len(Timeline.Buckets).
const MaxBuckets = 4096

// MaxMarkers bounds how many markers of one kind a Timeline keeps.
const MaxMarkers = 200

// markerTextChars bounds the cited text of a marker.
const markerTextChars = 500

// Class is a status class of access-log requests.
type Class uint8

const (
	ClassOK    Class = iota // 1xx, 2xx and 3xx
	Class4xx                // client errors, 499 included
	Class5xx                // server errors other than the gateway statuses
	Class502                // bad gateway
	Class503                // service unavailable
	Class504                // gateway timeout
	NumClasses              // number of classes
)

// String names the class for people ("2xx/3xx", "502"…).
func (c Class) String() string {
	switch c {
	case ClassOK:
		return "2xx/3xx"
	case Class4xx:
		return "4xx"
	case Class5xx:
		return "5xx other"
	case Class502:
		return "502"
	case Class503:
		return "503"
	case Class504:
		return "504"
	}
	return "class?"
}

// Bucket counts requests per class in one Step of time.
type Bucket [NumClasses]int

// Total is the number of requests in the bucket.
func (b *Bucket) Total() int {
	n := 0
	for _, v := range b {
		n += v
	}
	return n
}

// MarkerKind says what a marker marks.
type MarkerKind uint8

const (
	MarkOOMKill      MarkerKind = iota // kernel OOM killer killed a process
	MarkMaxChildren                    // php-fpm reached pm.max_children
	MarkWorkerSignal                   // a php-fpm worker exited on a signal
	MarkSegfault                       // kernel: a process segfaulted
	MarkFPMStart                       // php-fpm started
	MarkFPMStop                        // php-fpm is stopping
	MarkServerStart                    // nginx/apache started
	MarkServerStop                     // nginx/apache is stopping
	NumMarkerKinds                     // number of kinds
)

// String is the kind's stable id (used in HTML class names).
func (k MarkerKind) String() string {
	switch k {
	case MarkOOMKill:
		return "oom_kill"
	case MarkMaxChildren:
		return "fpm_max_children"
	case MarkWorkerSignal:
		return "worker_signal"
	case MarkSegfault:
		return "segfault"
	case MarkFPMStart:
		return "fpm_start"
	case MarkFPMStop:
		return "fpm_stop"
	case MarkServerStart:
		return "server_start"
	case MarkServerStop:
		return "server_stop"
	}
	return "marker?"
}

// Marker is one notable line on the timeline.
type Marker struct {
	Time     time.Time
	Kind     MarkerKind
	Label    string             // short, for people: "OOM kill: php-fpm8.2 (pid 4121)"
	Evidence correlate.Evidence // the line itself
}

// End is the end of the last bucket (Start when there is none).
func (tl *Timeline) End() time.Time {
	return tl.Start.Add(time.Duration(len(tl.Buckets)) * tl.Step)
}

// add records one parsed line. It is on the analysis hot path: a few
// comparisons and an increment for an access line.
func (tl *Timeline) add(in *correlate.Input) {
	ev := &in.Event
	if ev.Time.IsZero() {
		return
	}
	sec := ev.Time.Unix()
	if sec < tl.startSec || sec >= tl.endSec {
		tl.grow(sec, ev.Time)
	}
	if sec < tl.first {
		tl.first, tl.First = sec, ev.Time
	}
	if sec >= tl.last {
		tl.last, tl.Last = sec, ev.Time
	}
	if ev.Kind == parsers.KindAccess {
		if c, ok := classOf(ev.Status); ok {
			tl.Buckets[(sec-tl.startSec)/tl.stepSec][c]++
		}
		return
	}
	if ev.Signal != parsers.SigNone {
		tl.signal(in)
	}
}

func classOf(status int) (Class, bool) {
	switch {
	case status <= 0 || status > 999:
		return 0, false
	case status < 400:
		return ClassOK, true
	case status < 500:
		return Class4xx, true
	case status == 502:
		return Class502, true
	case status == 503:
		return Class503, true
	case status == 504:
		return Class504, true
	}
	return Class5xx, true
}

// grow makes the bucket range cover sec, coarsening to stay within
// MaxBuckets.
func (tl *Timeline) grow(sec int64, t time.Time) {
	if tl.stepSec == 0 {
		tl.stepSec, tl.startSec, tl.endSec = 1, sec, sec+1
		tl.first, tl.last, tl.First, tl.Last = sec, sec, t, t
		tl.Buckets = make([]Bucket, 1, 64)
		tl.Start, tl.Step = time.Unix(sec, 0).In(t.Location()), time.Second
		return
	}
	step := tl.stepSec
	lo, hi := tl.startSec, tl.endSec
	if sec < lo {
		lo = floorDiv(sec, step) * step
	} else {
		hi = floorDiv(sec, step)*step + step
	}
	for (hi-lo)/step > MaxBuckets {
		step *= 2
		lo = floorDiv(lo, step) * step
		hi = floorDiv(hi+step-1, step) * step
	}
	if step == tl.stepSec && lo == tl.startSec {
		// Later time at the same resolution: extend at the end.
		for n := (hi - lo) / step; int64(len(tl.Buckets)) < n; {
			tl.Buckets = append(tl.Buckets, Bucket{})
		}
	} else {
		nb := make([]Bucket, (hi-lo)/step, (hi-lo)/step+64)
		for i := range tl.Buckets {
			j := (tl.startSec + int64(i)*tl.stepSec - lo) / step
			for c := range nb[j] {
				nb[j][c] += tl.Buckets[i][c]
			}
		}
		tl.Buckets = nb
	}
	tl.stepSec, tl.startSec, tl.endSec = step, lo, hi
	tl.Start, tl.Step = time.Unix(lo, 0).In(tl.Start.Location()), time.Duration(step)*time.Second
}

// floorDiv is a / b rounded toward minus infinity (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// signal records a marker when the line is one the timeline shows.
func (tl *Timeline) signal(in *correlate.Input) {
	ev := &in.Event
	var k MarkerKind
	switch ev.Signal {
	case parsers.SigOOMKill:
		k = MarkOOMKill
	case parsers.SigFPMMaxChildren:
		k = MarkMaxChildren
	case parsers.SigFPMChildExited:
		if ev.ExitSig == 0 {
			return
		}
		k = MarkWorkerSignal
	case parsers.SigServerChildSignal:
		k = MarkWorkerSignal // nginx's worker / apache's child died
	case parsers.SigSegfault:
		k = MarkSegfault
	case parsers.SigFPMStarted:
		k = MarkFPMStart
	case parsers.SigFPMStopping:
		k = MarkFPMStop
	case parsers.SigServerStarted:
		k = MarkServerStart
	case parsers.SigServerStopping:
		k = MarkServerStop
	default:
		return
	}
	tl.MarkerCounts[k]++
	if tl.MarkerCounts[k] > MaxMarkers {
		return
	}
	txt := in.Text
	if len(txt) > markerTextChars {
		txt = txt[:markerTextChars]
	}
	tl.Markers = append(tl.Markers, Marker{
		Time:  ev.Time,
		Kind:  k,
		Label: markerLabel(k, in),
		Evidence: correlate.Evidence{Time: ev.Time, Path: in.Path, Line: in.Line,
			Text: strings.ToValidUTF8(string(txt), "\uFFFD")},
	})
}

// markerLabel is the short text shown for a marker.
func markerLabel(k MarkerKind, in *correlate.Input) string {
	ev := &in.Event
	proc := func() string {
		p := string(ev.Process)
		if len(p) > 40 {
			p = p[:40] + "…"
		}
		p = strings.ToValidUTF8(p, "\uFFFD")
		if p == "" {
			p = "process"
		}
		if ev.ChildPID != 0 {
			p += " (pid " + strconv.Itoa(ev.ChildPID) + ")"
		}
		return p
	}
	server := "web server"
	switch in.Type {
	case parsers.TypeNginxError:
		server = "nginx"
	case parsers.TypeApacheError:
		server = "apache"
	}
	switch k {
	case MarkOOMKill:
		return "OOM kill: " + proc()
	case MarkMaxChildren:
		s := "php-fpm reached pm.max_children"
		if ev.Value > 0 {
			s += " (" + strconv.Itoa(ev.Value) + ")"
		}
		return s
	case MarkWorkerSignal:
		s := "php-fpm worker"
		if ev.Signal == parsers.SigServerChildSignal {
			s = server + " worker"
		}
		if ev.ChildPID != 0 {
			s += " " + strconv.Itoa(ev.ChildPID)
		}
		s += " exited on signal " + strconv.Itoa(ev.ExitSig)
		if n := signalName(ev.ExitSig); n != "" {
			s += " (" + n + ")"
		}
		return s
	case MarkSegfault:
		return "segfault: " + proc()
	case MarkFPMStart:
		return "php-fpm started"
	case MarkFPMStop:
		return "php-fpm stopping"
	case MarkServerStart:
		return server + " started"
	case MarkServerStop:
		return server + " stopping"
	}
	return k.String()
}

func signalName(sig int) string {
	switch sig {
	case 6:
		return "SIGABRT"
	case 7:
		return "SIGBUS"
	case 9:
		return "SIGKILL"
	case 11:
		return "SIGSEGV"
	case 15:
		return "SIGTERM"
	}
	return ""
}
