package analyze

import (
	"strings"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/parsers"
)

var tlBase = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func access(t time.Time, status int) *correlate.Input {
	return &correlate.Input{Type: parsers.TypeNginxAccess, Path: "access.log", Line: 1,
		Event: parsers.Event{Time: t, Kind: parsers.KindAccess, Status: status}}
}

func total(tl *Timeline) (n int) {
	for i := range tl.Buckets {
		n += tl.Buckets[i].Total()
	}
	return n
}

func TestTimelineClasses(t *testing.T) {
	cases := []struct {
		status  int
		class   Class
		counted bool
	}{
		{200, ClassOK, true}, {101, ClassOK, true}, {304, ClassOK, true},
		{404, Class4xx, true}, {499, Class4xx, true},
		{500, Class5xx, true}, {501, Class5xx, true}, {520, Class5xx, true},
		{502, Class502, true}, {503, Class503, true}, {504, Class504, true},
		{0, 0, false}, {-1, 0, false}, {1000, 0, false},
	}
	for _, c := range cases {
		tl := &Timeline{}
		tl.add(access(tlBase, c.status))
		if len(tl.Buckets) != 1 {
			t.Fatalf("status %d: %d buckets, want 1", c.status, len(tl.Buckets))
		}
		got := tl.Buckets[0]
		want := Bucket{}
		if c.counted {
			want[c.class] = 1
		}
		if got != want {
			t.Errorf("status %d: bucket %v, want %v", c.status, got, want)
		}
	}
}

func TestTimelineBucketsAndOrder(t *testing.T) {
	tl := &Timeline{}
	tl.add(access(tlBase.Add(10*time.Second), 200))
	tl.add(access(tlBase.Add(10*time.Second+500*time.Millisecond), 502))
	tl.add(access(tlBase.Add(12*time.Second), 504))
	tl.add(access(tlBase.Add(7*time.Second), 404)) // written late: request began earlier
	if !tl.Start.Equal(tlBase.Add(7*time.Second)) || tl.Step != time.Second || len(tl.Buckets) != 6 {
		t.Fatalf("start %v step %v buckets %d, want %v 1s 6", tl.Start, tl.Step, len(tl.Buckets), tlBase.Add(7*time.Second))
	}
	want := []Bucket{
		{Class4xx: 1}, {}, {}, {ClassOK: 1, Class502: 1}, {}, {Class504: 1},
	}
	for i := range want {
		if tl.Buckets[i] != want[i] {
			t.Errorf("bucket %d: %v, want %v", i, tl.Buckets[i], want[i])
		}
	}
	if !tl.First.Equal(tlBase.Add(7*time.Second)) || !tl.Last.Equal(tlBase.Add(12*time.Second)) {
		t.Errorf("first %v last %v", tl.First, tl.Last)
	}
	if !tl.End().Equal(tlBase.Add(13 * time.Second)) {
		t.Errorf("end %v", tl.End())
	}
}

func TestTimelineIgnoresZeroTime(t *testing.T) {
	tl := &Timeline{}
	tl.add(access(time.Time{}, 502))
	if len(tl.Buckets) != 0 || !tl.First.IsZero() {
		t.Fatalf("zero time recorded: %d buckets", len(tl.Buckets))
	}
}

// A long span coarsens to stay within MaxBuckets and keeps every count,
// each in the bucket that covers its time.
func TestTimelineCoarsens(t *testing.T) {
	tl := &Timeline{}
	const span = 3 * 86400 // three days, one request a second
	for s := 0; s < span; s++ {
		st := 200
		if s == 100000 {
			st = 503
		}
		tl.add(access(tlBase.Add(time.Duration(s)*time.Second), st))
	}
	if len(tl.Buckets) > MaxBuckets {
		t.Fatalf("%d buckets > %d", len(tl.Buckets), MaxBuckets)
	}
	if tl.Step != 64*time.Second {
		t.Errorf("step %v, want 64s", tl.Step)
	}
	if got := total(tl); got != span {
		t.Errorf("total %d, want %d", got, span)
	}
	if tl.Start.After(tlBase) || tl.End().Before(tlBase.Add(span*time.Second)) {
		t.Errorf("range %v..%v does not cover the input", tl.Start, tl.End())
	}
	if tl.Start.Unix()%64 != 0 {
		t.Errorf("start %v not aligned to the step", tl.Start)
	}
	at := tlBase.Add(100000 * time.Second)
	i := int(at.Sub(tl.Start) / tl.Step)
	if tl.Buckets[i][Class503] != 1 {
		t.Errorf("503 not in bucket %d: %v", i, tl.Buckets[i])
	}
	// A line far before the start coarsens further, counts stay.
	tl.add(access(tlBase.Add(-30*86400*time.Second), 200))
	if len(tl.Buckets) > MaxBuckets || total(tl) != span+1 || tl.Buckets[0][ClassOK] != 1 {
		t.Errorf("after an early line: %d buckets, total %d, first %v", len(tl.Buckets), total(tl), tl.Buckets[0])
	}
}

// Hostile time stamps (year 1 and 9999 in one file) must not blow up memory.
func TestTimelineExtremeTimes(t *testing.T) {
	tl := &Timeline{}
	tl.add(access(time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), 200))
	tl.add(access(time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), 502))
	tl.add(access(time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), 504))
	if len(tl.Buckets) > MaxBuckets || total(tl) != 3 {
		t.Fatalf("%d buckets, total %d", len(tl.Buckets), total(tl))
	}
}

func TestTimelineMarkers(t *testing.T) {
	in := func(typ parsers.Type, ev parsers.Event, text string) *correlate.Input {
		ev.Time = tlBase
		return &correlate.Input{Type: typ, Path: "x.log", Line: 7, Event: ev, Text: []byte(text)}
	}
	cases := []struct {
		in    *correlate.Input
		kind  MarkerKind
		label string // "" = no marker
	}{
		{in(parsers.TypeKernel, parsers.Event{Kind: parsers.KindKernel, Signal: parsers.SigOOMKill, ChildPID: 4121, Process: []byte("php-fpm8.2")},
			"Memory cgroup out of memory: Killed process 4121 (php-fpm8.2)"), MarkOOMKill, "OOM kill: php-fpm8.2 (pid 4121)"},
		{in(parsers.TypePHPFPM, parsers.Event{Kind: parsers.KindFPM, Signal: parsers.SigFPMMaxChildren, Value: 3},
			"[22-Nov-2026 05:02:51] WARNING: [pool www] server reached pm.max_children setting (3), consider raising it"), MarkMaxChildren, "php-fpm reached pm.max_children (3)"},
		{in(parsers.TypePHPFPM, parsers.Event{Kind: parsers.KindFPM, Signal: parsers.SigFPMChildExited, ChildPID: 77, ExitSig: 11},
			"WARNING: [pool www] child 77 exited on signal 11 (SIGSEGV) after 3.2 seconds from start"), MarkWorkerSignal, "php-fpm worker 77 exited on signal 11 (SIGSEGV)"},
		{in(parsers.TypeNginxError, parsers.Event{Kind: parsers.KindProxy, Signal: parsers.SigServerChildSignal, ChildPID: 12577, ExitSig: 11},
			"2026/12/03 08:29:21 [alert] 12574#12574: worker process 12577 exited on signal 11"), MarkWorkerSignal, "nginx worker 12577 exited on signal 11 (SIGSEGV)"},
		{in(parsers.TypeApacheError, parsers.Event{Kind: parsers.KindProxy, Signal: parsers.SigServerChildSignal, ChildPID: 13814, ExitSig: 11},
			"AH00052: child pid 13814 exit signal Segmentation fault (11)"), MarkWorkerSignal, "apache worker 13814 exited on signal 11 (SIGSEGV)"},
		{in(parsers.TypePHPFPM, parsers.Event{Kind: parsers.KindFPM, Signal: parsers.SigFPMChildExited, ChildPID: 78, ExitCode: 0},
			"NOTICE: [pool www] child 78 exited with code 0 after 10.0 seconds from start"), 0, ""},
		{in(parsers.TypeKernel, parsers.Event{Kind: parsers.KindKernel, Signal: parsers.SigSegfault, ChildPID: 90, Process: []byte("php-fpm8.2")},
			"php-fpm8.2[90]: segfault at 0 ip 0 sp 0 error 4"), MarkSegfault, "segfault: php-fpm8.2 (pid 90)"},
		{in(parsers.TypePHPFPM, parsers.Event{Kind: parsers.KindFPM, Signal: parsers.SigFPMStarted}, "NOTICE: fpm is running, pid 1"), MarkFPMStart, "php-fpm started"},
		{in(parsers.TypePHPFPM, parsers.Event{Kind: parsers.KindFPM, Signal: parsers.SigFPMStopping}, "NOTICE: Terminating ..."), MarkFPMStop, "php-fpm stopping"},
		{in(parsers.TypeNginxError, parsers.Event{Kind: parsers.KindProxy, Signal: parsers.SigServerStarted}, "start worker process 12"), MarkServerStart, "nginx started"},
		{in(parsers.TypeApacheError, parsers.Event{Kind: parsers.KindProxy, Signal: parsers.SigServerStopping}, "AH00491: caught SIGTERM, shutting down"), MarkServerStop, "apache stopping"},
		{in(parsers.TypeNginxError, parsers.Event{Kind: parsers.KindProxy, Signal: parsers.SigConnectRefused}, "connect() failed (111: Connection refused)"), 0, ""},
	}
	for _, c := range cases {
		tl := &Timeline{}
		c.in.Text = append([]byte(nil), c.in.Text...)
		want := string(c.in.Text)
		tl.add(c.in)
		if c.label == "" {
			if len(tl.Markers) != 0 {
				t.Errorf("%q: unexpected marker %+v", want, tl.Markers)
			}
			continue
		}
		if len(tl.Markers) != 1 {
			t.Fatalf("%q: %d markers", want, len(tl.Markers))
		}
		m := tl.Markers[0]
		copy(c.in.Text, strings.Repeat("X", len(c.in.Text))) // the buffer is reused: the marker must own its text
		if m.Kind != c.kind || m.Label != c.label || m.Evidence.Text != want || m.Evidence.Path != "x.log" || m.Evidence.Line != 7 || !m.Time.Equal(tlBase) {
			t.Errorf("%q: marker %+v, want kind %v label %q", want, m, c.kind, c.label)
		}
		if tl.MarkerCounts[c.kind] != 1 {
			t.Errorf("%q: count %d", want, tl.MarkerCounts[c.kind])
		}
	}
}

func TestTimelineMarkerCap(t *testing.T) {
	tl := &Timeline{}
	long := strings.Repeat("a", 3000)
	for i := 0; i < MaxMarkers+50; i++ {
		tl.add(&correlate.Input{Type: parsers.TypeKernel, Text: []byte(long),
			Event: parsers.Event{Time: tlBase.Add(time.Duration(i) * time.Second), Kind: parsers.KindKernel, Signal: parsers.SigOOMKill}})
	}
	if len(tl.Markers) != MaxMarkers || tl.MarkerCounts[MarkOOMKill] != MaxMarkers+50 {
		t.Fatalf("kept %d, counted %d", len(tl.Markers), tl.MarkerCounts[MarkOOMKill])
	}
	if n := len(tl.Markers[0].Evidence.Text); n != markerTextChars {
		t.Errorf("marker text %d bytes, want %d", n, markerTextChars)
	}
}

func TestTimelineAddAllocs(t *testing.T) {
	tl := &Timeline{}
	in := access(tlBase, 200)
	tl.add(in)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		i++
		in.Event.Time = tlBase.Add(time.Duration(i%50) * time.Millisecond)
		in.Event.Status = 200 + i%400
		tl.add(in)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per access line, want 0", allocs)
	}
}

func BenchmarkTimelineAdd(b *testing.B) {
	tl := &Timeline{}
	in := access(tlBase, 200)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		in.Event.Time = tlBase.Add(time.Duration(i) * 5 * time.Millisecond)
		in.Event.Status = 200 + (i&3)*100
		tl.add(in)
	}
}
