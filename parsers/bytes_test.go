package parsers

import "testing"

func TestAtoi(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"0", 0, true},
		{"502", 502, true},
		{"461168601842738790", 461168601842738790, true},
		{"", 0, false},
		{"-1", 0, false},
		{"12a", 0, false},
		// 2e20 wrapped negative when the bound was checked after n*10.
		{"200000000000000000000", 0, false},
		{"99999999999999999999999999", 0, false},
	} {
		n, ok := Atoi([]byte(tc.in))
		if n != tc.want || ok != tc.ok {
			t.Errorf("Atoi(%q) = %d, %v; want %d, %v", tc.in, n, ok, tc.want, tc.ok)
		}
	}
}
