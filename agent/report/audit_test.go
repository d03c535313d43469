package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/origin-agent/origin-agent/agent/checks"
)

func TestAuditJSONAndText(t *testing.T) {
	cs := []checks.Check{
		{ID: "listener.443", Status: checks.Fail, Summary: "nothing listens on port 443", Fix: []string{"systemctl start nginx"}},
		{ID: "nginx.real_ip", Status: checks.Pass, Summary: "ok"},
	}
	var b bytes.Buffer
	if err := AuditJSON(&b, cs, []string{"xtables lock held"}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema string `json:"schema"`
		Checks []struct {
			ID      string         `json:"id"`
			Status  string         `json:"status"`
			Details map[string]any `json:"details"`
			Fix     []string       `json:"fix"`
		} `json:"checks"`
		Errors []string `json:"errors"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != "origin-agent/audit/v1" || len(doc.Checks) != 2 || doc.Checks[1].Details == nil || doc.Checks[1].Fix == nil ||
		doc.Checks[0].Status != "fail" || doc.Errors[0] != "xtables lock held" {
		t.Errorf("%s", b.String())
	}
	if !strings.Contains(b.String(), `"details": {}`) || !strings.Contains(b.String(), `"fix": []`) {
		t.Errorf("empty details/fix not rendered as {} and []:\n%s", b.String())
	}
	b.Reset()
	AuditText(&b, cs, nil, true)
	want := "FAIL  listener.443                       nothing listens on port 443\n        systemctl start nginx\nPASS  nginx.real_ip                      ok\n\n1 pass, 0 warn, 1 fail, 0 skip\n"
	if b.String() != want {
		t.Errorf("text:\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	AuditText(&b, cs, nil, false)
	if strings.Contains(b.String(), "systemctl") || !strings.Contains(b.String(), "run with --fix") {
		t.Errorf("without --fix:\n%s", b.String())
	}
}
