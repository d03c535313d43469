package analyze

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkAnalyzeCombined measures analyze over a generated combined log
// (genlog: 1% gateway errors in bursts). BENCH_LINES overrides the size;
// the README's figure uses 1,000,000 lines against grep on the same file.
func BenchmarkAnalyzeCombined(b *testing.B) { benchAnalyze(b, 10) }

// BenchmarkAnalyzeChronic measures analyze over one incident as long as the
// log (genlog -steady: every 100th line a 502/504, all along). Its cost per
// line must not grow with the incident's length: compare BENCH_LINES=1000000
// with 3000000 (make bench-linear does, against grep).
func BenchmarkAnalyzeChronic(b *testing.B) { benchAnalyze(b, 1, "-steady") }

// benchAnalyze analyses a log that genlog makes with genArgs (BENCH_LINES
// lines, 200,000 by default) and checks it finds want incidents.
func benchAnalyze(b *testing.B, want int, genArgs ...string) {
	lines := os.Getenv("BENCH_LINES")
	if lines == "" {
		lines = "200000"
	}
	path := filepath.Join(b.TempDir(), "access.log")
	gen := exec.Command("go", append(append([]string{"run", "./internal/genlog"}, genArgs...), "-n", lines, "-o", path)...)
	if out, err := gen.CombinedOutput(); err != nil {
		b.Fatalf("genlog: %v\n%s", err, out)
	}
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Run(context.Background(), Options{Args: []string{path}})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Cases[0].Incidents) != want {
			b.Fatalf("incidents: %d, want %d", len(res.Cases[0].Incidents), want)
		}
	}
}
