package sink

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/leodido/go-syslog/v4/rfc5424"

	"github.com/origin-agent/origin-agent/agent/finding"
)

func TestFormatRFC5424(t *testing.T) {
	f := oneFinding(`id"with]back\slash`, "", finding.SeverityCritical)
	h := Header{Facility: 3, Hostname: "fallback", AppName: "origin-agent", ProcID: "4242"}
	got, err := FormatRFC5424(f, h, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(f)
	want := `<26>1 2026-11-20T10:01:40Z web1.example.com origin-agent 4242 incident-opened ` +
		`[origin-agent@32473 cause="oom_kill" id="id\"with\]back\\slash" severity="critical"] ` + string(js)
	if string(got) != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}

func TestFormatRFC5424Truncation(t *testing.T) {
	f := testFinding("big")
	for range 20 {
		f.Evidence = append(f.Evidence, f.Evidence[0])
	}
	h := Header{Facility: 3, AppName: "origin-agent"}
	full, _ := FormatRFC5424(f, h, time.Time{}, 0)
	got, err := FormatRFC5424(f, h, time.Time{}, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if len(full) <= 2048 || len(got) > 2048 {
		t.Fatalf("full %d, cut %d", len(full), len(got))
	}
	m, err := rfc5424.NewParser().Parse(got)
	if err != nil {
		t.Fatalf("truncated message does not parse: %v", err)
	}
	var back finding.Finding
	if err := json.Unmarshal([]byte(*m.(*rfc5424.SyslogMessage).Message), &back); err != nil {
		t.Fatalf("evidence-dropping keeps valid JSON: %v", err)
	}
	if back.ID != "big" || len(back.Evidence) == 0 || len(back.Evidence) >= len(f.Evidence) {
		t.Errorf("kept %d of %d evidence lines", len(back.Evidence), len(f.Evidence))
	}
	// A summary too big for any message: hard cut at a UTF-8 boundary.
	f.Evidence, f.Summary = nil, strings.Repeat("ü", 3000)
	got, _ = FormatRFC5424(f, h, time.Time{}, 1000)
	if len(got) > 1000 || !strings.HasPrefix(string(got), "<26>1 ") || !json.Valid([]byte("1")) {
		t.Errorf("hard cut: %d bytes", len(got))
	}
	if _, err := rfc5424.NewParser().Parse(got); err != nil {
		t.Errorf("hard-cut message does not parse: %v", err)
	}
	// A bound smaller than header and SD: they stay whole, the MSG goes.
	got, _ = FormatRFC5424(f, h, time.Time{}, 20)
	m, err = rfc5424.NewParser().Parse(got)
	if err != nil || m.(*rfc5424.SyslogMessage).StructuredData == nil || (*m.(*rfc5424.SyslogMessage).StructuredData)[SDID]["id"] != "big" {
		t.Errorf("tiny bound: %q: %v", got, err)
	}
	if strings.HasSuffix(string(got), " ") || strings.Contains(string(got), "{") {
		t.Errorf("tiny bound: MSG or its space left: %q", got)
	}
}

// FuzzFormatRFC5424: whatever the finding holds, the message parses back
// with go-syslog's RFC 5424 parser and the SD values round-trip.
func FuzzFormatRFC5424(f *testing.F) {
	f.Add(`5f1c2a9e-opened`, "oom_kill", "critical", "web1.example.com", "summary", 0)
	f.Add(`id"]\`, `cause]"`, `sev\`, "host with space", "ü\xff", 300)
	f.Add("", "", "", "", "", 64)
	f.Fuzz(func(t *testing.T, id, cause, sev, host, summary string, max int) {
		fd := oneFinding(id, "", finding.Severity(sev))
		fd.Cause, fd.Host, fd.Summary = causeOf(cause), host, summary
		if max < 0 || max > 1<<16 {
			max = 0
		}
		if max > 0 {
			// Room for the header and SD, which are never cut: up to
			// 255+48+128+32 header bytes and 3 SD values of 64 bytes,
			// each escaped to at most twice that.
			max += 1024
		}
		out, err := FormatRFC5424(fd, Header{Facility: 3, AppName: "origin-agent", ProcID: "1"}, time.Unix(0, 0), max)
		if err != nil {
			t.Fatalf("format: %v", err)
		}
		if max > 0 && len(out) > max {
			t.Fatalf("%d bytes > max %d", len(out), max)
		}
		m, err := rfc5424.NewParser(rfc5424.WithBestEffort()).Parse(out)
		if err != nil && max == 0 {
			t.Fatalf("parse %q: %v", out, err)
		}
		if m == nil {
			t.Fatalf("nothing parsed from %q: %v", out, err)
		}
		sd := m.(*rfc5424.SyslogMessage).StructuredData
		if sd == nil {
			t.Fatalf("no structured data in %q", out)
		}
		el := (*sd)[SDID]
		for k, want := range map[string]string{"id": sdValue(id), "cause": sdValue(cause), "severity": sdValue(sev)} {
			if el[k] != want {
				t.Fatalf("SD %s = %q, want %q (message %q)", k, el[k], want, out)
			}
		}
	})
}

// FuzzParseBulkResponse: never panics, and never reports an item index
// outside the request.
func FuzzParseBulkResponse(f *testing.F) {
	f.Add([]byte(`{"took":5,"errors":true,"items":[{"create":{"_index":"i","_id":"0","status":201}},{"create":{"status":429,"error":{"type":"x"}}}]}`), 2)
	f.Add([]byte(`{"errors":false,"items":[]}`), 0)
	f.Add([]byte(`{"errors":true,"items":[{"create":{"status":400},"index":{"status":201}}]}`), 1)
	f.Fuzz(func(t *testing.T, body []byte, n int) {
		items, err := ParseBulkResponse(body, n)
		if err != nil && items != nil {
			t.Fatal("items with an error")
		}
		for _, it := range items {
			if it.Index < 0 || it.Index >= n || it.Err == nil {
				t.Fatalf("bad item %+v for n=%d", it, n)
			}
		}
	})
}

func TestParseBulkResponse(t *testing.T) {
	for _, tc := range []struct {
		body string
		n    int
		want string // "err", or "index:permanent?" list
	}{
		{`{"errors":false,"items":[{"create":{"status":201}}]}`, 1, ""},
		{`{"errors":true,"items":[{"create":{"status":201}},{"create":{"status":409}},{"create":{"status":429}},{"create":{"status":400}},{"create":{"status":503}}]}`, 5, "2:false 3:true 4:false"},
		{`{"errors":false,"items":[]}`, 2, "err"},
		{`{"items":[{"create":{"status":201}}]}`, 1, "err"},
		{`<html>`, 1, "err"},
	} {
		items, err := ParseBulkResponse([]byte(tc.body), tc.n)
		var got []string
		if err != nil {
			got = append(got, "err")
		}
		for _, it := range items {
			got = append(got, strings.Join([]string{itoa(it.Index), map[bool]string{true: "true", false: "false"}[IsPermanent(it.Err)]}, ":"))
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s: got %q, want %q", tc.body, strings.Join(got, " "), tc.want)
		}
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }
