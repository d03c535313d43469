package apache

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/origin-agent/origin-agent/parsers"
)

// seed adds every line of the golden inputs under dir (recursively).
func seed(f *testing.F, dir string) {
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".log" {
			return nil
		}
		fh, err := os.Open(p)
		if err != nil {
			return nil
		}
		defer fh.Close()
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			f.Add(sc.Text())
		}
		return nil
	})
}

// checkAliases fails when a []byte field of ev is not a sub-slice of line.
func checkAliases(t *testing.T, line []byte, ev parsers.Event) {
	t.Helper()
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(line)))
	hi := lo + uintptr(len(line))
	for name, b := range map[string][]byte{"Method": ev.Method, "URI": ev.URI, "Protocol": ev.Protocol, "Client": ev.Client,
		"RemoteAddr": ev.RemoteAddr, "Host": ev.Host, "Request": ev.Request, "Upstream": ev.Upstream, "CFRay": ev.CFRay,
		"UserAgent": ev.UserAgent, "Referer": ev.Referer, "Code": ev.Code, "Module": ev.Module, "Message": ev.Message} {
		if len(b) == 0 {
			continue
		}
		p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
		if p < lo || p+uintptr(len(b)) > hi {
			t.Fatalf("%s %q is not inside the line", name, b)
		}
	}
}

func FuzzAccess(f *testing.F) {
	seed(f, "../testdata/apache_access")
	seed(f, "../testdata/realworld")
	formats := []*Format{Combined(), Common(), VhostCombined(), VhostNoPort(), SSLRequest(), mustCompile(f, "everything", specEverything), mustCompile(f, "strf", specStrftimeZ)}
	f.Fuzz(func(t *testing.T, line string) {
		for _, fm := range formats {
			b := []byte(line)
			ev, err := NewAccess(fm, parsers.Options{})(b)
			if err != nil {
				continue
			}
			if ev.Kind != parsers.KindAccess || ev.Status < 0 || ev.Status > 999 {
				t.Fatalf("%s: kind %d status %d", fm.Name(), ev.Kind, ev.Status)
			}
			if ev.Bytes < -1 || ev.RequestTime < -1 {
				t.Fatalf("%s: bytes %d request time %d", fm.Name(), ev.Bytes, ev.RequestTime)
			}
			checkAliases(t, b, ev)
		}
	})
}

func FuzzError(f *testing.F) {
	seed(f, "../testdata/apache_error")
	seed(f, "../testdata/realworld")
	parse := NewError(parsers.Options{})
	f.Fuzz(func(t *testing.T, line string) {
		b := []byte(line)
		ev, err := parse(b)
		if err != nil {
			return
		}
		if ev.Kind != parsers.KindProxy || ev.PID < 0 || ev.TID < 0 || ev.Errno < 0 {
			t.Fatalf("kind %d pid %d tid %d errno %d", ev.Kind, ev.PID, ev.TID, ev.Errno)
		}
		if ev.Code != nil && len(ev.Code) != 7 {
			t.Fatalf("code %q", ev.Code)
		}
		checkAliases(t, b, ev)
	})
}

func FuzzCompileLogFormat(f *testing.F) {
	for _, s := range []string{SpecCombined, SpecCommon, SpecVhostCombined, specEverything, specStrftimeZ, `%{%s}t %>s`} {
		f.Add(s, `1.2.3.4 - - [20/Nov/2026:10:01:02 +0000] "GET / HTTP/1.1" 200 1 "-" "-"`)
	}
	f.Fuzz(func(t *testing.T, spec, line string) {
		fm, err := CompileLogFormat("f", spec)
		if err != nil {
			return
		}
		b := []byte(line)
		ev, err := NewAccess(fm, parsers.Options{})(b)
		if err != nil {
			return
		}
		if ev.Status < 0 || ev.Status > 999 {
			t.Fatalf("status %d", ev.Status)
		}
		checkAliases(t, b, ev)
	})
}
