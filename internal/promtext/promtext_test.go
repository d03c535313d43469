package promtext

import (
	"strings"
	"testing"
)

func TestSum(t *testing.T) {
	const text = `# HELP origin_agent_lines_read_total Lines read.
# TYPE origin_agent_lines_read_total counter
origin_agent_lines_read_total{path="/var/log/nginx/access.log",type="nginx_access"} 1200
origin_agent_lines_read_total{path="/var/log/nginx/error.log",type="nginx_error"} 34
# TYPE origin_agent_positions_lag_bytes gauge
origin_agent_positions_lag_bytes{path="/var/log/nginx/access.log",type="nginx_access"} 512
`
	for name, want := range map[string]float64{
		"origin_agent_lines_read_total":    1234,
		"origin_agent_positions_lag_bytes": 512,
		"origin_agent_absent_total":        0,
	} {
		got, err := Sum(strings.NewReader(text), name)
		if err != nil || got != want {
			t.Errorf("Sum(%s) = %v, %v; want %v", name, got, err, want)
		}
	}
	if _, err := Sum(strings.NewReader("origin_agent_x{ 1\n"), "origin_agent_x"); err == nil {
		t.Error("a malformed exposition gave no error")
	}
}
