package analyze

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runFiles(t *testing.T, files map[string]string, args ...string) (*Result, error) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, a := range args {
		if k := strings.IndexByte(a, '='); k > 0 {
			args[i] = a[:k+1] + filepath.Join(dir, a[k+1:])
		} else {
			args[i] = filepath.Join(dir, a)
		}
	}
	return Run(context.Background(), Options{Args: args, Log: func(string, ...any) {}})
}

// Detection prefers the richer format; nginx's multi-line messages are
// continuations, not skipped lines.
func TestFormatChoice(t *testing.T) {
	combined := `192.168.33.1 - - [26/Dec/2016:16:22:13 +0000] "GET /hello HTTP/1.1" 404 499 "-" "Mozilla/5.0"
::1 - - [26/Dec/2016:16:16:29 +0200] "GET /favicon.ico HTTP/1.1" 404 209
172.17.0.1 - - [29/May/2017:19:02:48 +0000] "GET /stringpatch HTTP/1.1" 404 612 "-" "Mozilla/5.0" "-"
`
	errlog := `2019/10/30 23:26:34 [error] 205860#205860: *180289 FastCGI sent in stderr: "PHP message: PHP Warning:  Declaration of A::wrap() should be compatible
PHP message: PHP Warning:  Declaration of B::wrap() should be compatible
PHP message: PHP Warning:  Declaration of C::wrap() should be compatible" while reading response header from upstream, client: 127.0.0.1, server: localhost
2019/11/05 14:50:44 [error] 54053#0: *3 open() "/x" failed (2: No such file or directory), client: 127.0.0.1, server: localhost
`
	res, err := runFiles(t, map[string]string{"apache2-access.log": combined, "error.log": errlog}, "apache2-access.log", "error.log")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]FileReport{}
	for _, f := range res.Cases[0].Files {
		got[filepath.Base(f.Path)] = f
	}
	if f := got["apache2-access.log"]; f.Format != "combined" || f.Parsed != 3 || f.Skipped != 0 {
		t.Errorf("access: %+v", f)
	}
	if f := got["error.log"]; f.Parsed != 2 || f.Continued != 2 || f.Skipped != 0 {
		t.Errorf("error log: %+v", f)
	}
}

// A file named with its type is read when some of its first lines parse;
// the refusal says how many did.
func TestExplicitTypeFewLines(t *testing.T) {
	text := "garbage one\n" + `203.0.113.7 - - [20/Nov/2026:10:01:02 +0000] "GET / HTTP/1.1" 502 1 "-" "c"` + "\ngarbage two\n"
	res, err := runFiles(t, map[string]string{"a.log": text}, "nginx_access=a.log")
	if err != nil {
		t.Fatal(err)
	}
	if f := res.Cases[0].Files[0]; f.Parsed != 1 || f.Skipped != 2 {
		t.Errorf("%+v", f)
	}
	_, err = runFiles(t, map[string]string{"a.log": text}, "a.log")
	if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "only 1 of the first 3 lines parse") {
		t.Errorf("err = %v", err)
	}
}
