package analyze

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestClockStepBackAcrossFiles: the host's clock ran an hour ahead and was
// stepped back between two bursts; the access and the error log both step.
// Merged by time alone, the second burst's lines would come among the
// first's and make one incident "10:01 → 11:01". Each file's lines before
// the step come first, then those after it: two incidents, both named.
func TestClockStepBackAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	var acc, errl strings.Builder
	burst := func(at time.Time) {
		for i := -20; i < 20; i++ {
			ts := at.Add(time.Duration(i) * time.Second)
			status := 200
			if i >= 0 && i < 5 {
				status = 502
				fmt.Fprintf(&errl, "%s [error] 811#811: *%d connect() to unix:/run/php/php8.2-fpm.sock failed (111: Connection refused) while connecting to upstream, client: 203.0.113.9, server: _, request: \"GET /cart HTTP/1.1\", upstream: \"fastcgi://unix:/run/php/php8.2-fpm.sock:\", host: \"shop.example\"\n",
					ts.Format("2006/01/02 15:04:05"), 100+i)
			}
			fmt.Fprintf(&acc, "203.0.113.9 - - [%s] \"GET /cart HTTP/1.1\" %d 157 \"-\" \"curl/8.4.0\"\n", ts.Format("02/Jan/2006:15:04:05 -0700"), status)
		}
	}
	first := time.Date(2026, 11, 20, 11, 1, 0, 0, time.UTC)
	burst(first)
	burst(first.Add(-time.Hour))
	os.WriteFile(filepath.Join(dir, "access.log"), []byte(acc.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "error.log"), []byte(errl.String()), 0o644)
	res, err := Run(context.Background(), Options{Args: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	incs := res.Cases[0].Incidents
	if len(incs) != 2 {
		for _, inc := range incs {
			t.Logf("%v → %v: %d %s", inc.Start, inc.End, inc.Gateways, inc.Cause)
		}
		t.Fatalf("%d incidents, want 2", len(incs))
	}
	for i, at := range []time.Time{first, first.Add(-time.Hour)} {
		inc := incs[i]
		if !inc.Start.Equal(at) || !inc.End.Equal(at.Add(4*time.Second)) || inc.Gateways != 5 || inc.Cause != "upstream_down" {
			t.Errorf("incident %d: %v → %v, %d statuses, %s; want %v → +4s, 5, upstream_down", i+1, inc.Start, inc.End, inc.Gateways, inc.Cause, at)
		}
	}
}
