package sink

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/finding"
	"github.com/origin-agent/origin-agent/internal/receivers"
)

// TestVictoriaLogsE2E ships findings through the loki, elasticsearch and
// otlp sinks into a real VictoriaLogs and reads them back: every finding
// arrives once, its message is the record's message (_msg), its cause and
// severity are searchable fields, and the query parameters in the URLs
// (VictoriaLogs takes its field mapping there) are honoured.
func TestVictoriaLogsE2E(t *testing.T) {
	base := receivers.StartVictoriaLogs(t, "")
	batch := func(prefix string) []finding.Finding {
		fs := make([]finding.Finding, 5)
		for i := range fs {
			fs[i] = testFinding(fmt.Sprintf("%s-%d", prefix, i))
			fs[i].End = time.Now().UTC().Add(-time.Duration(i) * time.Second)
		}
		return fs
	}
	for _, c := range []struct {
		typ, url string
	}{
		{TypeLoki, base + "/insert/loki/api/v1/push?_msg_field=message"},
		{TypeElasticsearch, base + "/insert/elasticsearch/?_msg_field=message&_time_field=@timestamp"},
		{TypeOTLP, base + "/insert/opentelemetry"},
	} {
		t.Run(c.typ, func(t *testing.T) {
			s, err := New(def(Config{Type: c.typ, URL: c.url, Gzip: c.typ != TypeLoki}), Deps{Hostname: "web1.example.com"})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			fs := batch(c.typ)
			if err := s.Send(context.Background(), fs); err != nil {
				t.Fatalf("send: %v", err)
			}
			got := receivers.Query(t, base, fmt.Sprintf(`id:%q*`, c.typ+"-"), len(fs))
			if len(got) != len(fs) {
				t.Fatalf("VictoriaLogs holds %d records of %s, want %d: %v", len(got), c.typ, len(fs), got)
			}
			want := finding.MessageOf(fs[0])
			for _, r := range got {
				if r["_msg"] != want {
					t.Errorf("%s: _msg = %q, want the finding's message %q (record %v)", c.typ, r["_msg"], want, r)
				}
				if r["cause"] != "oom_kill" || r["severity"] != "critical" {
					t.Errorf("%s: cause %q severity %q, want searchable fields (record %v)", c.typ, r["cause"], r["severity"], r)
				}
			}
		})
	}
}
