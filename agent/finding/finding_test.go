package finding

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/correlate"
)

// TestMessageIsOneLine: every finding carries message, the one-line
// summary log UIs show (VictoriaLogs reported "missing _msg" without it).
func TestMessageIsOneLine(t *testing.T) {
	u := correlate.Update{State: correlate.Closed, Incident: correlate.Incident{ID: "abc", Cause: correlate.CauseOOMKill,
		Start: time.Unix(0, 0).UTC(), Summary: "php-fpm worker 4121 was killed\n by the kernel OOM killer;  14 requests got 502"}}
	for _, f := range []Finding{
		FromIncident("web1", u, 0),
		FromCheck("web1", "listener.80", correlate.CauseListenerDown, StateFailing, time.Unix(0, 0), time.Unix(10, 0), "", "", nil),
	} {
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		want := "php-fpm worker 4121 was killed by the kernel OOM killer; 14 requests got 502"
		if f.Kind == KindCheck {
			want = "listener_down failing"
		}
		if got["message"] != want {
			t.Errorf("%s: message = %q, want %q", f.ID, got["message"], want)
		}
		if got["schema"] != Schema || got["summary"] == nil {
			t.Errorf("%s: the other fields are lost: %s", f.ID, b)
		}
	}
}

// TestCheckEdgeStatus: a check finding says what Cloudflare's visitors get
// for its cause, and carries an empty scope rather than nulls.
func TestCheckEdgeStatus(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	for cause, want := range map[correlate.Cause]string{
		correlate.CauseListenerDown:   "[521]",
		correlate.CauseFirewallBlocks: "[521,522]",
		correlate.CauseTLSInvalid:     "[525,526]",
		"cannot_observe":              "[]",
	} {
		f := FromCheck("h", "x", cause, StateFailing, now, now, "s", "r", nil)
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		if !strings.Contains(s, `"edge_status":`+want) || !strings.Contains(s, `"scope":{"sites":[],"pools":[],"upstreams":[],"paths":[]}`) {
			t.Errorf("%s: %s", cause, s)
		}
	}
}
