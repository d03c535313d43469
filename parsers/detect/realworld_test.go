package detect_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/detect"
	"github.com/origin-agent/origin-agent/parsers/internal/golden"
)

// expectation is what a corpus line must give: fail2ban's "# failJSON:"
// ("host" is the client, "time" the line's wall clock) or "# expect:"
// (client, UTC time, status).
type expectation struct {
	Client string `json:"client"`
	Host   string `json:"host"`
	Time   string `json:"time"`
	Status int    `json:"status"`
	Match  *bool  `json:"match"`
}

// TestRealWorld reads other projects' real lines (testdata/realworld) as
// analyze and the daemon do: detect the file's format over all built-in
// formats, then parse every line. It checks each line's expectation,
// compares the events with the golden file, and reports the parse rate
// and the client-right rate (each must be at least 97 %).
func TestRealWorld(t *testing.T) {
	logs, _ := filepath.Glob("../testdata/realworld/*.log")
	if len(logs) == 0 {
		t.Fatal("no corpus in ../testdata/realworld")
	}
	formats := detect.Builtin("")
	o := parsers.Options{Location: time.UTC, Ref: time.Date(2005, 12, 31, 0, 0, 0, 0, time.UTC)} // fail2ban's year
	var lines, parsed, withClient, clientRight, withTime, timeRight int
	for _, lf := range logs {
		data, err := os.ReadFile(lf)
		if err != nil {
			t.Fatal(err)
		}
		var text [][]byte
		var exps []*expectation
		var next *expectation
		for _, l := range bytes.Split(data, []byte("\n")) {
			s := string(l)
			switch {
			case strings.HasPrefix(s, "# failJSON:") || strings.HasPrefix(s, "# expect:"):
				next = &expectation{}
				js := s[strings.IndexByte(s, ':')+1:]
				if err := json.Unmarshal([]byte(js), next); err != nil {
					t.Fatalf("%s: %q: %v", lf, s, err)
				}
				if next.Client == "" {
					next.Client = next.Host
				}
			case strings.HasPrefix(s, "#") || strings.TrimSpace(s) == "":
			default:
				text = append(text, l)
				exps = append(exps, next)
				next = nil
			}
		}
		f, r, ok := detect.Choose(lf, text, formats)
		if !ok && r.Near >= 0 {
			// As analyze does for a file named TYPE=PATH: read it with
			// the format that parsed most.
			f = formats[r.Near]
			t.Logf("%s: no format qualifies; reading it as %s/%s, which parsed %d of %d", filepath.Base(lf), f.Type, f.Name, r.NearMatched, r.Sampled)
		} else if !ok {
			t.Errorf("%s: no format parses a line", filepath.Base(lf))
			lines += len(text)
			continue
		}
		i := 0
		for k := range formats {
			if formats[k].Type == f.Type && formats[k].Name == f.Name {
				i = k
			}
		}
		parse := detect.Build(formats, i, o, false)
		var out bytes.Buffer
		out.WriteString(`{"format":"` + string(f.Type) + "/" + f.Name + `"}` + "\n")
		prevOK := false
		for k, l := range text {
			lines++
			ev, err := parse(l)
			switch {
			case err == nil:
				parsed++
				prevOK = true
			case prevOK && errors.Is(err, parsers.ErrContinuation):
				parsed++ // part of the message before
				out.WriteString(`{"continued":true}` + "\n")
				continue
			default:
				prevOK = false
				t.Logf("%s: not parsed: %s", filepath.Base(lf), l)
			}
			out.Write(golden.Line(ev, err))
			out.WriteByte('\n')
			e := exps[k]
			if e == nil || err != nil {
				if e != nil && e.Client != "" {
					withClient++
				}
				continue
			}
			if e.Client != "" {
				withClient++
				if string(ev.Client) == e.Client {
					clientRight++
				} else {
					t.Errorf("%s: client %q, want %q: %s", filepath.Base(lf), ev.Client, e.Client, l)
				}
			}
			if e.Time != "" {
				withTime++
				if timeAgrees(ev, e.Time) {
					timeRight++
				} else {
					t.Errorf("%s: time %v, want %s: %s", filepath.Base(lf), ev.Time, e.Time, l)
				}
			}
			if e.Status != 0 && ev.Status != e.Status {
				t.Errorf("%s: status %d, want %d: %s", filepath.Base(lf), ev.Status, e.Status, l)
			}
		}
		golden.Compare(t, strings.TrimSuffix(lf, ".log")+".golden", out.Bytes())
	}
	pr, cr := 100*float64(parsed)/float64(lines), 100*float64(clientRight)/float64(withClient)
	t.Logf("real-world corpus: %d lines in %d files; parsed %d (%.1f %%); client right %d of %d (%.1f %%); time right %d of %d",
		lines, len(logs), parsed, pr, clientRight, withClient, cr, timeRight, withTime)
	if pr < 97 || cr < 97 {
		t.Errorf("parse rate %.1f %% or client rate %.1f %% below 97 %%", pr, cr)
	}
}

// timeAgrees compares an event's time with an expected "2006-01-02T15:04:05":
// in UTC, or, for fail2ban's wall-clock times of zoned lines, off by a
// whole zone offset (quarter hours up to 14 h).
func timeAgrees(ev parsers.Event, want string) bool {
	w, err := time.Parse("2006-01-02T15:04:05", want)
	if err != nil {
		return false
	}
	got := ev.Time.UTC().Truncate(time.Second)
	if ev.NoYear {
		got = got.AddDate(w.Year()-got.Year(), 0, 0)
	}
	d := got.Sub(w)
	if d < 0 {
		d = -d
	}
	return d == 0 || d <= 14*time.Hour && d%(15*time.Minute) == 0 && !ev.NoZone
}

// An nginx access_log and error_log both sent to syslog end up in one
// file: each line is read, with the type its event has.
func TestSyslogMixedNginx(t *testing.T) {
	lines := [][]byte{
		[]byte(`Dec  9 21:35:20 web nginx: 203.0.113.7 - - [09/Dec/2026:21:35:20 +0000] "GET /x.php HTTP/1.1" 502 157 "-" "curl/8.0"`),
		[]byte(`Dec  9 21:35:20 web nginx: 2026/12/09 21:35:20 [error] 12#12: *5 connect() to unix:/run/php/php8.2-fpm.sock failed (111: Connection refused) while connecting to upstream, client: 203.0.113.7, server: _, request: "GET /x.php HTTP/1.1"`),
		[]byte(`2026-12-09T21:35:21.5+00:00 web nginx: 203.0.113.8 - - [09/Dec/2026:21:35:21 +0000] "GET /y HTTP/1.1" 200 15 "-" "curl/8.0"`),
	}
	formats := detect.Builtin("")
	f, r, ok := detect.Choose("syslog", lines, formats)
	if !ok || f.Type != parsers.TypeNginxAccess {
		t.Fatalf("chose %+v (%+v)", f, r)
	}
	parse := detect.Build(formats, r.Index, parsers.Options{}, false)
	want := []parsers.Type{parsers.TypeNginxAccess, parsers.TypeNginxError, parsers.TypeNginxAccess}
	for i, l := range lines {
		ev, err := parse(l)
		if err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		if got := detect.LineType(f.Type, &ev); got != want[i] || string(ev.Client) == "" || ev.Time.IsZero() {
			t.Errorf("%s: type %s client %q time %v", l, got, ev.Client, ev.Time)
		}
	}
}
