package agent

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/finding"
	"github.com/origin-agent/origin-agent/parsers"
	"github.com/origin-agent/origin-agent/parsers/detect"
)

// The daemon chooses formats as analyze does, from each file's own lines:
// an Apache common log, and a JSON nginx log that appears after start.
func TestDaemonChoosesFormats(t *testing.T) {
	dir := t.TempDir()
	common := filepath.Join(dir, "apache2", "access.log")
	jsonLog := filepath.Join(dir, "nginx", "json_access.log")
	errLog := filepath.Join(dir, "nginx", "error.log")
	os.MkdirAll(filepath.Dir(common), 0o755)
	os.MkdirAll(filepath.Dir(jsonLog), 0o755)
	appendLine(t, common, `198.51.100.1 - - [20/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 612`)

	out := newCollect()
	local := parsers.Options{Location: time.Local, Ref: time.Now()}
	a, stop := startAgent(t, Options{
		StateDir: filepath.Join(dir, "state"),
		Host:     "web1",
		Watches: []Watch{
			{Path: common, Type: parsers.TypeApacheAccess, Formats: detect.Builtin(parsers.TypeApacheAccess), Options: local},
			{Path: jsonLog, Type: parsers.TypeNginxAccess, Formats: detect.Builtin(parsers.TypeNginxAccess), Options: local},
			{Path: errLog, Type: parsers.TypeNginxError, Formats: detect.Builtin(parsers.TypeNginxError), Options: local},
		},
		Correlate: liveCorrelate(),
		Emitters:  []Emitter{out},
		Log:       testLog(t),
	})

	now := time.Now().UTC()
	for i := 0; i < 3; i++ {
		appendLine(t, common, fmt.Sprintf(`203.0.113.%d - - [%s] "GET /a.php HTTP/1.1" 502 157`, i+1, now.Format("02/Jan/2006:15:04:05 -0700")))
		appendLine(t, jsonLog, fmt.Sprintf(`{"time_iso8601":"%s","remote_addr":"203.0.113.%d","request":"GET /j HTTP/1.1","status":"504","body_bytes_sent":"0"}`, now.Format(time.RFC3339), i+11))
	}
	// A multi-line message: its continuation lines are no parse errors.
	appendLine(t, errLog, time.Now().Format("2006/01/02 15:04:05")+` [error] 7#7: *1 FastCGI sent in stderr: "PHP message: PHP Warning:  a`+"\nPHP message: PHP Warning:  b\nPHP message: PHP Warning:  c\" while reading response header from upstream, client: 203.0.113.1, server: _")
	closed, _ := out.wait(t, 15*time.Second, func(f finding.Finding) bool { return f.State == finding.StateClosed })
	if closed.Statuses["502"] != 3 || closed.Statuses["504"] != 3 {
		t.Errorf("closed finding counts %v, want 3 × 502 (apache common) and 3 × 504 (nginx json)", closed.Statuses)
	}
	for _, l := range strings.Split(httpGet(t, a.httpHandler(), "/metrics"), "\n") {
		if strings.HasPrefix(l, "origin_agent_parse_errors_total{") && !strings.HasSuffix(l, " 0") {
			t.Errorf("parse errors: %s", l)
		}
	}
	stop()
}

// A log rotated to a file in another format (combined, then JSON after a
// log_format change and a reload) is read in its new format.
func TestDaemonRechoosesAfterRotation(t *testing.T) {
	var logBuf syncBuffer
	dir := t.TempDir()
	access := filepath.Join(dir, "access.log")
	appendLine(t, access, `198.51.100.1 - - [20/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.0"`)
	out := newCollect()
	a, stop := startAgent(t, Options{
		StateDir: filepath.Join(dir, "state"),
		Host:     "web1",
		Watches: []Watch{{Path: access, Type: parsers.TypeNginxAccess, Formats: detect.Builtin(parsers.TypeNginxAccess),
			Options: parsers.Options{Location: time.Local, Ref: time.Now()}}},
		Correlate: liveCorrelate(),
		Emitters:  []Emitter{out},
		Log:       slog.New(slog.NewTextHandler(&logBuf, nil)),
	})

	now := time.Now().UTC()
	for i := 0; i < 2; i++ {
		appendLine(t, access, fmt.Sprintf(`203.0.113.%d - - [%s] "GET /a.php HTTP/1.1" 502 157 "-" "curl/8.0"`, i+1, now.Format("02/Jan/2006:15:04:05 -0700")))
	}
	if err := os.Rename(access, access+".1"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		appendLine(t, access, fmt.Sprintf(`{"time_iso8601":"%s","remote_addr":"203.0.113.%d","request":"GET /j HTTP/1.1","status":504}`, now.Format(time.RFC3339), i+11))
	}
	closed, _ := out.wait(t, 20*time.Second, func(f finding.Finding) bool { return f.State == finding.StateClosed })
	if closed.Statuses["502"] != 2 || closed.Statuses["504"] != 3 {
		t.Errorf("closed finding counts %v, want 2 × 502 (combined, before rotation) and 3 × 504 (JSON, after)", closed.Statuses)
	}
	for _, l := range strings.Split(httpGet(t, a.httpHandler(), "/metrics"), "\n") {
		if strings.HasPrefix(l, "origin_agent_parse_errors_total{") && !strings.HasSuffix(l, " 0") {
			t.Errorf("parse errors: %s", l)
		}
	}
	stop()
	// Each generation was judged on its own lines.
	if l := logBuf.String(); !strings.Contains(l, `msg="log format chosen"`) || !strings.Contains(l, "format=combined") || !strings.Contains(l, "format=json") {
		t.Errorf("format choices not logged per file generation:\n%s", l)
	}
}

// syncBuffer is a bytes.Buffer safe for the agent's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
