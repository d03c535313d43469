package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

// TestBashCompletion sources the generated script in a real bash and asks
// it for completions the way bash does.
func TestBashCompletion(t *testing.T) {
	testenv.Require(t, testenv.Command("bash", "bash"))
	bash, _ := exec.LookPath("bash")
	code, script, stderr := runCLI("__completion", "bash")
	if code != exitOK {
		t.Fatalf("__completion bash: exit %d, %s", code, stderr)
	}
	file := filepath.Join(t.TempDir(), "origin-agent.bash")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	var visible []string
	for _, c := range commands() {
		if !c.hidden {
			visible = append(visible, c.name)
		}
	}
	cases := []struct {
		words string // COMP_WORDS; the last word is the one being completed
		want  string // COMPREPLY joined by spaces
	}{
		{"origin-agent an", "analyze"},
		{"origin-agent ''", strings.Join(visible, " ") + " help"},
		{"origin-agent cf-ips ''", "update show"},
		{"origin-agent cf-ips u", "update"},
		{"origin-agent cf-ips update --s", "--state-dir"},
		{"origin-agent analyze --format ''", "text json html"},
		{"origin-agent analyze --format h", "html"},
		{"origin-agent analyze --format = j", "json"}, // --format=j: bash splits at "="
		{"origin-agent audit -format ''", "text json"},
		{"origin-agent discover --format ''", "text json"},
		{"origin-agent help c", "cf-ips check-config causes config"},
		{"origin-agent __", ""},
		{"origin-agent analyze --for", "--format"},
		{"origin-agent analyze --n", "--nginx-conf"},
		{"origin-agent analyze -", "--apache-conf --config --format --gap --journal --journal-dir --nginx-conf -o --ship --ship-timeout --since --tz --until"},
		{"origin-agent analyze acc", ""}, // left to bash's file completion
		{"origin-agent version -", ""},
	}
	for _, c := range cases {
		prog := `source "$1"; COMP_WORDS=(` + c.words + `); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _origin_agent; echo "${COMPREPLY[*]}"`
		out, err := exec.Command(bash, "-c", prog, "bash", file).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.words, err, out)
		}
		if got := strings.TrimSpace(string(out)); got != c.want {
			t.Errorf("complete %q = %q, want %q", c.words, got, c.want)
		}
	}
}

func TestZshCompletion(t *testing.T) {
	code, script, stderr := runCLI("__completion", "zsh")
	if code != exitOK {
		t.Fatalf("__completion zsh: exit %d, %s", code, stderr)
	}
	for _, w := range []string{
		"#compdef origin-agent\n",
		"'analyze:diagnose ",
		"'--nginx-conf=[nginx config FILE to learn log_formats and access_log paths from]:FILE:_files'",
		"'--since=[ignore lines before this TIME (RFC 3339, or 2006-01-02\\[ 15:04\\[:05\\]\\] in UTC)]:TIME:'",
		"'-o=[",
		"'--format=[output format: text, json or html (default \"text\")]:string:(text json html)'",
		"'1:subcommand:(update show)'",
		"'1:topic:(" + strings.Join(visibleNames(), " ") + " causes config)'",
	} {
		if !strings.Contains(script, w) {
			t.Errorf("zsh completion lacks %q:\n%s", w, script)
		}
	}
	if strings.Contains(script, "__man") {
		t.Error("zsh completion offers a hidden command")
	}
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		t.Log("zsh not installed: syntax not checked")
		return
	}
	file := filepath.Join(t.TempDir(), "_origin-agent")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(zsh, "-n", file).CombinedOutput(); err != nil {
		t.Errorf("zsh -n: %v\n%s", err, out)
	}
}

func TestZshFlagSpec(t *testing.T) {
	cases := []struct {
		f    flagDoc
		want string
	}{
		{flagDoc{name: "dry-run", usage: "print [only]"}, `--dry-run[print \[only\]]`},
		{flagDoc{name: "config", arg: "FILE", usage: "config file"}, "--config=[config file]:FILE:_files"},
		{flagDoc{name: "gap", arg: "duration", usage: "quiet time"}, "--gap=[quiet time]:duration:"},
		{flagDoc{name: "o", arg: "FILE", usage: "output"}, "-o=[output]:FILE:_files"},
		{flagDoc{name: "format", arg: "string", usage: "output format", values: []string{"text", "json"}}, "--format=[output format]:string:(text json)"},
	}
	for _, c := range cases {
		if got := zshFlagSpec(c.f); got != c.want {
			t.Errorf("zshFlagSpec(%+v) = %q, want %q", c.f, got, c.want)
		}
	}
}

func TestCompletionUsage(t *testing.T) {
	for _, args := range [][]string{{"__completion"}, {"__completion", "fish"}, {"__completion", "bash", "zsh"}} {
		if code, _, stderr := runCLI(args...); code != exitUsage || stderr == "" {
			t.Errorf("%v: exit %d, stderr %q; want %d with a reason", args, code, stderr, exitUsage)
		}
	}
}

// TestFlagValuesAreDocumented: every value completion offers for a flag is
// named in that flag's help, so the list cannot silently drift from what
// the command accepts.
func TestFlagValuesAreDocumented(t *testing.T) {
	cmds := visibleCommands()
	for name, flags := range flagValues() {
		i := slices.IndexFunc(cmds, func(c manCommand) bool { return c.name == name })
		if i < 0 {
			t.Errorf("flagValues names command %q, which does not exist", name)
			continue
		}
		for flag, vals := range flags {
			j := slices.IndexFunc(cmds[i].help.flags, func(f flagDoc) bool { return f.name == flag })
			if j < 0 {
				t.Errorf("%s has no flag --%s", name, flag)
				continue
			}
			for _, v := range vals {
				if !strings.Contains(cmds[i].help.flags[j].usage, v) {
					t.Errorf("%s --%s: value %q not in its help %q", name, flag, v, cmds[i].help.flags[j].usage)
				}
			}
		}
	}
}

// visibleNames are the subcommands completion offers, in their order.
func visibleNames() []string {
	var out []string
	for _, c := range commands() {
		if !c.hidden {
			out = append(out, c.name)
		}
	}
	return out
}
