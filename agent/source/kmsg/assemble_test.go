package kmsg

import (
	"bytes"
	"testing"
)

func TestAssembler(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string // emitted before the final flush
		tail []string // emitted by the final flush
	}{
		{name: "whole records", in: []string{"6,1,10,-;a", "6,2,11,-;b"}, want: []string{"6,1,10,-;a", "6,2,11,-;b"}},
		{name: "run ended by whole record", in: []string{"4,1,10,c;a", "4,2,11,+;b", "6,3,12,-;c"}, want: []string{"4,1,10,-;ab", "6,3,12,-;c"}},
		{name: "run ended by new run", in: []string{"4,1,10,c;a", "4,2,11,+;b", "4,3,12,c;x", "4,4,13,+;y"}, want: []string{"4,1,10,-;ab"}, tail: []string{"4,3,12,-;xy"}},
		{name: "orphan continuation", in: []string{"4,7,10,+;tail", "6,8,11,-;next"}, want: []string{"4,7,10,-;tail", "6,8,11,-;next"}},
		{name: "continuation after gap starts over", in: []string{"4,1,10,c;a", "4,5,11,+;b"}, want: []string{"4,1,10,-;a"}, tail: []string{"4,5,11,-;b"}},
		{name: "single first fragment", in: []string{"4,1,10,c;a"}, tail: []string{"4,1,10,-;a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a assembler
			var got []string
			emit := func(_ Header, line []byte) { got = append(got, string(line)) }
			for _, in := range tt.in {
				h, text, err := ParseRecord([]byte(in))
				if err != nil {
					t.Fatal(err)
				}
				a.add(h, text, emit)
			}
			if !equal(got, tt.want) {
				t.Fatalf("before flush: %q; want %q", got, tt.want)
			}
			got = nil
			a.flush(emit)
			if !equal(got, tt.tail) {
				t.Fatalf("flush: %q; want %q", got, tt.tail)
			}
		})
	}
}

func TestAssemblerGap(t *testing.T) {
	var a assembler
	for _, c := range []struct{ seq, want uint64 }{{50, 0}, {51, 0}, {55, 3}, {55, 0}, {10, 0}, {12, 1}} {
		if got := a.gap(c.seq); got != c.want {
			t.Fatalf("gap(%d) = %d; want %d", c.seq, got, c.want)
		}
	}
}

// FuzzAssembler feeds arbitrary records split on '|' and checks that no
// text is lost or invented: the emitted texts joined equal the input texts.
func FuzzAssembler(f *testing.F) {
	f.Add([]byte("4,1,10,c;a|4,2,11,+;b|6,3,12,-;c"))
	f.Add([]byte("4,7,10,+;tail|6,8,11,-;next|4,9,1,c;x"))
	f.Fuzz(func(t *testing.T, in []byte) {
		var a assembler
		var want, got []byte
		emit := func(h Header, line []byte) {
			h2, text, err := ParseRecord(line)
			if err != nil || h2.Flag != '-' || h2.Seq != h.Seq {
				t.Fatalf("emitted %q: %+v %v", line, h2, err)
			}
			got = append(got, text...)
		}
		for _, rec := range bytes.Split(in, []byte("|")) {
			h, text, err := ParseRecord(rec)
			if err != nil {
				continue
			}
			want = append(want, text...)
			a.gap(h.Seq)
			a.add(h, text, emit)
		}
		a.flush(emit)
		if !bytes.Equal(got, want) {
			t.Fatalf("emitted text %q; want %q", got, want)
		}
	})
}
