package kernel

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
			name: "kern.log memcg kill with monotonic stamp",
			line: `Nov 20 10:01:02 web1 kernel: [12345.678901] Memory cgroup out of memory: Killed process 4121 (php-fpm8.2) total-vm:75160kB, anon-rss:65280kB`,
			want: parsers.Event{Time: time.Date(2026, 11, 20, 10, 1, 2, 0, utc), Signal: parsers.SigOOMKill, ChildPID: 4121, Process: []byte("php-fpm8.2"),
				Monotonic: 12345678901 * time.Microsecond, NoYear: true, NoZone: true,
				Message: []byte("Memory cgroup out of memory: Killed process 4121 (php-fpm8.2) total-vm:75160kB, anon-rss:65280kB")},
		},
		{
			name: "rsyslog rfc3339",
			line: `2026-11-20T10:01:02.123456+00:00 web1 kernel: Out of memory: Killed process 4121 (php-fpm8.2) total-vm:1kB`,
			want: parsers.Event{Time: time.Date(2026, 11, 20, 10, 1, 2, 123456000, utc), Signal: parsers.SigOOMKill, ChildPID: 4121, Process: []byte("php-fpm8.2")},
		},
		{
			name: "dmesg iso",
			line: `2026-11-20T10:01:02,123456+00:00 Memory cgroup out of memory: Kill process 4121 (php-fpm) score 912 or sacrifice child`,
			want: parsers.Event{Time: time.Date(2026, 11, 20, 10, 1, 2, 123456000, utc), Signal: parsers.SigOOMKill, ChildPID: 4121, Process: []byte("php-fpm")},
		},
		{
			name: "journalctl short-iso with offset",
			line: `2026-11-20T12:01:02+0200 web1 kernel: Killed process 4121 (php-fpm) total-vm:1048576kB`,
			want: parsers.Event{Time: time.Date(2026, 11, 20, 10, 1, 2, 0, utc), Signal: parsers.SigOOMKill, ChildPID: 4121, Process: []byte("php-fpm")},
		},
		{
			name: "journalctl short",
			line: `Nov  2 10:01:02 web1 kernel: php-fpm8.2 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0`,
			want: parsers.Event{Time: time.Date(2026, 11, 2, 10, 1, 2, 0, utc), Signal: parsers.SigOOMInvoked, Process: []byte("php-fpm8.2"), NoYear: true, NoZone: true},
		},
		{
			name: "plain dmesg constraint",
			line: `[ 2386.732186] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/system.slice/php8.2-fpm.service,task_memcg=/system.slice/php8.2-fpm.service,task=php-fpm8.2,pid=4121,uid=33`,
			want: parsers.Event{Signal: parsers.SigOOMConstraint, ChildPID: 4121, Process: []byte("php-fpm8.2"), Module: []byte("/system.slice/php8.2-fpm.service"),
				Monotonic: 2386732186 * time.Microsecond},
		},
		{
			name: "kmsg reaper",
			line: `6,431,2386732277,-;oom_reaper: reaped process 4121 (php-fpm8.2), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB`,
			want: parsers.Event{Signal: parsers.SigOOMReaper, Level: parsers.LevelInfo, Seq: 431, ChildPID: 4121, Process: []byte("php-fpm8.2"),
				Monotonic: 2386732277 * time.Microsecond},
		},
		{
			name: "kmsg segfault",
			line: `6,344,2385985967,-;php-fpm8.2[4121]: segfault at 0 ip 000055d0c0a0b0c0 sp 00007ffd12345678 error 4 in php-fpm8.2[55d0c0800000+300000] likely on CPU 1 (core 1, socket 0)`,
			want: parsers.Event{Signal: parsers.SigSegfault, Level: parsers.LevelInfo, Seq: 344, ChildPID: 4121, Process: []byte("php-fpm8.2"),
				Monotonic: 2385985967 * time.Microsecond},
		},
		{
			name: "kmsg error level",
			line: `3,511,2387449937,-;Memory cgroup out of memory: Killed process 18108 (python3) total-vm:75160kB`,
			want: parsers.Event{Signal: parsers.SigOOMKill, Level: parsers.LevelError, Seq: 511, ChildPID: 18108, Process: []byte("python3"),
				Monotonic: 2387449937 * time.Microsecond},
		},
		{
			name: "general protection fault",
			line: `[  814.200000] traps: php-fpm7.4[4123] general protection fault ip:55d0c0a0b0c0 sp:7ffd12345678 error:0 in libc-2.31.so[7f1e2a000000+178000]`,
			want: parsers.Event{Signal: parsers.SigSegfault, ChildPID: 4123, Process: []byte("php-fpm7.4"), Monotonic: 814200000 * time.Microsecond},
		},
		{
			name: "invalid opcode, name with a space",
			line: `[  815.300000] Web Content[4124]: trap invalid opcode ip:7f1e2a0a1b2c sp:7ffd12345678 error:0`,
			want: parsers.Event{Signal: parsers.SigSegfault, ChildPID: 4124, Process: []byte("Web Content"), Monotonic: 815300000 * time.Microsecond},
		},
		{
			name: "kmsg dictionary line",
			line: ` SUBSYSTEM=acpi`,
			want: parsers.Event{Message: []byte("SUBSYSTEM=acpi")},
		},
		{
			name: "dmesg -T",
			line: `[Sun Nov 22 04:48:13 2026] php-segv[18103]: segfault at 0 ip 000055aed06ad139 sp 00007ffe99f69c80 error 4 in php-segv[1139,55aed06ad000+1000]`,
			want: parsers.Event{Time: time.Date(2026, 11, 22, 4, 48, 13, 0, utc), Signal: parsers.SigSegfault, ChildPID: 18103, Process: []byte("php-segv"), NoZone: true},
		},
		{
			name: "other kernel text",
			line: `Nov 20 10:01:02 web1 kernel: [    1.387533] EXT4-fs (vda): mounted filesystem r/w without journal. Quota mode: none.`,
			want: parsers.Event{Time: time.Date(2026, 11, 20, 10, 1, 2, 0, utc), Monotonic: 1387533 * time.Microsecond, NoYear: true, NoZone: true},
		},
		{
			name: "killed process inside other text is no kill",
			line: `[ 5.000000] audit: comm="Killed process 12 (x)"`,
			want: parsers.Event{Monotonic: 5 * time.Second},
		},
	}
	parse := New(parsers.Options{Location: time.UTC, Ref: golden.Ref})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse([]byte(tt.line))
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if got.Kind != parsers.KindKernel {
				t.Errorf("Kind = %v, want KindKernel", got.Kind)
			}
			if !got.Time.Equal(tt.want.Time) || got.NoYear != tt.want.NoYear || got.NoZone != tt.want.NoZone {
				t.Errorf("Time %v NoYear %v NoZone %v; want %v %v %v", got.Time, got.NoYear, got.NoZone, tt.want.Time, tt.want.NoYear, tt.want.NoZone)
			}
			if got.Signal != tt.want.Signal || got.Level != tt.want.Level || got.Seq != tt.want.Seq || got.Monotonic != tt.want.Monotonic {
				t.Errorf("Signal %v Level %v Seq %d Monotonic %v; want %v %v %d %v", got.Signal, got.Level, got.Seq, got.Monotonic,
					tt.want.Signal, tt.want.Level, tt.want.Seq, tt.want.Monotonic)
			}
			if got.ChildPID != tt.want.ChildPID || string(got.Process) != string(tt.want.Process) || string(got.Module) != string(tt.want.Module) {
				t.Errorf("ChildPID %d Process %q Module %q; want %d %q %q", got.ChildPID, got.Process, got.Module, tt.want.ChildPID, tt.want.Process, tt.want.Module)
			}
			if tt.want.Message != nil && string(got.Message) != string(tt.want.Message) {
				t.Errorf("Message = %q, want %q", got.Message, tt.want.Message)
			}
		})
	}
}

func TestNotKernel(t *testing.T) {
	parse := New(parsers.Options{})
	for _, line := range []string{
		`Nov 20 10:01:02 web1 systemd[1]: php8.2-fpm.service: A process of this unit has been killed by the OOM killer.`,
		`2026-11-20T10:01:02.123456+00:00 web1 php-fpm8.2[4100]: [WARNING] [pool www] child 1 exited on signal 9 (SIGKILL)`,
		`2026-11-20T10:01:02+0000 web1 CRON[2212]: (root) CMD (true)`,
	} {
		_, err := parse([]byte(line))
		if !errors.Is(err, parsers.ErrNoMatch) || !strings.Contains(err.Error(), "not a kernel line") {
			t.Errorf("%q: err = %v, want ErrNoMatch with \"not a kernel line\"", line, err)
		}
	}
	for _, line := range []string{``, `-- Boot 0b5c2ab1f0bb4c2c9cfc7aaf0e3a2a41 --`, `[ 2386.728801 no closing bracket`, `6,1,2;no flags`, `hello world`} {
		if _, err := parse([]byte(line)); !errors.Is(err, parsers.ErrNoMatch) {
			t.Errorf("%q: err = %v, want ErrNoMatch", line, err)
		}
	}
}

func TestGolden(t *testing.T) {
	golden.Run(t, "../testdata/kernel", New(parsers.Options{Location: time.UTC, Ref: golden.Ref}))
}

var typical = []string{
	`Nov 20 10:01:02 web1 kernel: [12345.678901] Memory cgroup out of memory: Killed process 4121 (php-fpm8.2) total-vm:75160kB, anon-rss:65280kB`,
	`2026-11-22T04:48:15,449916+00:00 oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/h3-oom-test,task_memcg=/h3-oom-test,task=python3,pid=18108,uid=0`,
	`6,344,2385985967,-;php-segv[18103]: segfault at 0 ip 000055aed06ad139 sp 00007ffe99f69c80 error 4 in php-segv[1139,55aed06ad000+1000] likely on CPU 1 (core 1, socket 0)`,
	`2026-11-22T04:48:15.449452+00:00 web1 kernel:  oom_kill_process.cold+0x8/0x8a`,
	`[ 2386.728801] php invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0`,
	` SUBSYSTEM=acpi`,
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
	logs, _ := filepath.Glob("../testdata/kernel/*.log")
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
		if ev.Kind != parsers.KindKernel {
			t.Fatalf("Kind = %v", ev.Kind)
		}
		for name, field := range map[string][]byte{"Process": ev.Process, "Module": ev.Module, "Message": ev.Message} {
			if !within(field, line) {
				t.Fatalf("%s %q is not a sub-slice of the line", name, field)
			}
		}
		if ev.ChildPID < 0 || ev.Monotonic < 0 {
			t.Fatalf("negative number in %+v", ev)
		}
		if ev.Signal != parsers.SigNone && ev.Signal != parsers.SigOOMInvoked && ev.ChildPID <= 0 {
			t.Fatalf("signal %v without a pid", ev.Signal)
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

// A kmsg timestamp whose µs→ns conversion would wrap is not a kmsg record:
// the wrapped value may land anywhere, negative or plausible.
func TestKmsgHugeMonotonic(t *testing.T) {
	parse := New(parsers.Options{Location: time.UTC})
	ev, err := parse([]byte(`6,1,999999999999999999,-;php-fpm8.2[4121]: segfault at 0 ip 0`))
	if err == nil {
		t.Fatalf("accepted with Monotonic %v", ev.Monotonic)
	}
	if _, err := parse([]byte(`6,1,9223372036854775,-;php-fpm8.2[4121]: segfault at 0 ip 0`)); err != nil {
		t.Fatalf("the largest convertible µs value was rejected: %v", err)
	}
}
