package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/origin-agent/origin-agent/agent/config"
	"github.com/origin-agent/origin-agent/agent/finding"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

func TestFileRotationAndReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "findings.jsonl")
	one, _ := json.Marshal(testFinding("5f1c2a9e-000"))
	lineLen := int64(len(one) + 1)
	s, err := New(def(Config{Type: TypeFile, Path: path, MaxSize: config.ByteSize(2 * lineLen), MaxFiles: 2}), Deps{Redact: RedactConfig{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// 7 findings, 2 per file: path holds 6, path.1 holds 4-5, path.2 holds 2-3; 0-1 rotated away.
	if err := s.Send(context.Background(), testBatch(7)); err != nil {
		t.Fatal(err)
	}
	ids := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			return "missing"
		}
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var f struct{ ID string }
			if err := json.Unmarshal([]byte(l), &f); err != nil {
				t.Fatalf("%s: bad JSON line %q", p, l)
			}
			out = append(out, strings.TrimPrefix(f.ID, "5f1c2a9e-"))
		}
		return strings.Join(out, ",")
	}
	for p, want := range map[string]string{path: "006", path + ".1": "004,005", path + ".2": "002,003", path + ".3": "missing"} {
		if got := ids(p); got != want {
			t.Errorf("%s = %s, want %s", filepath.Base(p), got, want)
		}
	}
	// logrotate: move the file away, Reopen, keep writing to a new file.
	if err := os.Rename(path, path+".logrotate"); err != nil {
		t.Fatal(err)
	}
	if err := s.(Reopener).Reopen(); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), testBatch(1)); err != nil {
		t.Fatal(err)
	}
	if got := ids(path); got != "000" {
		t.Errorf("after Reopen %s, want 000", got)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{def(Config{Type: TypeFile}), "path"},
		{def(Config{Type: TypeSyslog, Address: "127.0.0.1:514"}), "address"},
		{def(Config{Type: TypeSyslog, Address: "ftp://h:1"}), "scheme \"ftp\""},
		{def(Config{Type: TypeSyslog, Address: "tcp://h:1", Facility: "nope"}), "facility"},
		{def(Config{Type: TypeSyslog, Address: "tcp://h:1", CertFile: "c.pem"}), "key_file"},
		{def(Config{Type: TypeLoki, URL: "loki:3100"}), "url"},
		{def(Config{Type: "kafka"}), "\"kafka\" is not"},
		{def(Config{Type: TypeElasticsearch, URL: "https://es:9200"}), ""},
	} {
		err := tc.cfg.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: err = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := New(def(Config{Type: TypeSyslog, Address: "tcp://h:1", CAFile: "/x"}), Deps{}); err == nil {
		t.Error("ca_file on a tcp:// address accepted")
	}
}

// TestFileSinkRecoversAfterENOSPC fills a real, tiny tmpfs: writes fail
// while it is full, the file keeps only whole lines, and once space is
// freed the next findings are written (a bufio.Writer alone keeps its
// first error forever).
func TestFileSinkRecoversAfterENOSPC(t *testing.T) {
	testenv.Require(t, testenv.Root(), testenv.Command("mount", "mount")) // a small tmpfs
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	path := filepath.Join(dir, "findings.jsonl")
	s, err := New(def(Config{Type: TypeFile, Path: path}), Deps{Redact: RedactConfig{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	send := func(id string) error { return s.Send(context.Background(), []finding.Finding{testFinding(id)}) }
	if err := send("before"); err != nil {
		t.Fatal(err)
	}
	// Fill what is left with a filler file.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(make([]byte, 1<<20)) // stops at ENOSPC
	f.Close()
	var failed int
	for i := range 5 {
		if err := send(fmt.Sprintf("full-%d", i)); err != nil {
			failed++
			if !errors.Is(err, syscall.ENOSPC) {
				t.Errorf("write on a full disk: %v, want ENOSPC", err)
			}
		}
	}
	if failed == 0 {
		t.Fatal("no write failed on a full tmpfs: the test did not fill it")
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := send(fmt.Sprintf("after-%d", i)); err != nil {
			t.Fatalf("after space was freed, finding %d: %v", i, err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var f finding.Finding
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("the file holds a cut line %q: %v", line, err)
		}
		got = append(got, f.ID)
	}
	if len(got) < 4 || got[0] != "before" || got[len(got)-1] != "after-2" {
		t.Errorf("findings in the file: %v, want before … after-0 after-1 after-2", got)
	}
}
