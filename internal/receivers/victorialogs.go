package receivers

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

// VictoriaLogsModule is the VictoriaLogs server the tests build from its Go
// module (Apache-2.0): a real log database that speaks the Loki push,
// Elasticsearch _bulk and OTLP/HTTP ingestion APIs.
const VictoriaLogsModule = "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@v1.52.2"

// victoriaLogsBin is where the built server is cached between runs (and
// between CI runs on one machine): a fresh machine builds it once, ~1.5 min.
func victoriaLogsBin() string {
	if p := os.Getenv("ORIGIN_AGENT_VICTORIALOGS"); p != "" {
		return p
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return filepath.Join(cache, "origin-agent", "victoria-logs-v1.52.2")
}

// VictoriaLogsBinary returns the path of the VictoriaLogs server, building
// it with `go install` into the cache when it is not there yet (under a file
// lock: test packages run in parallel). It skips without the go command
// unless ORIGIN_AGENT_E2E=1.
func VictoriaLogsBinary(t testing.TB) string {
	t.Helper()
	bin := victoriaLogsBin()
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	goCmd, err := exec.LookPath("go")
	if err != nil || (testing.Short() && !testenv.E2E()) {
		// No go command, or -short: building it takes a minute or more.
		testenv.Require(t, testenv.Need{What: bin, Hint: "go install " + VictoriaLogsModule + " (not built in -short)"})
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(bin+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err == nil { // built while we waited
		return bin
	}
	gobin, err := os.MkdirTemp(filepath.Dir(bin), "build-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(gobin)
	cmd := exec.Command(goCmd, "install", VictoriaLogsModule)
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "CGO_ENABLED=0")
	cmd.Dir = gobin // outside any module: go install pkg@version
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build VictoriaLogs (%s): %v\n%s", VictoriaLogsModule, err, out)
	}
	if err := os.Rename(filepath.Join(gobin, "victoria-logs"), bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// StartVictoriaLogs starts VictoriaLogs on addr (a free one when "") with
// its own storage, retention long enough for any test's time stamps, and
// returns its base URL. It is stopped by its PID at cleanup.
func StartVictoriaLogs(t testing.TB, addr string) string {
	t.Helper()
	bin := VictoriaLogsBinary(t)
	if addr == "" {
		addr = FreeAddr(t)
	}
	dir := t.TempDir()
	cmd := exec.Command(bin, "-storageDataPath="+filepath.Join(dir, "data"), "-httpListenAddr="+addr,
		"-retentionPeriod=100y", "-loggerOutput=stderr")
	base := "http://" + addr
	start(t, "victoria-logs", dir, base, "/health", cmd)
	return base
}

// Record is one stored log record: VictoriaLogs' fields, flattened.
type Record map[string]string

// Query returns the records matching a LogsQL query, waiting up to 5 s for
// at least want of them (ingestion is flushed to search within a second).
func Query(t testing.TB, base, query string, want int) []Record {
	t.Helper()
	var out []Record
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		out = out[:0]
		resp, err := http.PostForm(base+"/select/logsql/query", url.Values{"query": {query}})
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			var r Record
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				resp.Body.Close()
				t.Fatalf("VictoriaLogs answer %q: %v", line, err)
			}
			out = append(out, r)
		}
		resp.Body.Close()
		if len(out) >= want || time.Now().After(deadline) {
			return out
		}
	}
}
