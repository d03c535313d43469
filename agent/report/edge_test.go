package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/analyze"
	"github.com/origin-agent/origin-agent/agent/correlate"
)

func edgeResult() *analyze.Result {
	t0 := time.Date(2026, 12, 3, 8, 29, 21, 0, time.UTC)
	crash := correlate.Incident{Start: t0, End: t0, Statuses: map[string]int{"502": 0, "503": 0, "504": 0},
		Cause: correlate.CauseWebServerCrash, Confidence: 0.9, Summary: "nginx worker process 12577 exited on signal 11 (SIGSEGV)",
		EdgeStatus: []int{520}}
	slow := correlate.Incident{Start: t0, End: t0, Statuses: map[string]int{"502": 0, "503": 0, "504": 0, "499": 4},
		Cause: correlate.CauseCloudflareTimeout, Confidence: 0.95, Summary: "4 requests ran past Cloudflare's 100 s",
		EdgeStatus: []int{524},
		Scope: correlate.Scope{Sites: []string{"shop.example.com"}, Pools: []string{"shop"}, Upstreams: []string{"unix:/run/php/shop.sock"},
			Paths: []correlate.PathCount{{Path: "/report.php", Count: 4}}}}
	return &analyze.Result{Cases: []analyze.Case{{Incidents: []correlate.Incident{crash, slow}}}}
}

// TestEdgeAndScopeRendered: what Cloudflare showed and where it happened
// are on an incident's first lines in text and HTML, and in the JSON as
// edge_status and scope (empty lists, never null, where unknown).
func TestEdgeAndScopeRendered(t *testing.T) {
	var txt bytes.Buffer
	if err := AnalysisText(&txt, edgeResult()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Incident 1 of 2: web_server_crash\n  edge:     Cloudflare showed visitors 520\n",
		"errors:   none in the access log",
		"Incident 2 of 2: cloudflare_timeout\n  edge:     Cloudflare showed visitors 524\n  where:    site shop.example.com · pool shop · upstream unix:/run/php/shop.sock · paths /report.php (4)\n",
		"errors:   4×499 of",
	} {
		if !strings.Contains(txt.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, txt.String())
		}
	}
	var h bytes.Buffer
	if err := AnalysisHTML(&h, edgeResult()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<span class="tag edge">520</span>`, `<span class="tag edge">524</span>`, `<span class="mono">shop.example.com</span>`,
		`pool <span class="mono">shop</span>`, `4 × 499`} {
		if !strings.Contains(h.String(), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	var j bytes.Buffer
	if err := AnalysisJSON(&j, edgeResult()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Incidents []map[string]json.RawMessage `json:"incidents"`
	}
	if err := json.Unmarshal(j.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(strings.Fields(string(doc.Incidents[0]["edge_status"])), ""); got != "[520]" {
		t.Errorf("edge_status %s", got)
	}
	if got := strings.Join(strings.Fields(string(doc.Incidents[0]["scope"])), ""); got != `{"sites":[],"pools":[],"upstreams":[],"paths":[]}` {
		t.Errorf("empty scope %s", got)
	}
	if got := strings.Join(strings.Fields(string(doc.Incidents[1]["scope"])), ""); !strings.Contains(got, `"paths":[{"path":"/report.php","count":4}]`) {
		t.Errorf("scope %s", got)
	}
}
