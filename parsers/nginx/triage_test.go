package nginx

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/origin-agent/origin-agent/parsers"
)

// TestTriageAgreesWithFull: on every golden combined-like line, the triage
// parser gives the same time, status and kind as the full parser, the full
// event for gateway statuses, and the same accept/reject decision.
func TestTriageAgreesWithFull(t *testing.T) {
	files, _ := filepath.Glob("../testdata/nginx_access/*.log")
	if len(files) == 0 {
		t.Fatal("no golden inputs")
	}
	combined := NewAccess(Combined(), parsers.Options{})
	for _, fmtf := range []*Format{Combined(), Main()} {
		full := NewAccess(fmtf, parsers.Options{})
		tri := NewAccessTriage(fmtf, parsers.Options{})
		n := 0
		for _, p := range files {
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				line := sc.Bytes()
				a, errA := full(line)
				b, errB := tri(line)
				if errA == nil && errB != nil {
					t.Errorf("%s: %q: full parsed it, triage: %v", fmtf.Name(), line, errB)
					continue
				}
				// Triage is lenient past $status: it accepts what combined accepts.
				if errA != nil && errB == nil {
					if _, errC := combined(line); errC != nil {
						t.Errorf("%s: %q: triage accepted a line combined rejects (%v)", fmtf.Name(), line, errC)
					}
					continue
				}
				if errA != nil {
					continue
				}
				n++
				if !a.Time.Equal(b.Time) || a.Status != b.Status || a.Kind != b.Kind {
					t.Errorf("%q: full (%v %d) triage (%v %d)", line, a.Time, a.Status, b.Time, b.Status)
				}
				if a.IsGateway() && string(a.Request) != string(b.Request) {
					t.Errorf("%q: gateway line not fully parsed", line)
				}
			}
			f.Close()
		}
		if n == 0 {
			t.Fatalf("%s: no line parsed", fmtf.Name())
		}
	}
}

func TestTriageFallsBackForOtherFormats(t *testing.T) {
	f, err := CompileFormat("t", `$time_iso8601 $status "$request"`, EscapeDefault)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := NewAccessTriage(f, parsers.Options{})([]byte(`2026-11-20T10:00:00+00:00 200 "GET / HTTP/1.1"`))
	if err != nil || ev.Status != 200 || string(ev.Request) != "GET / HTTP/1.1" {
		t.Fatalf("got %+v, %v", ev, err)
	}
}

func BenchmarkTriageCombined(b *testing.B) {
	line := []byte(`198.51.100.7 - - [20/Nov/2026:10:01:02 +0000] "GET /products/item-42?ref=home HTTP/1.1" 200 5123 "https://www.example.com/" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0"`)
	p := NewAccessTriage(Combined(), parsers.Options{})
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := p(line); err != nil {
			b.Fatal(err)
		}
	}
}
