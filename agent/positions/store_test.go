package positions

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func key(path string, ino uint64, content string) Key {
	return Key{Path: path, Dev: 2049, Ino: ino, FP: FingerprintOf([]byte(content))}
}

func TestFingerprint(t *testing.T) {
	long := strings.Repeat("x", 2000)
	tests := []struct {
		name   string
		fp     string
		prefix string
		want   bool
	}{
		{"same", "GET / 200\n", "GET / 200\n", true},
		{"file grew", "GET / 200\n", "GET / 200\nGET /a 502\n", true},
		{"file shrank", "GET / 200\nGET /a 502\n", "GET / 200\n", false},
		{"other content", "GET / 200\n", "GET / 502\n", false},
		{"empty matches anything", "", "anything", true},
		{"capped at 1024", long, long[:1024] + "different tail", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FingerprintOf([]byte(tt.fp)).Matches([]byte(tt.prefix)); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
	if n := FingerprintOf([]byte(long)).Len; n != FingerprintSize {
		t.Errorf("Len = %d, want %d", n, FingerprintSize)
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "positions.json")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a := key("/var/log/nginx/access.log", 11, "line one\n")
	b := key("/var/log/nginx/access.log", 12, "")
	c := key("/var/log/php8.2-fpm.log", 13, strings.Repeat("y", 3000))
	s.Set(a, 100)
	s.Set(b, 0)
	s.Set(c, 1<<40)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		k    Key
		want int64
	}{{a, 100}, {b, 0}, {c, 1 << 40}} {
		got, ok := s2.Get(tt.k)
		if !ok || got != tt.want {
			t.Errorf("Get(%v) = %d, %v; want %d", tt.k, got, ok, tt.want)
		}
	}
	if got := s2.Find("/var/log/nginx/access.log"); len(got) != 2 || got[0].Ino != 11 || got[1].Ino != 12 {
		t.Errorf("Find = %+v, want inodes 11 and 12", got)
	}
	if s2.Len() != 3 {
		t.Errorf("Len = %d, want 3", s2.Len())
	}
}

func TestSetMovesForwardOnly(t *testing.T) {
	s := New(filepath.Join(t.TempDir(), "p.json"))
	k := key("/a", 1, "x")
	s.Set(k, 50)
	s.Set(k, 40)
	s.Set(k, -1)
	if got, _ := s.Get(k); got != 50 {
		t.Errorf("after Set 50, 40, -1: %d, want 50", got)
	}
	s.Reset(k, 10)
	if got, _ := s.Get(k); got != 10 {
		t.Errorf("after Reset 10: %d, want 10", got)
	}
	other := k
	other.FP = FingerprintOf([]byte("y"))
	if _, ok := s.Get(other); ok {
		t.Error("Get with another fingerprint found an entry")
	}
	s.Remove(k)
	if _, ok := s.Get(k); ok {
		t.Error("entry still there after Remove")
	}
}

func TestPermissions(t *testing.T) {
	old := setUmask(0)
	defer setUmask(old)
	path := filepath.Join(t.TempDir(), "positions.json")
	s := New(path)
	s.Set(key("/a", 1, "x"), 1)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
}

func TestCrashBeforeRenameKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "positions.json")
	s := New(path)
	k := key("/var/log/nginx/access.log", 7, "first line\n")
	s.Set(k, 100)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	crash := errors.New("simulated crash")
	var tmpSeen string
	s.beforeRename = func(tmp string) error {
		tmpSeen = tmp
		data, err := os.ReadFile(tmp)
		if err != nil {
			return err
		}
		if !strings.Contains(string(data), `"offset": 200`) {
			t.Errorf("temp file lacks the new offset:\n%s", data)
		}
		return crash
	}
	s.Set(k, 200)
	if err := s.Sync(); !errors.Is(err, crash) {
		t.Fatalf("Sync = %v, want the simulated crash", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Errorf("file changed by a failed sync:\nbefore %s\nafter %s", before, after)
	}
	if tmpSeen == "" || filepath.Dir(tmpSeen) != dir {
		t.Errorf("temp file %q not in the store's directory %s", tmpSeen, dir)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the failed sync left files behind: %v", entries)
	}
	reopened, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := reopened.Get(k); got != 100 {
		t.Errorf("after crash the saved offset is %d, want the old 100", got)
	}

	// The failed sync left the store dirty: the next one writes 200.
	s.beforeRename = nil
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	reopened, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := reopened.Get(k); got != 200 {
		t.Errorf("after retry offset is %d, want 200", got)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content, want string
	}{
		{"garbage", "{not json", "parse positions"},
		{"truncated", `{"version":1,"positions":[{"path":"/a"`, "parse positions"},
		{"version", `{"version":9,"positions":[]}`, "unsupported version 9"},
		{"empty path", `{"version":1,"positions":[{"path":"","fingerprint":"fnv1a64:0000000000000000"}]}`, "empty path"},
		{"bad fingerprint", `{"version":1,"positions":[{"path":"/a","fingerprint":"md5:00"}]}`, "fingerprint"},
		{"negative offset", `{"version":1,"positions":[{"path":"/a","fingerprint":"fnv1a64:0000000000000000","offset":-5}]}`, "negative offset"},
		{"fingerprint len", `{"version":1,"positions":[{"path":"/a","fingerprint":"fnv1a64:0000000000000000","fingerprint_len":5000}]}`, "fingerprint_len"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			old := time.Now().Add(-time.Hour).Truncate(time.Second)
			os.Chtimes(path, old, old)
			s, err := Open(path)
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open = %v, want an error naming %s and %q", err, path, tt.want)
			}
			// Corrupt: set aside, and an empty store that knows it lost
			// positions written about when the bad file was.
			if !errors.Is(err, ErrCorrupt) || s == nil || s.Len() != 0 || !s.Recovered().Equal(old) {
				t.Fatalf("Open = %v, %v; want ErrCorrupt and an empty store recovered at %v", s, err, old)
			}
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the bad file is still at %s", path)
			}
			aside, _ := filepath.Glob(path + ".corrupt-*")
			if len(aside) != 1 || !strings.Contains(err.Error(), aside[0]) {
				t.Fatalf("set aside as %v; error %v", aside, err)
			}
			if b, _ := os.ReadFile(aside[0]); string(b) != tt.content {
				t.Errorf("%s holds %q", aside[0], b)
			}
			// The next sync writes a good file again.
			s.Set(Key{Path: "/a"}, 10)
			if err := s.Sync(); err != nil {
				t.Fatal(err)
			}
			if s2, err := Open(path); err != nil || s2.Len() != 1 || !s2.Recovered().IsZero() {
				t.Errorf("after sync: %v, %v", s2, err)
			}
		})
	}
	s, err := Open(filepath.Join(dir, "missing.json"))
	if err != nil || s.Len() != 0 {
		t.Errorf("Open(missing) = %v, %v; want an empty store", s, err)
	}
}

func TestSyncErrorNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-dir", "positions.json")
	s := New(path)
	s.Set(key("/a", 1, "x"), 1)
	if err := s.Sync(); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Sync = %v, want an error naming %s", err, path)
	}
}

func TestConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "positions.json")
	s := New(path)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := key(fmt.Sprintf("/log/%d", g), uint64(g), "x")
			for i := range 300 {
				s.Set(k, int64(i))
				s.Get(k)
				s.Find(k.Path)
				if i%50 == 0 {
					if err := s.Sync(); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for g := range 8 {
		if got, _ := s2.Get(key(fmt.Sprintf("/log/%d", g), uint64(g), "x")); got != 299 {
			t.Errorf("goroutine %d: offset %d, want 299", g, got)
		}
	}
}

func TestLinesRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "positions.json")
	s := New(p)
	k1, k2 := key("/var/log/a.log", 1, "a"), key("/var/log/b.log", 2, "b")
	s.Mark(k1, 700, 42)
	s.Set(k2, 300)
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	got, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		k     Key
		lines int64
	}{{k1, 42}, {k2, 0}} {
		es := got.Find(c.k.Path)
		if len(es) != 1 || es[0].Lines != c.lines {
			t.Errorf("%s: %+v, want lines %d", c.k.Path, es, c.lines)
		}
	}
	data, _ := os.ReadFile(p)
	if strings.Count(string(data), `"lines"`) != 1 {
		t.Errorf("an unknown count is written out:\n%s", data)
	}
	bad := strings.Replace(string(data), `"lines": 42`, `"lines": 701`, 1)
	os.WriteFile(p, []byte(bad), 0o600)
	if _, err := Open(p); err == nil || !strings.Contains(err.Error(), "lines 701") {
		t.Errorf("Open of a count past the offset: %v", err)
	}
}
