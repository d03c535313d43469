package finding

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/correlate"
)

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
