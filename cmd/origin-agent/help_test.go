package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/origin-agent/origin-agent/agent/config"
)

// TestHelpGoesToStdout: help asked for goes to stdout with exit 0 (so that
// `origin-agent audit --help | less` works); help printed for a usage
// mistake goes to stderr with exit 2.
func TestHelpGoesToStdout(t *testing.T) {
	type want struct {
		code   int
		stdout string // prefix of stdout; "" means empty
		stderr string // part of stderr; "" means empty
	}
	cases := map[string]want{
		"--help":                 {exitOK, "Usage: origin-agent COMMAND", ""},
		"-h":                     {exitOK, "Usage: origin-agent COMMAND", ""},
		"help":                   {exitOK, "Usage: origin-agent COMMAND", ""},
		"":                       {exitUsage, "", "Usage: origin-agent COMMAND"},
		"bogus":                  {exitUsage, "", `unknown command "bogus"`},
		"--version":              {exitOK, "origin-agent " + version + "\n", ""},
		"cf-ips update --help":   {exitOK, "Usage: origin-agent cf-ips update", ""},
		"cf-ips show -h":         {exitOK, "Usage: origin-agent cf-ips show", ""},
		"cf-ips":                 {exitUsage, "", "Usage: origin-agent cf-ips"},
		"help causes":            {exitOK, "Causes origin-agent names", ""},
		"help config":            {exitOK, "The daemon (origin-agent run) reads " + config.DefaultPath, ""},
		"help nope":              {exitUsage, "", `no command or topic "nope"`},
		"analyze --format xml x": {exitUsage, "", "--format must be"},
		"analyze -- --help":      {exitUsage, "", "--help"}, // a file named --help
	}
	for _, c := range commands() {
		if c.hidden || c.name == "version" {
			continue
		}
		for _, form := range []string{c.name + " --help", c.name + " -h", "help " + c.name} {
			cases[form] = want{exitOK, "Usage: origin-agent " + c.name, ""}
		}
	}
	for args, w := range cases {
		code, stdout, stderr := runCLI(strings.Fields(args)...)
		if code != w.code {
			t.Errorf("%q: exit %d, want %d (stderr %q)", args, code, w.code, stderr)
		}
		if w.stdout == "" && stdout != "" && w.code != exitOK {
			t.Errorf("%q: stdout %q, want nothing", args, stdout)
		}
		if !strings.HasPrefix(stdout, w.stdout) {
			t.Errorf("%q: stdout %q, want it to begin with %q", args, firstLine(stdout), w.stdout)
		}
		if w.stderr == "" && stderr != "" && w.code == exitOK {
			t.Errorf("%q: stderr %q, want nothing", args, stderr)
		}
		if !strings.Contains(stderr, w.stderr) {
			t.Errorf("%q: stderr %q, want %q in it", args, stderr, w.stderr)
		}
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// TestHelpCauses: `help causes` names every cause with its severity.
func TestHelpCauses(t *testing.T) {
	_, out, _ := runCLI("help", "causes")
	for _, c := range knownCauses() {
		if !strings.Contains(out, string(c)+" ") || !strings.Contains(out, c.Describe()) {
			t.Errorf("help causes lacks %s (%s):\n%s", c, c.Describe(), out)
		}
	}
	if !strings.Contains(out, "oom_kill                      critical") {
		t.Errorf("no severity column:\n%s", out)
	}
}

// TestHelpConfigIsValidTOML: the keys `help config` shows are the real
// defaults: they load as a config file and give the defaults back.
func TestHelpConfigIsValidTOML(t *testing.T) {
	_, out, _ := runCLI("help", "config")
	_, keys, ok := strings.Cut(out, "The keys and their defaults:\n")
	if !ok {
		t.Fatalf("no keys:\n%s", out)
	}
	path := write(t, t.TempDir(), "config.toml", keys)
	c, err := config.Load(path)
	if err != nil {
		t.Fatalf("help config's keys do not load: %v\n%s", err, keys)
	}
	if c.Agent.StateDir != config.Default().Agent.StateDir || !strings.Contains(keys, "[checks]") {
		t.Errorf("help config:\n%s", keys)
	}
}

// TestHelpCausesComplete: every Cause constant the correlator and the
// checks define is listed by `help causes` (a new cause cannot be left out).
func TestHelpCausesComplete(t *testing.T) {
	listed := map[string]bool{}
	for _, c := range knownCauses() {
		listed[string(c)] = true
	}
	fset := token.NewFileSet()
	for _, dir := range []string{"../../agent/correlate", "../../agent/checks"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				vs, ok := n.(*ast.ValueSpec)
				if !ok || len(vs.Values) != 1 {
					return true
				}
				typ, _ := vs.Type.(*ast.Ident)
				sel, _ := vs.Type.(*ast.SelectorExpr)
				if (typ == nil || typ.Name != "Cause") && (sel == nil || sel.Sel.Name != "Cause") {
					return true
				}
				if lit, ok := vs.Values[0].(*ast.BasicLit); ok {
					if v, _ := strconv.Unquote(lit.Value); !listed[v] {
						t.Errorf("%s: cause %q (%s) is not in help causes (knownCauses)", path, v, vs.Names[0].Name)
					}
				}
				return true
			})
		}
	}
}
