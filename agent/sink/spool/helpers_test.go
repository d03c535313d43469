package spool

import (
	"encoding/json"
	"testing"

	"github.com/origin-agent/origin-agent/agent/finding"
)

func mustJSON(tb testing.TB, f finding.Finding) []byte {
	tb.Helper()
	b, err := json.Marshal(f)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
