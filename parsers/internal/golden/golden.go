// Package golden runs the parsers' golden cases: testdata/<type>/<case>.log
// holds real lines, <case>.golden the expected events as JSON lines, one per
// input line. `go test ./parsers/... -update` rewrites the .golden files.
package golden

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Ref is the reference time golden cases use for yearless stamps.
var Ref = time.Date(2026, time.December, 31, 0, 0, 0, 0, time.UTC)

// Run parses every testdata/<type>/*.log under dir with parse and compares
// the events to the .golden file beside it.
func Run(t *testing.T, dir string, parse parsers.Func) {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) == 0 {
		t.Fatalf("no golden cases in %s", dir)
	}
	for _, lf := range logs {
		name := strings.TrimSuffix(filepath.Base(lf), ".log")
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(lf)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			sc := bufio.NewScanner(bytes.NewReader(in))
			sc.Buffer(make([]byte, 1<<20), 1<<21)
			for sc.Scan() {
				got.Write(Line(parse(sc.Bytes())))
				got.WriteByte('\n')
			}
			gf := strings.TrimSuffix(lf, ".log") + ".golden"
			if *update {
				if err := os.WriteFile(gf, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(gf)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			gl, wl := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
			for i := 0; i < len(gl) || i < len(wl); i++ {
				var g, w string
				if i < len(gl) {
					g = gl[i]
				}
				if i < len(wl) {
					w = wl[i]
				}
				if g != w {
					t.Errorf("%s:%d\n got: %s\nwant: %s", filepath.Base(lf), i+1, g, w)
				}
			}
		})
	}
}

// Line renders one parse result as a stable JSON object with only the
// fields that are set.
func Line(ev parsers.Event, err error) []byte {
	if err != nil {
		if errors.Is(err, parsers.ErrNoMatch) {
			return []byte(`{"nomatch":true}`)
		}
		b, _ := json.Marshal(map[string]string{"error": err.Error()})
		return b
	}
	m := map[string]any{}
	if !ev.Time.IsZero() {
		m["time"] = ev.Time.Format(time.RFC3339Nano)
	}
	put := func(k string, v any) {
		switch x := v.(type) {
		case []byte:
			if x != nil {
				m[k] = string(x)
			}
		case int:
			if x != 0 {
				m[k] = x
			}
		case int64:
			if x != 0 {
				m[k] = x
			}
		case bool:
			if x {
				m[k] = x
			}
		}
	}
	m["kind"] = int(ev.Kind)
	if ev.Signal != parsers.SigNone {
		m["signal"] = ev.Signal.String()
	}
	put("level", int(ev.Level))
	put("status", ev.Status)
	put("upstream_status", ev.UpstreamStatus)
	put("forwarded", ev.Forwarded)
	if ev.RequestTime != 0 {
		m["request_time_us"] = ev.RequestTime
	}
	if ev.UpstreamTime != 0 {
		m["upstream_time_us"] = ev.UpstreamTime
	}
	put("method", ev.Method)
	put("uri", ev.URI)
	put("protocol", ev.Protocol)
	if ev.Bytes != 0 {
		m["bytes"] = ev.Bytes
	}
	put("client", ev.Client)
	put("remote_addr", ev.RemoteAddr)
	put("host", ev.Host)
	put("server", ev.Server)
	put("request", ev.Request)
	put("upstream", ev.Upstream)
	put("cf_ray", ev.CFRay)
	put("user_agent", ev.UserAgent)
	put("referer", ev.Referer)
	put("pid", ev.PID)
	put("tid", ev.TID)
	put("conn", ev.ConnID)
	put("errno", ev.Errno)
	put("code", ev.Code)
	put("module", ev.Module)
	put("message", ev.Message)
	put("pool", ev.Pool)
	put("child_pid", ev.ChildPID)
	put("exit_signal", ev.ExitSig)
	put("exit_code", ev.ExitCode)
	put("value", ev.Value)
	put("process", ev.Process)
	if ev.Monotonic != 0 {
		m["monotonic_us"] = ev.Monotonic.Microseconds()
	}
	if ev.Seq != 0 {
		m["seq"] = ev.Seq
	}
	put("no_zone", ev.NoZone)
	put("no_year", ev.NoYear)
	b, err := json.Marshal(m) // map keys are sorted: stable output
	if err != nil {
		return []byte(`{"marshal_error":true}`)
	}
	return b
}

// Compare checks got against the golden file gf, or rewrites gf with -update.
func Compare(t *testing.T, gf string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(gf, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(gf)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Errorf("%s:%d\n got: %s\nwant: %s", filepath.Base(gf), i+1, g, w)
		}
	}
}
