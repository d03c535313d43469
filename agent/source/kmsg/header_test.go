package kmsg

import (
	"bytes"
	"testing"
)

func TestParseRecord(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Header
		text string
		err  bool
	}{
		{name: "plain", in: "6,1234,5678901234,-;eth0: link up", want: Header{Prio: 6, Seq: 1234, Usec: 5678901234, Flag: '-'}, text: "eth0: link up"},
		{name: "trailing newline", in: "3,2,16,-;text\n", want: Header{Prio: 3, Seq: 2, Usec: 16, Flag: '-'}, text: "text"},
		{name: "dictionary lines dropped", in: "3,1023,1400347362,-;Memory cgroup out of memory: Killed process 4121 (php-fpm8.2) total-vm:396416kB\n SUBSYSTEM=memory\n DEVICE=+memcg:x\n",
			want: Header{Prio: 3, Seq: 1023, Usec: 1400347362, Flag: '-'}, text: "Memory cgroup out of memory: Killed process 4121 (php-fpm8.2) total-vm:396416kB"},
		{name: "facility", in: "14,88,2000,-;origin-agent: hello", want: Header{Prio: 14, Seq: 88, Usec: 2000, Flag: '-'}, text: "origin-agent: hello"},
		{name: "first fragment", in: "4,10,100,c;CPU: ", want: Header{Prio: 4, Seq: 10, Usec: 100, Flag: 'c'}, text: "CPU: "},
		{name: "next fragment", in: "4,11,101,+;Intel", want: Header{Prio: 4, Seq: 11, Usec: 101, Flag: '+'}, text: "Intel"},
		{name: "future fields", in: "6,5,7,-,caller=T12;x", want: Header{Prio: 6, Seq: 5, Usec: 7, Flag: '-'}, text: "x"},
		{name: "empty text", in: "6,5,7,-;", want: Header{Prio: 6, Seq: 5, Usec: 7, Flag: '-'}, text: ""},
		{name: "escaped text kept", in: `6,5,7,-;a\x0ab`, want: Header{Prio: 6, Seq: 5, Usec: 7, Flag: '-'}, text: `a\x0ab`},
		{name: "empty", in: "", err: true},
		{name: "no semicolon", in: "6,1,2,-", err: true},
		{name: "missing field", in: "6,1,-;x", err: true},
		{name: "bad flag", in: "6,1,2,x;x", err: true},
		{name: "long flag", in: "6,1,2,--;x", err: true},
		{name: "no flag", in: "6,1,2,;x", err: true},
		{name: "letters", in: "a,1,2,-;x", err: true},
		{name: "overflow", in: "6,99999999999999999999999,2,-;x", err: true},
		{name: "dmesg line", in: "[ 2385.985967] Out of memory; x", err: true},
		{name: "dictionary line alone", in: " SUBSYSTEM=memory", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, text, err := ParseRecord([]byte(tt.in))
			if tt.err {
				if err == nil {
					t.Fatalf("ParseRecord(%q) = %+v, %q; want error", tt.in, h, text)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRecord(%q): %v", tt.in, err)
			}
			if h != tt.want || string(text) != tt.text {
				t.Fatalf("ParseRecord(%q) = %+v %q; want %+v %q", tt.in, h, text, tt.want, tt.text)
			}
		})
	}
}

func TestParseRecordAllocs(t *testing.T) {
	line := []byte("3,1023,1400347362,-;Memory cgroup out of memory: Killed process 4121 (php-fpm8.2) total-vm:396416kB\n SUBSYSTEM=memory\n")
	n := testing.AllocsPerRun(1000, func() {
		if _, _, err := ParseRecord(line); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Fatalf("ParseRecord allocates %v times per record; want 0", n)
	}
}

func BenchmarkParseRecord(b *testing.B) {
	line := []byte("3,1023,1400347362,-;Memory cgroup out of memory: Killed process 4121 (php-fpm8.2) total-vm:396416kB, anon-rss:30388kB\n SUBSYSTEM=memory\n")
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, _, err := ParseRecord(line); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{
		"6,1234,5678901234,-;eth0: link up",
		"3,1023,1400347362,-;Memory cgroup out of memory: Killed process 4121 (php-fpm8.2)\n SUBSYSTEM=memory\n",
		"4,10,100,c;CPU: ", "4,11,101,+;Intel", "6,5,7,-,caller=T12;x", "6,1,2,-", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, text, err := ParseRecord(b)
		if err != nil {
			return
		}
		if h.Flag != '-' && h.Flag != 'c' && h.Flag != '+' {
			t.Fatalf("flag %q", h.Flag)
		}
		if bytes.IndexByte(text, '\n') >= 0 {
			t.Fatalf("text %q holds a newline", text)
		}
		if len(text) > 0 && !subslice(b, text) {
			t.Fatalf("text %q is not a sub-slice of the input", text)
		}
		// What the reader sends must parse back to the same header and text.
		line := formatLine(Header{Prio: h.Prio, Seq: h.Seq, Usec: h.Usec, Flag: '-'}, text)
		h2, text2, err := ParseRecord(line)
		if err != nil || h2.Seq != h.Seq || h2.Usec != h.Usec || h2.Prio != h.Prio || !bytes.Equal(text, text2) {
			t.Fatalf("round trip of %q: %+v %q %v", line, h2, text2, err)
		}
	})
}

// subslice reports whether s lies within b's memory.
func subslice(b, s []byte) bool {
	if len(s) == 0 || len(b) == 0 {
		return len(s) == 0
	}
	for i := range b {
		if &b[i] == &s[0] {
			return i+len(s) <= len(b)
		}
	}
	return false
}
