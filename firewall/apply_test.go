package firewall

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// fakeTable is an in-memory filter table that answers like iptables -S and
// records every change, so Plan's steps can be run and their result checked.
type fakeTable struct {
	chains map[string][]string // chain -> rulespecs joined by spaces
	order  []string
	policy string
	log    []string
	fail   string // a step whose String contains this fails
}

func newFakeTable(input ...string) *fakeTable {
	return &fakeTable{chains: map[string][]string{"INPUT": input}, order: []string{"INPUT"}, policy: "-P INPUT DROP"}
}

func (f *fakeTable) check(s string) error {
	f.log = append(f.log, s)
	if f.fail != "" && strings.Contains(s, f.fail) {
		return fmt.Errorf("exit status 4: iptables: Resource temporarily unavailable.")
	}
	return nil
}

func (f *fakeTable) List(_, chain string) ([]string, error) {
	rules, ok := f.chains[chain]
	if !ok {
		return nil, fmt.Errorf("exit status 1: iptables: No chain/target/match by that name.")
	}
	var out []string
	if chain == "INPUT" {
		out = append(out, f.policy)
	} else {
		out = append(out, "-N "+chain)
	}
	for _, r := range rules {
		out = append(out, "-A "+chain+" "+r)
	}
	return out, nil
}

func (f *fakeTable) ChainExists(_, chain string) (bool, error) {
	_, ok := f.chains[chain]
	return ok, nil
}

func (f *fakeTable) NewChain(_, chain string) error {
	if _, ok := f.chains[chain]; ok {
		return fmt.Errorf("chain %s exists", chain)
	}
	f.chains[chain] = []string{}
	f.order = append(f.order, chain)
	return f.check("-N " + chain)
}

func (f *fakeTable) Append(_, chain string, spec ...string) error {
	if err := f.check("-A " + chain + " " + strings.Join(spec, " ")); err != nil {
		return err
	}
	f.chains[chain] = append(f.chains[chain], strings.Join(spec, " "))
	return nil
}

func (f *fakeTable) Insert(_, chain string, pos int, spec ...string) error {
	if err := f.check(fmt.Sprintf("-I %s %d %s", chain, pos, strings.Join(spec, " "))); err != nil {
		return err
	}
	f.chains[chain] = slices.Insert(f.chains[chain], pos-1, strings.Join(spec, " "))
	return nil
}

func (f *fakeTable) DeleteById(_, chain string, id int) error {
	if err := f.check(fmt.Sprintf("-D %s %d", chain, id)); err != nil {
		return err
	}
	if id < 1 || id > len(f.chains[chain]) {
		return fmt.Errorf("index %d out of range", id)
	}
	f.chains[chain] = slices.Delete(f.chains[chain], id-1, id)
	return nil
}

func (f *fakeTable) ClearAndDeleteChain(_, chain string) error {
	if err := f.check("-X " + chain); err != nil {
		return err
	}
	for c, rules := range f.chains {
		for _, r := range rules {
			if strings.HasSuffix(r, "-j "+chain) {
				return fmt.Errorf("chain %s still referenced from %s", chain, c)
			}
		}
	}
	delete(f.chains, chain)
	f.order = slices.DeleteFunc(f.order, func(s string) bool { return s == chain })
	return nil
}

func (f *fakeTable) RenameChain(_, from, to string) error {
	if err := f.check("-E " + from + " " + to); err != nil {
		return err
	}
	f.chains[to] = f.chains[from]
	delete(f.chains, from)
	for c, rules := range f.chains {
		for i, r := range rules {
			if strings.HasSuffix(r, "-j "+from) {
				f.chains[c][i] = strings.TrimSuffix(r, from) + to
			}
		}
	}
	return nil
}

// dump renders the table as iptables-save would list it (chains sorted).
func (f *fakeTable) dump() string {
	names := make([]string, 0, len(f.chains))
	for c := range f.chains {
		names = append(names, c)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, c := range names {
		for _, r := range f.chains[c] {
			fmt.Fprintf(&b, "-A %s %s\n", c, r)
		}
	}
	return b.String()
}

func prefixes(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range s {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

func TestApplyFreshIdempotentRevert(t *testing.T) {
	ft := newFakeTable("-i lo -j ACCEPT", "-p tcp -m tcp --dport 22 -j ACCEPT")
	before := ft.dump()
	w := Want{Family: IPv4, Ranges: prefixes("173.245.48.0/20", "131.0.72.0/22"), Ports: []uint16{80, 443}}
	steps, err := Apply(ft, w)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range steps {
		got = append(got, s.String())
	}
	want := []string{
		"-t filter -N ORIGIN-AGENT-CF-NEW",
		"-t filter -A ORIGIN-AGENT-CF-NEW -s 173.245.48.0/20 -p tcp -m multiport --dports 80,443 -j ACCEPT",
		"-t filter -A ORIGIN-AGENT-CF-NEW -s 131.0.72.0/22 -p tcp -m multiport --dports 80,443 -j ACCEPT",
		"-t filter -I INPUT 1 -p tcp -m multiport --dports 80,443 -j ORIGIN-AGENT-CF-NEW",
		"-t filter -E ORIGIN-AGENT-CF-NEW ORIGIN-AGENT-CF",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantDump := `-A INPUT -p tcp -m multiport --dports 80,443 -j ORIGIN-AGENT-CF
-A INPUT -i lo -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A ORIGIN-AGENT-CF -s 173.245.48.0/20 -p tcp -m multiport --dports 80,443 -j ACCEPT
-A ORIGIN-AGENT-CF -s 131.0.72.0/22 -p tcp -m multiport --dports 80,443 -j ACCEPT
`
	if d := ft.dump(); d != wantDump {
		t.Fatalf("after apply:\n%s", d)
	}
	again, err := Apply(ft, w)
	if err != nil || len(again) != 0 {
		t.Fatalf("second apply ran %v, %v", again, err)
	}
	if _, err := Revert(ft, IPv4); err != nil {
		t.Fatal(err)
	}
	if d := ft.dump(); d != before {
		t.Fatalf("after revert:\n%s\nwant:\n%s", d, before)
	}
	if steps, _ := Revert(ft, IPv4); len(steps) != 0 {
		t.Fatalf("second revert ran %v", steps)
	}
}

func TestApplyUpdatesRangesAndRestrict(t *testing.T) {
	ft := newFakeTable("-p tcp -m tcp --dport 22 -j ACCEPT")
	old := Want{Family: IPv4, Ranges: prefixes("104.16.0.0/12", "173.245.48.0/20"), Ports: []uint16{80, 443}}
	if _, err := Apply(ft, old); err != nil {
		t.Fatal(err)
	}
	// New list: the stale /12 became /13 + /14, and restrict is asked for.
	w := Want{Family: IPv4, Ranges: prefixes("173.245.48.0/20", "104.16.0.0/13", "104.24.0.0/14"), Ports: []uint16{80, 443}, Restrict: true}
	if _, err := Apply(ft, w); err != nil {
		t.Fatal(err)
	}
	wantDump := `-A INPUT -p tcp -m multiport --dports 80,443 -j ORIGIN-AGENT-CF
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A ORIGIN-AGENT-CF -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A ORIGIN-AGENT-CF -s 173.245.48.0/20 -p tcp -m multiport --dports 80,443 -j ACCEPT
-A ORIGIN-AGENT-CF -s 104.16.0.0/13 -p tcp -m multiport --dports 80,443 -j ACCEPT
-A ORIGIN-AGENT-CF -s 104.24.0.0/14 -p tcp -m multiport --dports 80,443 -j ACCEPT
-A ORIGIN-AGENT-CF ! -i lo -p tcp -m multiport --dports 80,443 -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j DROP
`
	if d := ft.dump(); d != wantDump {
		t.Fatalf("after update:\n%s", d)
	}
	// The atomic switch: the jump to the complete new chain comes before the
	// old jump is removed.
	iIns, iDel := slices.Index(ft.log, "-I INPUT 1 -p tcp -m multiport --dports 80,443 -j ORIGIN-AGENT-CF-NEW"), slices.Index(ft.log, "-D INPUT 2")
	if iIns < 0 || iDel < iIns {
		t.Fatalf("switch order wrong: %q", ft.log)
	}
}

func TestPlanRepairsJump(t *testing.T) {
	w := Want{Family: IPv6, Ranges: prefixes("2400:cb00::/32"), Ports: []uint16{443}}
	own := []string{"-N ORIGIN-AGENT-CF", "-A ORIGIN-AGENT-CF -s 2400:cb00::/32 -p tcp -m multiport --dports 443 -j ACCEPT"}
	tests := []struct {
		name  string
		input []string
		want  []string
	}{
		{"in place", []string{"-P INPUT ACCEPT", "-A INPUT -p tcp -m multiport --dports 443 -j ORIGIN-AGENT-CF", "-A INPUT -j ufw-before-input"}, nil},
		{"pushed down by ufw", []string{"-P INPUT ACCEPT", "-A INPUT -j ufw-before-input", "-A INPUT -p tcp -m multiport --dports 443 -j ORIGIN-AGENT-CF"},
			[]string{"-t filter -I INPUT 1 -p tcp -m multiport --dports 443 -j ORIGIN-AGENT-CF", "-t filter -D INPUT 3"}},
		{"missing", []string{"-P INPUT ACCEPT", "-A INPUT -j ufw-before-input"},
			[]string{"-t filter -I INPUT 1 -p tcp -m multiport --dports 443 -j ORIGIN-AGENT-CF"}},
		{"old ports", []string{"-P INPUT ACCEPT", "-A INPUT -p tcp -m multiport --dports 80,443 -j ORIGIN-AGENT-CF"},
			[]string{"-t filter -I INPUT 1 -p tcp -m multiport --dports 443 -j ORIGIN-AGENT-CF", "-t filter -D INPUT 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, s := range Plan(State{Input: tt.input, Own: own}, w) {
				got = append(got, s.String())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestApplyLeftoverNewChainAndFailure(t *testing.T) {
	// A previous run died after building -NEW and jumping to it.
	ft := newFakeTable("-p tcp -m multiport --dports 80,443 -j ORIGIN-AGENT-CF-NEW", "-i lo -j ACCEPT")
	ft.chains["ORIGIN-AGENT-CF-NEW"] = []string{"-s 173.245.48.0/20 -p tcp -m multiport --dports 80,443 -j ACCEPT"}
	w := Want{Family: IPv4, Ranges: prefixes("173.245.48.0/20"), Ports: []uint16{80, 443}}
	if _, err := Apply(ft, w); err != nil {
		t.Fatal(err)
	}
	want := `-A INPUT -p tcp -m multiport --dports 80,443 -j ORIGIN-AGENT-CF
-A INPUT -i lo -j ACCEPT
-A ORIGIN-AGENT-CF -s 173.245.48.0/20 -p tcp -m multiport --dports 80,443 -j ACCEPT
`
	if d := ft.dump(); d != want {
		t.Fatalf("got:\n%s", d)
	}

	ft = newFakeTable("-i lo -j ACCEPT")
	ft.fail = "-I INPUT"
	steps, err := Apply(ft, w)
	if err == nil || !strings.Contains(err.Error(), "ipv4") || len(steps) != 2 {
		t.Fatalf("failure not reported: %v after %d steps", err, len(steps))
	}
	if ft.chains["INPUT"][0] != "-i lo -j ACCEPT" {
		t.Fatalf("INPUT changed by a failed apply: %q", ft.chains["INPUT"])
	}
}

func TestWantValidate(t *testing.T) {
	tests := []struct {
		name string
		w    Want
		ok   bool
	}{
		{"good", Want{Family: IPv4, Ranges: prefixes("173.245.48.0/20"), Ports: []uint16{80}}, true},
		{"no ranges", Want{Family: IPv4, Ports: []uint16{80}}, false},
		{"no ports", Want{Family: IPv4, Ranges: prefixes("173.245.48.0/20")}, false},
		{"wrong family", Want{Family: IPv6, Ranges: prefixes("173.245.48.0/20"), Ports: []uint16{80}}, false},
		{"16 ports", Want{Family: IPv4, Ranges: prefixes("173.245.48.0/20"), Ports: make([]uint16, 16)}, false},
	}
	for _, tt := range tests {
		if err := tt.w.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}
