package host

import (
	"testing"
)

func TestParsePSI(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		some, full *PSIAvg
		err        bool
	}{
		{name: "cpu 5.13+", in: "some avg10=3.28 avg60=2.21 avg300=11.84 total=248162691\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
			some: &PSIAvg{Avg10: 3.28, Avg60: 2.21, Avg300: 11.84, Total: 248162691}, full: &PSIAvg{}},
		{name: "cpu before 5.13: some only", in: "some avg10=0.12 avg60=0.05 avg300=0.01 total=12345\n",
			some: &PSIAvg{Avg10: 0.12, Avg60: 0.05, Avg300: 0.01, Total: 12345}},
		{name: "memory under pressure", in: "some avg10=45.67 avg60=30.10 avg300=9.99 total=9876543210\nfull avg10=40.00 avg60=25.50 avg300=8.00 total=8765432100\n",
			some: &PSIAvg{Avg10: 45.67, Avg60: 30.10, Avg300: 9.99, Total: 9876543210}, full: &PSIAvg{Avg10: 40, Avg60: 25.5, Avg300: 8, Total: 8765432100}},
		{name: "no trailing newline", in: "some avg10=1.00 avg60=2.00 avg300=3.00 total=4",
			some: &PSIAvg{Avg10: 1, Avg60: 2, Avg300: 3, Total: 4}},
		{name: "unknown key ignored", in: "some avg10=1.00 avg60=2.00 avg300=3.00 avg900=9.00 total=4\n",
			some: &PSIAvg{Avg10: 1, Avg60: 2, Avg300: 3, Total: 4}},
		{name: "empty", in: "", err: true},
		{name: "missing total", in: "some avg10=1.00 avg60=2.00 avg300=3.00\n", err: true},
		{name: "bad number", in: "some avg10=x avg60=2.00 avg300=3.00 total=4\n", err: true},
		{name: "over 100", in: "some avg10=100.01 avg60=2.00 avg300=3.00 total=4\n", err: true},
		{name: "negative total", in: "some avg10=1 avg60=2.00 avg300=3.00 total=-4\n", err: true},
		{name: "bad kind", in: "most avg10=1 avg60=2.00 avg300=3.00 total=4\n", err: true},
		{name: "not key=value", in: "some avg10 1\n", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePSI([]byte(tt.in))
			if tt.err {
				if err == nil {
					t.Fatalf("ParsePSI(%q) = %+v; want error", tt.in, p)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !eq(p.Some, tt.some) || !eq(p.Full, tt.full) {
				t.Fatalf("ParsePSI(%q) = some %+v full %+v; want %+v %+v", tt.in, p.Some, p.Full, tt.some, tt.full)
			}
		})
	}
}

func eq(a, b *PSIAvg) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func BenchmarkParsePSI(b *testing.B) {
	in := []byte("some avg10=3.28 avg60=2.21 avg300=11.84 total=248162691\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := ParsePSI(in); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzParsePSI(f *testing.F) {
	f.Add([]byte("some avg10=3.28 avg60=2.21 avg300=11.84 total=248162691\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"))
	f.Add([]byte("some avg10=0.12 avg60=0.05 avg300=0.01 total=12345\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePSI(b)
		if err != nil {
			return
		}
		for _, a := range []*PSIAvg{p.Some, p.Full} {
			if a == nil {
				continue
			}
			for _, v := range []float64{a.Avg10, a.Avg60, a.Avg300} {
				if !(v >= 0 && v <= 100) {
					t.Fatalf("avg %v out of 0..100 in %+v", v, a)
				}
			}
		}
	})
}
