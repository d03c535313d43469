package nginx

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/origin-agent/origin-agent/parsers"
)

// seed adds every line of the golden inputs under dir (recursively).
func seed(f *testing.F, dirs ...string) {
	for _, dir := range dirs {
		_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || filepath.Ext(path) != ".log" {
				return err
			}
			fh, err := os.Open(path)
			if err != nil {
				return err
			}
			defer fh.Close()
			sc := bufio.NewScanner(fh)
			for sc.Scan() {
				f.Add(append([]byte(nil), sc.Bytes()...))
			}
			return sc.Err()
		})
	}
}

// checkEvent asserts the invariants every parse result must hold.
func checkEvent(t *testing.T, line []byte, ev parsers.Event, err error) {
	t.Helper()
	if err != nil {
		if ev.Kind != parsers.KindNone {
			t.Fatalf("error %v with a non-zero event", err)
		}
		return
	}
	if ev.Status < 0 || ev.Status > 999 {
		t.Fatalf("Status %d out of range", ev.Status)
	}
	for name, b := range map[string][]byte{"UpstreamStatus": ev.UpstreamStatus, "Method": ev.Method, "URI": ev.URI,
		"Protocol": ev.Protocol, "Client": ev.Client, "RemoteAddr": ev.RemoteAddr, "Host": ev.Host, "Server": ev.Server, "Request": ev.Request,
		"Upstream": ev.Upstream, "CFRay": ev.CFRay, "UserAgent": ev.UserAgent, "Referer": ev.Referer, "Message": ev.Message, "Forwarded": ev.Forwarded} {
		if !within(line, b) {
			t.Fatalf("%s %q is not a sub-slice of the line", name, b)
		}
	}
}

// within reports whether b is nil or lies inside line's memory.
func within(line, b []byte) bool {
	if b == nil {
		return true
	}
	if len(b) == 0 {
		return true // an empty value may sit at the very end of the line
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(line)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return p >= lo && p+uintptr(len(b)) <= lo+uintptr(len(line))
}

func FuzzAccess(f *testing.F) {
	seed(f, "../testdata/nginx_access", "../testdata/realworld")
	custom, err := CompileFormat("custom", customISOSpec, EscapeDefault)
	if err != nil {
		f.Fatal(err)
	}
	js, err := CompileFormat("js", `{"t":"$time_local","s":"$status","ua":"$http_user_agent","us":"$upstream_status"}`, EscapeJSON)
	if err != nil {
		f.Fatal(err)
	}
	ps := []parsers.Func{NewAccess(Combined(), parsers.Options{}), NewAccess(VhostCombined(), parsers.Options{}), NewAccess(custom, parsers.Options{}),
		NewAccess(js, parsers.Options{}), NewJSONAccess(parsers.Options{})}
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, p := range ps {
			ev, err := p(line)
			checkEvent(t, line, ev, err)
			if err == nil && ev.Kind != parsers.KindAccess {
				t.Fatalf("Kind = %d", ev.Kind)
			}
		}
		_ = LooksLikeJSONAccess(line)
	})
}

func FuzzError(f *testing.F) {
	seed(f, "../testdata/nginx_error", "../testdata/realworld")
	p := NewError(parsers.Options{})
	f.Fuzz(func(t *testing.T, line []byte) {
		ev, err := p(line)
		if errors.Is(err, parsers.ErrContinuation) {
			err = nil
			if ev.Kind != parsers.KindNone {
				t.Fatalf("continuation with an event: %+v", ev)
			}
			return
		}
		checkEvent(t, line, ev, err)
		if err == nil && (ev.Kind != parsers.KindProxy || ev.Level == parsers.LevelUnknown || !ev.NoZone) {
			t.Fatalf("Kind %d Level %d NoZone %v", ev.Kind, ev.Level, ev.NoZone)
		}
	})
}

func FuzzCompileFormat(f *testing.F) {
	f.Add(CombinedSpec, `127.0.0.1 - - [22/Nov/2026:04:49:04 +0000] "GET / HTTP/1.1" 200 16 "-" "-"`)
	f.Add(customISOSpec, `2026-11-22T04:49:04+00:00 - 127.0.0.1 example.com "GET / HTTP/1.1" 200 16 0.002 0.002 200 unix:/x 8e-AMS 1 2 "-"`)
	f.Add(`${status}$remote_addr$`, `200x`)
	f.Fuzz(func(t *testing.T, spec, line string) {
		for _, esc := range []Escape{EscapeDefault, EscapeJSON, EscapeNone} {
			fm, err := CompileFormat("fuzz", spec, esc)
			if err != nil {
				continue
			}
			b := []byte(line)
			ev, err := NewAccess(fm, parsers.Options{})(b)
			checkEvent(t, b, ev, err)
		}
	})
}
