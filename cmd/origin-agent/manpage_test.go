package main

import (
	"bytes"
	"flag"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

func TestParseHelp(t *testing.T) {
	cases := []struct {
		name, help string
		want       helpDoc
	}{
		{
			name: "usage, text, flags",
			help: "Usage: origin-agent analyze [flags] PATH...\n\nPATH is a file. TYPE is one of\n  nginx_access kernel\nor detected.\n\nFlags:\n" +
				"  -format string\n    \toutput format (default \"text\")\n" +
				"  -nginx-conf FILE\n    \tnginx config FILE\n    \tsecond line\n" +
				"  -q\tquiet\n" +
				"  -verbose\n    \tsay more\n",
			want: helpDoc{
				synopsis: "origin-agent analyze [flags] PATH...",
				text:     [][]string{{"PATH is a file. TYPE is one of", "  nginx_access kernel", "or detected."}},
				flags: []flagDoc{
					{"format", "string", `output format (default "text")`, nil},
					{"nginx-conf", "FILE", "nginx config FILE second line", nil},
					{"q", "", "quiet", nil},
					{"verbose", "", "say more", nil},
				},
			},
		},
		{
			name: "no help at all",
			help: "",
			want: helpDoc{},
		},
		{
			name: "text only",
			help: "prints the version\n",
			want: helpDoc{text: [][]string{{"prints the version"}}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := parseHelp(c.help); !reflect.DeepEqual(got, c.want) {
				t.Errorf("parseHelp:\n got %#v\nwant %#v", got, c.want)
			}
		})
	}
}

// TestParseHelpOfFlagPackage checks the parser against what the flag
// package really prints, so a change in its layout shows up here.
func TestParseHelpOfFlagPackage(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.String("nginx-conf", "", "nginx config `FILE` to read")
	fs.Bool("dry-run", false, "print, do not act")
	fs.Duration("gap", time.Minute, "quiet time\nthat ends an incident")
	fs.Int("n", 3, "how many")
	fs.Bool("v", false, "verbose")
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	fs.PrintDefaults()
	got := parseHelp("Usage: x [flags]\n\nFlags:\n" + buf.String()).flags
	want := []flagDoc{
		{"dry-run", "", "print, do not act", nil},
		{"gap", "duration", "quiet time that ends an incident (default 1m0s)", nil},
		{"n", "int", "how many (default 3)", nil},
		{"nginx-conf", "FILE", "nginx config FILE to read", nil},
		{"v", "", "verbose", nil},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("flags of\n%s\n got %#v\nwant %#v", buf.String(), got, want)
	}
}

func TestRoffText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain words", "plain words"},
		{"--format", `\-\-format`},
		{`C:\path`, `C:\epath`},
		{".hidden dot", `\&.hidden dot`},
		{"'quote first", `\&'quote first`},
		{"a.b 'c'", "a.b 'c'"},
	}
	for _, c := range cases {
		if got := roffText(c.in); got != c.want {
			t.Errorf("roffText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got, want := roffQuote(`say "hi"`), `"say ""hi"""`; got != want {
		t.Errorf("roffQuote = %q, want %q", got, want)
	}
}

func TestManPage(t *testing.T) {
	code, page, stderr := runCLI("__man", "-date", "2026-11-20")
	if code != exitOK {
		t.Fatalf("__man: exit %d, stderr %q", code, stderr)
	}
	want := []string{".TH ORIGIN-AGENT 1 \"2026\\-11\\-20\" \"origin\\-agent " + strings.ReplaceAll(version, "-", `\-`) + "\"", ".SH NAME", ".SH SYNOPSIS", ".SH FILES"}
	for _, c := range commands() {
		if c.hidden {
			continue
		}
		want = append(want, ".SS "+roffQuote(c.name)+"\n"+roffText(c.summary)+"\n")
		for _, f := range parseHelp(commandHelp(c)).flags {
			want = append(want, roffText(f.dashed()))
		}
	}
	want = append(want, `.BI \-\-format " string"`, ".B origin\\-agent analyze [flags] [TYPE=]PATH...")
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("man page lacks %q", w)
		}
	}
	if strings.Contains(page, ".SS \"__") || strings.Contains(page, "write the bash or zsh completion") {
		t.Errorf("man page shows a hidden command:\n%s", page)
	}
	testenv.Require(t, testenv.Command("groff", "groff-base")) // the roff syntax, last
	cmd := exec.Command("groff", "-man", "-ww", "-z")
	cmd.Stdin = strings.NewReader(page)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("groff -man -ww: %v\n%s", err, out)
	}
}

func TestManPageIsReproducible(t *testing.T) {
	_, a, _ := runCLI("__man")
	_, b, _ := runCLI("__man")
	if a != b {
		t.Error("two runs of __man differ")
	}
	if !strings.Contains(a, `.TH ORIGIN-AGENT 1 "" `) {
		t.Errorf("without -date the page must carry no date:\n%.200s", a)
	}
}

func TestManBadDate(t *testing.T) {
	code, _, stderr := runCLI("__man", "-date", "20 Nov 2026")
	if code != exitUsage || !strings.Contains(stderr, "YYYY-MM-DD") {
		t.Errorf("exit %d, stderr %q; want %d and a hint", code, stderr, exitUsage)
	}
}

func TestUsageHidesHiddenCommands(t *testing.T) {
	_, stdout, _ := runCLI("help")
	if strings.Contains(stdout, "__man") || strings.Contains(stdout, "__completion") {
		t.Errorf("usage shows hidden commands:\n%s", stdout)
	}
	if !strings.Contains(stdout, "analyze") {
		t.Errorf("usage lacks analyze:\n%s", stdout)
	}
}
