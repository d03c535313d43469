package journal

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseEntry(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		msg     string
		time    time.Time
		cursor  string
		prio    int
		mono    time.Duration
		wantErr string
	}{
		{name: "string message",
			in:  `{"__CURSOR":"s=ab;i=4a1;b=cd;m=c1;t=5f;x=8e","__REALTIME_TIMESTAMP":"1795255262123456","__MONOTONIC_TIMESTAMP":"3245687745","_SOURCE_MONOTONIC_TIMESTAMP":"3245687700","PRIORITY":"3","_TRANSPORT":"kernel","MESSAGE":"Out of memory: Killed process 4121 (php-fpm8.2)"}`,
			msg: "Out of memory: Killed process 4121 (php-fpm8.2)", time: time.UnixMicro(1795255262123456).UTC(),
			cursor: "s=ab;i=4a1;b=cd;m=c1;t=5f;x=8e", prio: 3, mono: 3245687700 * time.Microsecond},
		{name: "byte array message",
			in:  `{"__REALTIME_TIMESTAMP":"1000000","PRIORITY":"6","MESSAGE":[115,101,103,255,10,102]}`,
			msg: "seg\xff\nf", time: time.Unix(1, 0).UTC(), prio: 6},
		{name: "multiple values take the first",
			in:  `{"__REALTIME_TIMESTAMP":"1000000","MESSAGE":["first",[97,98]]}`,
			msg: "first", time: time.Unix(1, 0).UTC(), prio: 6},
		{name: "multiple byte values",
			in:  `{"__REALTIME_TIMESTAMP":"1000000","MESSAGE":[[97,98],"x"]}`,
			msg: "ab", time: time.Unix(1, 0).UTC(), prio: 6},
		{name: "null message (over 4096 bytes without --all)",
			in:  `{"__REALTIME_TIMESTAMP":"1000000","MESSAGE":null}`,
			msg: "", time: time.Unix(1, 0).UTC(), prio: 6},
		{name: "monotonic fallback",
			in:  `{"__REALTIME_TIMESTAMP":"1000000","__MONOTONIC_TIMESTAMP":"5000000","MESSAGE":"x"}`,
			msg: "x", time: time.Unix(1, 0).UTC(), prio: 6, mono: 5 * time.Second},
		{name: "escapes", in: `{"__REALTIME_TIMESTAMP":"1","MESSAGE":"tab\there \u00e9"}`, msg: "tab\there é", time: time.UnixMicro(1).UTC(), prio: 6},
		{name: "no message", in: `{"__REALTIME_TIMESTAMP":"1"}`, wantErr: "no MESSAGE"},
		{name: "no time", in: `{"MESSAGE":"x"}`, wantErr: "__REALTIME_TIMESTAMP"},
		{name: "bad time", in: `{"MESSAGE":"x","__REALTIME_TIMESTAMP":"soon"}`, wantErr: "__REALTIME_TIMESTAMP"},
		{name: "bad priority", in: `{"MESSAGE":"x","__REALTIME_TIMESTAMP":"1","PRIORITY":"9"}`, wantErr: "PRIORITY"},
		{name: "number message", in: `{"MESSAGE":5,"__REALTIME_TIMESTAMP":"1"}`, wantErr: "MESSAGE"},
		{name: "byte out of range", in: `{"MESSAGE":[256],"__REALTIME_TIMESTAMP":"1"}`, wantErr: "MESSAGE"},
		{name: "not json", in: `-- No entries --`, wantErr: "journal entry"},
		{name: "empty", in: ``, wantErr: "journal entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseEntry([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseEntry = %+v, %v; want error containing %q", e, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(e.Message) != tt.msg || !e.Time.Equal(tt.time) || e.Cursor != tt.cursor || e.Priority != tt.prio || e.Monotonic != tt.mono {
				t.Fatalf("ParseEntry = %+v (message %q)", e, e.Message)
			}
		})
	}
}

func TestKmsgLine(t *testing.T) {
	e := Entry{Message: []byte("Out of memory: Killed process 1 (x)"), Priority: 3, Monotonic: 3245687873 * time.Microsecond}
	if got, want := string(e.KmsgLine()), "3,0,3245687873,-;Out of memory: Killed process 1 (x)"; got != want {
		t.Fatalf("KmsgLine = %q; want %q", got, want)
	}
}

func TestParseFixture(t *testing.T) {
	f, err := os.Open("testdata/kernel.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var got []Entry
	for sc.Scan() {
		e, err := ParseEntry(sc.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", sc.Bytes(), err)
		}
		got = append(got, e)
	}
	if len(got) != 4 {
		t.Fatalf("%d entries; want 4", len(got))
	}
	if !strings.HasPrefix(string(got[2].Message), "Memory cgroup out of memory: Killed process 6878 (php-fpm8.2)") ||
		got[2].Priority != 3 || !strings.Contains(got[2].Cursor, ";i=4b8;") {
		t.Fatalf("entry 3 = %+v", got[2])
	}
	if string(got[3].Message) != "php-fpm8.2[7012]: segfault at 0 \xff" {
		t.Fatalf("binary message = %q", got[3].Message)
	}
}

func BenchmarkParseEntry(b *testing.B) {
	line := []byte(`{"__CURSOR":"s=7c1f5e0b9d4a4c2e8f3b6a1d2c3e4f50;i=4b8;b=3e8d2f9a1b7c4d6e8f0a2b4c6d8e0f12;m=c174b811;t=5f0e1d2c3b4d0;x=2a3b4c5d6e7f8091","__REALTIME_TIMESTAMP":"1795255262123536","__MONOTONIC_TIMESTAMP":"3245687825","_BOOT_ID":"3e8d2f9a1b7c4d6e8f0a2b4c6d8e0f12","_SOURCE_MONOTONIC_TIMESTAMP":"3245687873","_TRANSPORT":"kernel","PRIORITY":"3","SYSLOG_FACILITY":"0","SYSLOG_IDENTIFIER":"kernel","MESSAGE":"Memory cgroup out of memory: Killed process 6878 (php-fpm8.2) total-vm:357648kB, anon-rss:159192kB, file-rss:7104kB, shmem-rss:1480kB, UID:33 pgtables:516kB oom_score_adj:0","_HOSTNAME":"web1"}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, err := ParseEntry(line); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParseEntry(f *testing.F) {
	data, err := os.ReadFile("testdata/kernel.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		f.Add([]byte(l))
	}
	f.Add([]byte(`{"__REALTIME_TIMESTAMP":"1","MESSAGE":[[97],"x"]}`))
	f.Add([]byte(`{"__REALTIME_TIMESTAMP":"1","MESSAGE":null,"PRIORITY":["3"]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEntry(b)
		if err != nil {
			return
		}
		if e.Priority < 0 || e.Priority > 7 || e.Message == nil {
			t.Fatalf("entry %+v", e)
		}
		if _, err := ParseEntry(append([]byte(nil), b...)); err != nil {
			t.Fatalf("second parse: %v", err)
		}
	})
}
