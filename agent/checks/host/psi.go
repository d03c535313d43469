package host

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// PSIAvg is one line of a pressure file: the share of wall time (percent)
// in which some (or all, "full") runnable tasks were stalled on the
// resource, averaged over 10 s, 60 s and 300 s, and the total stall time.
type PSIAvg struct {
	Avg10  float64 `json:"avg10"`
	Avg60  float64 `json:"avg60"`
	Avg300 float64 `json:"avg300"`
	Total  uint64  `json:"total_us"`
}

// PSI is one /proc/pressure/* file. Full is nil when the kernel does not
// print a "full" line (cpu before Linux 5.13).
type PSI struct {
	Some *PSIAvg `json:"some,omitempty"`
	Full *PSIAvg `json:"full,omitempty"`
}

// ParsePSI parses a pressure file:
//
//	some avg10=3.28 avg60=2.21 avg300=11.84 total=248162691
//	full avg10=0.00 avg60=0.00 avg300=0.00 total=0
//
// Unknown keys are ignored; a line without all four known keys is an error.
func ParsePSI(b []byte) (PSI, error) {
	var p PSI
	for line := range bytes.Lines(b) {
		f := bytes.Fields(line)
		if len(f) == 0 {
			continue
		}
		var dst **PSIAvg
		switch string(f[0]) {
		case "some":
			dst = &p.Some
		case "full":
			dst = &p.Full
		default:
			return PSI{}, fmt.Errorf("pressure line %q: not some/full", bytes.TrimSpace(line))
		}
		a, err := parseAvg(f[1:])
		if err != nil {
			return PSI{}, fmt.Errorf("pressure line %q: %w", bytes.TrimSpace(line), err)
		}
		*dst = &a
	}
	if p.Some == nil && p.Full == nil {
		return PSI{}, errors.New("pressure file has no some/full line")
	}
	return p, nil
}

func parseAvg(fields [][]byte) (PSIAvg, error) {
	var a PSIAvg
	var seen uint8
	for _, kv := range fields {
		k, v, ok := bytes.Cut(kv, []byte("="))
		if !ok {
			return PSIAvg{}, fmt.Errorf("%q is not key=value", kv)
		}
		var err error
		switch string(k) {
		case "avg10":
			a.Avg10, err = percent(v)
			seen |= 1
		case "avg60":
			a.Avg60, err = percent(v)
			seen |= 2
		case "avg300":
			a.Avg300, err = percent(v)
			seen |= 4
		case "total":
			a.Total, err = strconv.ParseUint(string(v), 10, 64)
			seen |= 8
		}
		if err != nil {
			return PSIAvg{}, fmt.Errorf("%s: %w", k, err)
		}
	}
	if seen != 15 {
		return PSIAvg{}, errors.New("missing avg10, avg60, avg300 or total")
	}
	return a, nil
}

func percent(v []byte) (float64, error) {
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		return 0, err
	}
	if f < 0 || f > 100 {
		return 0, fmt.Errorf("%v is not a percentage", f)
	}
	return f, nil
}
