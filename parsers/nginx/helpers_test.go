package nginx

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/internal/golden"
)

// checkSubset parses line and checks that every key of the JSON object want
// has that value in the event's golden rendering ("nomatch":true for
// ErrNoMatch). Keys absent from want are not checked; a key with value
// null must be absent from the event.
func checkSubset(t *testing.T, parse parsers.Func, line, want string) {
	t.Helper()
	var got, exp map[string]any
	out := golden.Line(parse([]byte(line)))
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("golden.Line: %v", err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad want %s: %v", want, err)
	}
	for k, v := range exp {
		g, ok := got[k]
		if v == nil {
			if ok {
				t.Errorf("%s: %s = %v, want absent\nline: %s", k, k, g, line)
			}
			continue
		}
		if !ok || fmt.Sprint(g) != fmt.Sprint(v) {
			t.Errorf("%s = %v, want %v\nline: %s\nevent: %s", k, g, v, line, out)
		}
	}
}

func isContinuation(err error) bool { return errors.Is(err, parsers.ErrContinuation) }
