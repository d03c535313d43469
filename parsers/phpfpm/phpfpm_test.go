package phpfpm

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/internal/golden"
)

func TestParse(t *testing.T) {
	utc := time.UTC
	tests := []struct {
		name string
		line string
		want parsers.Event
	}{
		{
			name: "max children",
			line: `[20-Nov-2026 10:01:02] WARNING: [pool www] server reached pm.max_children setting (5), consider raising it`,
			want: parsers.Event{Time: time.Date(2026, 11, 20, 10, 1, 2, 0, utc), Signal: parsers.SigFPMMaxChildren, Level: parsers.LevelWarn,
				Pool: []byte("www"), Value: 5, Message: []byte("server reached pm.max_children setting (5), consider raising it"), NoZone: true},
		},
		{
			name: "seems busy",
			line: `[20-Nov-2026 10:01:02] WARNING: [pool www] seems busy (you may need to increase pm.start_servers, or pm.min/max_spare_servers), spawning 8 children, there are 0 idle, and 10 total children`,
			want: parsers.Event{Time: time.Date(2026, 11, 20, 10, 1, 2, 0, utc), Signal: parsers.SigFPMSeemsBusy, Level: parsers.LevelWarn,
				Pool: []byte("www"), Value: 10, NoZone: true},
		},
		{
			name: "killed child",
			line: `[20-Nov-2026 10:01:02] WARNING: [pool www] child 4121 exited on signal 9 (SIGKILL) after 12.345678 seconds from start`,
			want: parsers.Event{Time: time.Date(2026, 11, 20, 10, 1, 2, 0, utc), Signal: parsers.SigFPMChildExited, Level: parsers.LevelWarn,
				Pool: []byte("www"), ChildPID: 4121, ExitSig: 9, NoZone: true},
		},
		{
			name: "segfault core dumped",
			line: `[20-Nov-2026 10:01:02] WARNING: [pool www] child 4121 exited on signal 11 (SIGSEGV - core dumped) after 1.000000 seconds from start`,
			want: parsers.Event{Time: time.Date(2026, 11, 20, 10, 1, 2, 0, utc), Signal: parsers.SigFPMChildExited, Level: parsers.LevelWarn,
				Pool: []byte("www"), ChildPID: 4121, ExitSig: 11, NoZone: true},
		},
		{
			name: "exit code",
			line: `[20-Nov-2026 10:01:02] NOTICE: [pool www] child 4121 exited with code 3 after 1.2 seconds from start`,
			want: parsers.Event{Time: time.Date(2026, 11, 20, 10, 1, 2, 0, utc), Signal: parsers.SigFPMChildExited, Level: parsers.LevelNotice,
				Pool: []byte("www"), ChildPID: 4121, ExitCode: 3, NoZone: true},
		},
		{
			name: "execution timed out rounds seconds",
			line: `[20-Nov-2026 10:01:02] WARNING: [pool www] child 4121, script '/var/www/html/slow.php' (request: "GET /slow.php") execution timed out (5.512345 sec), terminating`,
			want: parsers.Event{Time: time.Date(2026, 11, 20, 10, 1, 2, 0, utc), Signal: parsers.SigFPMExecTimeout, Level: parsers.LevelWarn,
				Pool: []byte("www"), ChildPID: 4121, Process: []byte("/var/www/html/slow.php"), Request: []byte("GET /slow.php"), Value: 6, NoZone: true},
		},
		{
			name: "executing too slow",
			line: `[20-Nov-2026 10:01:02] WARNING: [pool www] child 4121, script '/x.php' (request: "GET /x.php?a=1") executing too slow (1.002 sec), logging`,
			want: parsers.Event{Time: time.Date(2026, 11, 20, 10, 1, 2, 0, utc), Signal: parsers.SigFPMSlowlog, Level: parsers.LevelWarn,
				Pool: []byte("www"), ChildPID: 4121, Process: []byte("/x.php"), Request: []byte("GET /x.php?a=1"), Value: 1, NoZone: true},
		},
		{
			name: "child started is no signal",
			line: `[20-Nov-2026 10:01:02] NOTICE: [pool www] child 4122 started`,
			want: parsers.Event{Time: time.Date(2026, 11, 20, 10, 1, 2, 0, utc), Level: parsers.LevelNotice, Pool: []byte("www"), ChildPID: 4122, NoZone: true},
		},
		{
			name: "started",
			line: `[20-Nov-2026 10:01:02] NOTICE: fpm is running, pid 4100`,
			want: parsers.Event{Time: time.Date(2026, 11, 20, 10, 1, 2, 0, utc), Signal: parsers.SigFPMStarted, Level: parsers.LevelNotice, PID: 4100, NoZone: true},
		},
		{
			name: "stopping",
			line: `[20-Nov-2026 10:01:02] NOTICE: exiting, bye-bye!`,
			want: parsers.Event{Time: time.Date(2026, 11, 20, 10, 1, 2, 0, utc), Signal: parsers.SigFPMStopping, Level: parsers.LevelNotice, NoZone: true},
		},
		{
			name: "alert level",
			line: `[20-Nov-2026 10:01:02] ALERT: oops, unknown child (4199) exited on signal 9 (SIGKILL).`,
			want: parsers.Event{Time: time.Date(2026, 11, 20, 10, 1, 2, 0, utc), Level: parsers.LevelCrit, NoZone: true},
		},
		{
			name: "debug level with microseconds and location",
			line: `[20-Nov-2026 10:01:02.123456] WARNING: pid 4100, fpm_children_bury(), line 289: [pool www] child 4121 exited on signal 15 (SIGTERM) after 3.0 seconds from start`,
			want: parsers.Event{Time: time.Date(2026, 11, 20, 10, 1, 2, 123456000, utc), Signal: parsers.SigFPMChildExited, Level: parsers.LevelWarn,
				PID: 4100, Pool: []byte("www"), ChildPID: 4121, ExitSig: 15, NoZone: true},
		},
		{
			name: "slowlog header",
			line: `[20-Nov-2026 10:01:02]  [pool www] pid 4121`,
			want: parsers.Event{Time: time.Date(2026, 11, 20, 10, 1, 2, 0, utc), Signal: parsers.SigFPMSlowlog, Pool: []byte("www"), ChildPID: 4121, NoZone: true},
		},
		{
			name: "slowlog frame",
			line: `[0x00007f6f5cc15070] sleep() /var/www/x.php:3`,
			want: parsers.Event{},
		},
		{
			name: "syslog classic",
			line: `Nov 20 10:01:02 web1 php-fpm[4100]: [WARNING] [pool www] server reached pm.max_children setting (5), consider raising it`,
			want: parsers.Event{Time: time.Date(2026, 11, 20, 10, 1, 2, 0, utc), Signal: parsers.SigFPMMaxChildren, Level: parsers.LevelWarn,
				PID: 4100, Pool: []byte("www"), Value: 5, NoZone: true, NoYear: true},
		},
		{
			name: "syslog rfc3339 with offset",
			line: `2026-11-20T11:01:02.5+01:00 web1 php-fpm8.2[4100]: [WARNING] [pool www] child 7 exited on signal 9 (SIGKILL) after 1.0 seconds from start`,
			want: parsers.Event{Time: time.Date(2026, 11, 20, 10, 1, 2, 500000000, utc), Signal: parsers.SigFPMChildExited, Level: parsers.LevelWarn,
				PID: 4100, Pool: []byte("www"), ChildPID: 7, ExitSig: 9},
		},
	}
	parse := New(parsers.Options{Location: time.UTC, Ref: golden.Ref})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse([]byte(tt.line))
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if got.Kind != parsers.KindFPM {
				t.Errorf("Kind = %v, want KindFPM", got.Kind)
			}
			check(t, got, tt.want)
		})
	}
}

// check compares the fields this package sets; Message is compared only
// when the test names one.
func check(t *testing.T, got, want parsers.Event) {
	t.Helper()
	if !got.Time.Equal(want.Time) {
		t.Errorf("Time = %v, want %v", got.Time, want.Time)
	}
	if got.Signal != want.Signal || got.Level != want.Level {
		t.Errorf("Signal, Level = %v, %v; want %v, %v", got.Signal, got.Level, want.Signal, want.Level)
	}
	if got.PID != want.PID || got.ChildPID != want.ChildPID || got.ExitSig != want.ExitSig || got.ExitCode != want.ExitCode || got.Value != want.Value {
		t.Errorf("PID %d ChildPID %d ExitSig %d ExitCode %d Value %d; want %d %d %d %d %d", got.PID, got.ChildPID, got.ExitSig, got.ExitCode, got.Value,
			want.PID, want.ChildPID, want.ExitSig, want.ExitCode, want.Value)
	}
	if string(got.Pool) != string(want.Pool) || string(got.Process) != string(want.Process) || string(got.Request) != string(want.Request) {
		t.Errorf("Pool %q Process %q Request %q; want %q %q %q", got.Pool, got.Process, got.Request, want.Pool, want.Process, want.Request)
	}
	if want.Message != nil && string(got.Message) != string(want.Message) {
		t.Errorf("Message = %q, want %q", got.Message, want.Message)
	}
	if got.NoZone != want.NoZone || got.NoYear != want.NoYear {
		t.Errorf("NoZone, NoYear = %v, %v; want %v, %v", got.NoZone, got.NoYear, want.NoZone, want.NoYear)
	}
}

func TestNoMatch(t *testing.T) {
	parse := New(parsers.Options{})
	for _, line := range []string{
		``,
		`PHP Warning:  Module "opcache" is already loaded in Unknown on line 0`,
		`[20-Nov-2026 10:01:02 NOTICE: no closing bracket`,
		`[20-Nov-2026 10:01:02] no level here`,
		`[20-Nov-2026 10:01:02] INFO: not a zlog level`,
		`Nov 20 10:01:02 web1 systemd[1]: Started php8.2-fpm.service - The PHP 8.2 FastCGI Process Manager.`,
		`Nov 20 10:01:02 web1 php-fpm[4100]: not bracketed`,
		`2026-11-20T10:01:02 web1 php-fpm[4100]: [NOTICE] no zone`,
	} {
		if ev, err := parse([]byte(line)); !errors.Is(err, parsers.ErrNoMatch) {
			t.Errorf("%q: got %+v, %v; want ErrNoMatch", line, ev, err)
		}
	}
}

func TestLocation(t *testing.T) {
	loc := time.FixedZone("UTC+2", 2*3600)
	ev, err := New(parsers.Options{Location: loc})([]byte(`[20-Nov-2026 10:01:02] NOTICE: ready to handle connections`))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 20, 8, 1, 2, 0, time.UTC); !ev.Time.Equal(want) || !ev.NoZone {
		t.Errorf("Time = %v NoZone %v, want %v in the given location", ev.Time, ev.NoZone, want)
	}
}

func TestGolden(t *testing.T) {
	golden.Run(t, "../testdata/php_fpm", New(parsers.Options{Location: time.UTC, Ref: golden.Ref}))
}

// typical holds lines of the shapes a busy server writes most.
var typical = []string{
	`[20-Nov-2026 10:01:02] WARNING: [pool www] server reached pm.max_children setting (5), consider raising it`,
	`[20-Nov-2026 10:01:02] WARNING: [pool www] child 4121 exited on signal 9 (SIGKILL) after 12.345678 seconds from start`,
	`[20-Nov-2026 10:01:02] NOTICE: [pool www] child 4122 started`,
	`[20-Nov-2026 10:01:02] WARNING: [pool www] child 4121, script '/var/www/html/slow.php' (request: "GET /slow.php") execution timed out (5.012345 sec), terminating`,
	`Nov 20 10:01:02 web1 php-fpm[4100]: [WARNING] [pool www] server reached pm.max_children setting (5), consider raising it`,
	`[0x00007f6f5cc15070] sleep() /var/www/x.php:3`,
}

func TestZeroAllocs(t *testing.T) {
	parse := New(parsers.Options{Location: time.UTC, Ref: golden.Ref})
	for _, l := range typical {
		line := []byte(l)
		if n := testing.AllocsPerRun(100, func() { _, _ = parse(line) }); n != 0 {
			t.Errorf("%d allocations per line for %q", int(n), l)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	parse := New(parsers.Options{Location: time.UTC, Ref: golden.Ref})
	lines := make([][]byte, len(typical))
	size := 0
	for i, l := range typical {
		lines[i] = []byte(l)
		size += len(l)
	}
	b.ReportAllocs()
	b.SetBytes(int64(size / len(lines)))
	for i := 0; b.Loop(); i++ {
		_, _ = parse(lines[i%len(lines)])
	}
}

func FuzzParse(f *testing.F) {
	logs, _ := filepath.Glob("../testdata/php_fpm/*.log")
	for _, lf := range logs {
		data, err := os.ReadFile(lf)
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			f.Add([]byte(l))
		}
	}
	parse := New(parsers.Options{Location: time.UTC, Ref: golden.Ref})
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, err := parse(line)
		if err != nil {
			if !errors.Is(err, parsers.ErrNoMatch) {
				t.Fatalf("error %v is not ErrNoMatch", err)
			}
			return
		}
		if ev.Kind != parsers.KindFPM {
			t.Fatalf("Kind = %v", ev.Kind)
		}
		for name, field := range map[string][]byte{"Pool": ev.Pool, "Process": ev.Process, "Request": ev.Request, "Message": ev.Message} {
			if !within(field, line) {
				t.Fatalf("%s %q is not a sub-slice of the line", name, field)
			}
		}
		if ev.ChildPID < 0 || ev.PID < 0 || ev.Value < 0 || ev.ExitSig < 0 || ev.ExitCode < 0 {
			t.Fatalf("negative number in %+v", ev)
		}
	})
}

// within reports whether sub is empty or lies inside line's backing array.
func within(sub, line []byte) bool {
	if len(sub) == 0 {
		return true
	}
	if len(line) == 0 {
		return false
	}
	lo, hi := uintptr(unsafe.Pointer(&line[0])), uintptr(unsafe.Pointer(&line[len(line)-1]))
	s, e := uintptr(unsafe.Pointer(&sub[0])), uintptr(unsafe.Pointer(&sub[len(sub)-1]))
	return lo <= s && e <= hi
}
