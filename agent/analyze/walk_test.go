package analyze

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWalkFollowsSymlinks: a directory's symbolic links to logs are read
// (once, when the target is in the tree too), a link loop ends, and a
// dangling link is named on the log instead of skipped without a word.
func TestWalkFollowsSymlinks(t *testing.T) {
	root := t.TempDir()
	elsewhere := t.TempDir()
	dir := filepath.Join(root, "logs")
	os.MkdirAll(filepath.Join(dir, "nginx"), 0o755)
	line := func(i, status int) string {
		return fmt.Sprintf("198.51.100.7 - - [20/Nov/2026:10:00:%02d +0000] \"GET / HTTP/1.1\" %d 5 \"-\" \"curl\"\n", i, status)
	}
	var a, b strings.Builder
	for i := 0; i < 10; i++ {
		a.WriteString(line(i, 200))
		b.WriteString(line(i, 502))
	}
	os.WriteFile(filepath.Join(dir, "nginx", "access.log"), []byte(a.String()), 0o644)
	os.WriteFile(filepath.Join(elsewhere, "shop-access.log"), []byte(b.String()), 0o644)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(filepath.Join(elsewhere, "shop-access.log"), filepath.Join(dir, "nginx", "shop.log"))) // a log linked in
	must(os.Symlink("access.log", filepath.Join(dir, "nginx", "current.log")))                             // the same file again
	must(os.Symlink("..", filepath.Join(dir, "nginx", "up")))                                              // a loop
	must(os.Symlink(filepath.Join(elsewhere, "gone.log"), filepath.Join(dir, "nginx", "old.log")))         // dangling
	must(os.Symlink(filepath.Join(dir, "nginx"), filepath.Join(dir, "nginx-link")))                        // a directory linked in

	var logged []string
	res, err := Run(context.Background(), Options{Args: []string{dir}, Log: func(f string, a ...any) { logged = append(logged, fmt.Sprintf(f, a...)) }})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	lines := int64(0)
	for _, c := range res.Cases {
		for _, f := range c.Files {
			paths = append(paths, f.Path)
			lines += f.Lines
		}
	}
	if len(paths) != 2 || lines != 20 {
		t.Errorf("read %v (%d lines), want access.log and shop.log once each (20 lines)", paths, lines)
	}
	if len(res.Cases) != 1 || len(res.Cases[0].Incidents) != 1 || res.Cases[0].Incidents[0].Gateways != 10 {
		t.Errorf("want the 10 502s of the linked log as one incident: %+v", res.Cases)
	}
	all := strings.Join(logged, "\n")
	for _, want := range []string{"old.log: symbolic link not followed", "(a loop)", "read once"} {
		if !strings.Contains(all, want) {
			t.Errorf("log does not say %q:\n%s", want, all)
		}
	}
}
