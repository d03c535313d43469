package main

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

// TestRootRunKeepsStateTheOwners: `origin-agent run` started by hand as
// root in a state directory that belongs to the service user (nobody
// here) leaves every file it creates — positions, the spool, the findings
// file — to that user, who can then open them as the service would. A
// root-owned leftover from an earlier run is given back at start.
func TestRootRunKeepsStateTheOwners(t *testing.T) {
	testenv.Require(t, testenv.Root())
	if testing.Short() {
		t.Skip("builds and runs the agent; not in -short")
	}
	const uid, gid = 65534, 65534 // nobody:nogroup, the "service user"
	bin := buildAgent(t)
	dir := worldDir(t, "rootrun")
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(state, uid, gid); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(state, "journal.cursor")
	if err := os.WriteFile(leftover, []byte("s=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	access := writeFile(t, dir, "access.log", "")
	port := freePort(t, 20600)
	conf := writeFile(t, dir, "config.toml", fmt.Sprintf(`[agent]
state_dir = %q
hostname = "root-run"

[sources]
nginx_conf = "off"
apache_conf = "off"
php_fpm_conf = "off"
kernel = "off"
nginx_access = [%q]

[checks]
ports = []
upstreams = []

[metrics]
listen = "127.0.0.1:%d"

[[sinks]]
type = "syslog"
address = "tcp://127.0.0.1:9"
retry_max = "1s"

[[sinks]]
type = "file"
path = %q
`, state, access, port, filepath.Join(state, "findings", "findings.jsonl")))

	cmd := exec.Command(bin, "run", "--config", conf)
	a := &agentRun{metrics: fmt.Sprintf("http://127.0.0.1:%d", port), stderr: &lockedBuffer{}, stdoutEOF: make(chan struct{})}
	cmd.Stderr = a.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	a.proc = startProc(t, "origin-agent", cmd)
	go a.read(stdout)
	a.waitReady(t)
	f, err := os.OpenFile(access, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		fmt.Fprintf(f, "127.0.0.1 - - [%s] \"GET /x HTTP/1.1\" 200 5 \"-\" \"curl\"\n", time.Now().Format("02/Jan/2006:15:04:05 -0700"))
	}
	f.Close()
	// Positions are saved on a clean stop.
	a.terminate(t)

	want := []string{"positions.json", "spool", "findings/findings.jsonl", "journal.cursor"}
	for _, name := range want {
		if _, err := os.Stat(filepath.Join(state, name)); err != nil {
			t.Errorf("the run left no %s: %v\n%s", name, err, a.stderr.String())
		}
	}
	var spoolDB string
	_ = filepath.WalkDir(state, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		info, _ := d.Info()
		st := info.Sys().(*syscall.Stat_t)
		if st.Uid != uid || st.Gid != gid {
			t.Errorf("%s is %d:%d, want the state directory's owner %d:%d", p, st.Uid, st.Gid, uid, gid)
		}
		if d.Name() == "spool.db" {
			spoolDB = p
		}
		return nil
	})
	if spoolDB == "" {
		t.Fatalf("no spool.db under %s", state)
	}
	// The service user opens them as the service does.
	for _, c := range []struct{ what, script, path string }{
		{"read the positions", `exec <"$1"`, filepath.Join(state, "positions.json")},
		{"open the spool read-write", `exec <>"$1"`, spoolDB},
		{"append to the findings", `exec >>"$1"`, filepath.Join(state, "findings", "findings.jsonl")},
		{"replace the cursor", `echo x >"$1.new" && mv "$1.new" "$1"`, leftover},
	} {
		sh := exec.Command("/bin/sh", "-c", c.script, "sh", c.path)
		sh.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
		if out, err := sh.CombinedOutput(); err != nil {
			t.Errorf("the service user cannot %s (%s): %v %s", c.what, c.path, err, strings.TrimSpace(string(out)))
		}
	}
}
