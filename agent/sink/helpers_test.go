package sink

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/origin-agent/origin-agent/agent/config"
	"github.com/origin-agent/origin-agent/agent/correlate"
	"github.com/origin-agent/origin-agent/agent/finding"
)

// testFinding is a realistic OOM finding with real evidence lines.
func testFinding(id string) finding.Finding {
	return finding.Finding{
		Schema: finding.Schema, ID: id, IncidentID: "5f1c2a9e", Kind: finding.KindIncident, State: finding.StateOpened,
		Severity: finding.SeverityCritical, Host: "web1.example.com",
		Incident: correlate.Incident{
			ID: "5f1c2a9e", Start: time.Date(2026, 11, 20, 10, 1, 2, 0, time.UTC), End: time.Date(2026, 11, 20, 10, 1, 40, 0, time.UTC),
			Statuses: map[string]int{"502": 14}, Requests: 380, Cause: correlate.CauseOOMKill, Confidence: 0.9,
			Summary: "php-fpm worker 4121 was killed by the kernel OOM killer; 14 requests got 502",
			Evidence: []correlate.Evidence{
				{Time: time.Date(2026, 11, 20, 10, 1, 3, 0, time.UTC), Path: "/var/log/kern.log", Line: 88,
					Text: "Nov 20 10:01:03 web1 kernel: [812345.123456] Memory cgroup out of memory: Killed process 4121 (php-fpm8.2) total-vm:812344kB, anon-rss:512000kB, file-rss:0kB, shmem-rss:0kB, UID:33 pgtables:1200kB oom_score_adj:0"},
				{Time: time.Date(2026, 11, 20, 10, 1, 3, 0, time.UTC), Path: "/var/log/nginx/error.log", Line: 1201,
					Text: `2026/11/20 10:01:03 [error] 812#812: *4411 recv() failed (104: Connection reset by peer) while reading response header from upstream, client: 203.0.113.7, server: example.com, request: "GET /checkout?session=abc123&step=2 HTTP/1.1", upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "example.com"`},
			},
			Remediation: "raise the memory limit or lower pm.max_children",
		},
	}
}

func testBatch(n int) []finding.Finding {
	out := make([]finding.Finding, n)
	for i := range out {
		out[i] = testFinding(fmt.Sprintf("5f1c2a9e-%03d", i))
	}
	return out
}

// fakeSink records batches and answers from a script of results.
type fakeSink struct {
	mu      sync.Mutex
	results []func(batch []finding.Finding) error // consumed in order; nil or exhausted: success
	batches [][]string
	ok      []string // ids confirmed
}

func (s *fakeSink) Send(_ context.Context, batch []finding.Finding) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, len(batch))
	for i, f := range batch {
		ids[i] = f.ID
	}
	s.batches = append(s.batches, ids)
	var err error
	if len(s.results) > 0 {
		fn := s.results[0]
		s.results = s.results[1:]
		if fn != nil {
			err = fn(batch)
		}
	}
	if err == nil {
		s.ok = append(s.ok, ids...)
	}
	if be, isBatch := err.(*BatchError); isBatch {
		failed := map[int]bool{}
		for _, it := range be.Items {
			failed[it.Index] = true
		}
		for i, id := range ids {
			if !failed[i] {
				s.ok = append(s.ok, id)
			}
		}
	}
	return err
}

func (s *fakeSink) Close() error { return nil }

func (s *fakeSink) snapshot() (batches [][]string, ok []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]string(nil), s.batches...), append([]string(nil), s.ok...)
}

func causeOf(s string) correlate.Cause { return correlate.Cause(s) }

// def fills every zero field of c from config.DefaultSink(c.Type), the one
// set of defaults, so that tests name only what they test.
func def(c Config) Config {
	out := config.DefaultSink(c.Type)
	cv, ov := reflect.ValueOf(c), reflect.ValueOf(&out).Elem()
	for i := 0; i < cv.NumField(); i++ {
		if !cv.Field(i).IsZero() {
			ov.Field(i).Set(cv.Field(i))
		}
	}
	return out
}
