// Package receivers starts real log and alert receivers for the end-to-end
// tests of the sinks and of `origin-agent run`: Prometheus Alertmanager
// (Debian's prometheus-alertmanager) and VictoriaLogs (built from its Go
// module). Each runs on a free loopback port with its own config and
// storage under the test's temporary directory, and is stopped by its PID
// when the test ends; rsyslog likewise. Without the receiver a test skips,
// unless ORIGIN_AGENT_E2E=1 (CI), where that is a failure (testenv).
package receivers

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

// AlertmanagerBin is Debian's prometheus-alertmanager.
const AlertmanagerBin = "/usr/bin/prometheus-alertmanager"

// FreeAddr returns a loopback host:port nobody listens on right now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs cmd with its output in dir/name.log, stops it by PID with
// SIGTERM at cleanup (printing the log when the test failed), and waits
// until GET base+ready answers 200.
func start(t testing.TB, name, dir, base, ready string, cmd *exec.Cmd) {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		syscall.Kill(pid, syscall.SIGTERM)
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s log:\n%s", name, b)
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := http.Get(base + ready)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s on %s not ready after 30 s: %v", name, base, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// StartAlertmanager starts a real Alertmanager (one null receiver, no
// clustering) and returns its base URL, http://127.0.0.1:PORT.
func StartAlertmanager(t testing.TB) string {
	t.Helper()
	testenv.Require(t, testenv.File(AlertmanagerBin, "prometheus-alertmanager"))
	dir := t.TempDir()
	conf := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(conf, []byte("route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := FreeAddr(t)
	cmd := exec.Command(AlertmanagerBin, "--config.file="+conf, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=")
	base := "http://" + addr
	start(t, "alertmanager", dir, base, "/-/ready", cmd)
	return base
}

// Alert is an alert as Alertmanager's API v2 lists it.
type Alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
}

// ActiveAlerts lists Alertmanager's active alerts (resolved ones are not).
func ActiveAlerts(t testing.TB, base string) []Alert {
	t.Helper()
	resp, err := http.Get(base + "/api/v2/alerts?active=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []Alert
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}
