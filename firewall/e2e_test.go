package firewall

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

// TestSystemListerNamespace loads a ruleset with iptables-restore into a
// network namespace made for the test, reads it back through the
// go-iptables-backed SystemLister (via wrapper scripts that run iptables in
// the namespace), and evaluates it.
func TestSystemListerNamespace(t *testing.T) {
	testenv.Require(t, testenv.Root(), testenv.Command("ip", "iproute2"), testenv.Command("iptables", "iptables"),
		testenv.Command("ip6tables", "iptables"), testenv.Command("iptables-restore", "iptables"), testenv.Command("ipset", "ipset"))
	ns := fmt.Sprintf("oa-fw-%d", os.Getpid())
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	run("ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })

	rules := filepath.Join(t.TempDir(), "rules")
	os.WriteFile(rules, []byte(`*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:CF - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m multiport --dports 80,443 -j CF
-A INPUT -p tcp -m tcp --dport 80 -m set --match-set web src -j ACCEPT
-A CF -s 173.245.48.0/21 -m comment --comment "half of 173.245.48.0/20" -j ACCEPT
-A CF -s 131.0.72.0/22 -m limit --limit 10/sec -j ACCEPT
COMMIT
`), 0o644)
	run("ip", "netns", "exec", ns, "ipset", "create", "web", "hash:net", "family", "inet")
	run("ip", "netns", "exec", ns, "ipset", "add", "web", "162.158.0.0/15")
	run("sh", "-c", "ip netns exec "+ns+" iptables-restore < "+rules)

	dir := t.TempDir()
	wrapper := func(tool string) string {
		p := filepath.Join(dir, tool)
		os.WriteFile(p, []byte("#!/bin/sh\nexec ip netns exec "+ns+" "+tool+" \"$@\"\n"), 0o755)
		return p
	}
	l := &SystemLister{
		IPTablesPath:  wrapper("iptables"),
		IP6TablesPath: wrapper("ip6tables"),
		Exec: func(ctx context.Context, name string, args ...string) ([]byte, error) {
			return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, name}, args...)...).Output()
		},
	}
	fw, err := Read(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	if fw.V4 == nil || fw.V6 == nil || fw.Backend == "" {
		t.Fatalf("read %+v", fw)
	}
	if fw.V4.Chains["CF"] == nil || len(fw.V4.Chains["CF"].Rules) != 2 || fw.V4.Chains["INPUT"].Policy.Kind != TargetDrop {
		t.Fatalf("CF chain not read back: %+v", fw.V4.Chains)
	}
	q := Query{DPort: 443, Sources: []netip.Prefix{
		netip.MustParsePrefix("173.245.48.0/20"), netip.MustParsePrefix("131.0.72.0/22"), netip.MustParsePrefix("141.101.64.0/18"),
	}}
	var got []string
	for _, v := range Evaluate(fw.V4, q).Ranges {
		got = append(got, short(v))
	}
	want := []string{"173.245.48.0/21 accepted CF#01", "173.245.56.0/21 dropped INPUT", "131.0.72.0/22 unknown CF#02", "141.101.64.0/18 dropped INPUT"}
	if !slices.Equal(got, want) {
		t.Errorf("port 443:\n got  %q\n want %q", got, want)
	}
	q.DPort, q.Sources = 80, []netip.Prefix{netip.MustParsePrefix("162.158.0.0/15")}
	if got := Evaluate(fw.V4, q).Lines(); len(got) != 1 || !strings.HasPrefix(got[0], "162.158.0.0/15: accepted by INPUT rule 4") {
		t.Errorf("ipset from the namespace: %q", got)
	}
	// IPv6 in the fresh namespace: everything accepted by policy.
	q.Sources = []netip.Prefix{netip.MustParsePrefix("2400:cb00::/32")}
	if got := Evaluate(fw.V6, q).Lines(); !slices.Equal(got, []string{"2400:cb00::/32: accepted by INPUT policy"}) {
		t.Errorf("v6: %q", got)
	}
}
