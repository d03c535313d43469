package audit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/origin-agent/origin-agent/firewall"
)

// ErrRefused is wrapped when --restrict would cut the SSH session or the
// user did not confirm it.
var ErrRefused = errors.New("refused")

// ApplyOptions drive --apply and --revert.
type ApplyOptions struct {
	Ranges   firewall.Ranges
	Ports    []uint16
	Restrict bool
	Yes      bool      // --yes: do not ask before --restrict
	In       io.Reader // where the confirmation is read
	Out      io.Writer // what was done
	// SSHConnection is $SSH_CONNECTION ("client_ip client_port server_ip
	// server_port"); its server port must not be among Ports with Restrict.
	// It is only a first guard (sudo drops it): the kernel decides, see
	// ReadExposure.
	SSHConnection string
	// Proc is where /proc is (tests); default "/proc". PID is the process
	// whose session must survive; default this one.
	Proc string
	PID  int
	// IPTables opens the go-iptables handle of a family (with a lock timeout).
	IPTables func(fam firewall.Family) (firewall.IPTables, error)
	// Families to change; nil means both.
	Families []firewall.Family
}

func (o ApplyOptions) families() []firewall.Family {
	if o.Families == nil {
		return []firewall.Family{firewall.IPv4, firewall.IPv6}
	}
	return o.Families
}

// CheckSSH refuses a --restrict that drops the port the current SSH session
// arrived on.
func CheckSSH(sshConnection string, ports []uint16) error {
	f := strings.Fields(sshConnection)
	if len(f) != 4 {
		return nil
	}
	p, err := strconv.ParseUint(f[3], 10, 16)
	if err != nil {
		return nil
	}
	if slices.Contains(ports, uint16(p)) {
		return fmt.Errorf("%w: --restrict would drop port %d, the port of this SSH session (SSH_CONNECTION=%q)", ErrRefused, p, sshConnection)
	}
	return nil
}

// Apply creates or updates the ORIGIN-AGENT-CF chain and its jump in each
// family (see firewall/apply.go for the scheme). With Restrict it first checks
// the SSH port and asks for confirmation unless Yes.
func Apply(o ApplyOptions) error {
	if o.Restrict {
		if err := CheckSSH(o.SSHConnection, o.Ports); err != nil {
			return err
		}
		proc, pid := o.Proc, o.PID
		if proc == "" {
			proc = "/proc"
		}
		if pid == 0 {
			pid = os.Getpid()
		}
		exp, err := ReadExposure(proc, pid, o.Ports)
		if err != nil {
			return fmt.Errorf("%w: %w; --restrict needs to see every process's sockets (run it as root, in the host's PID namespace)", ErrRefused, err)
		}
		if err := exp.Refusal(); err != nil {
			return err
		}
		if !o.Yes {
			fmt.Fprintf(o.Out, "--restrict drops new connections to ports %s from every source outside Cloudflare's ranges (loopback excepted; connections already open stay). Continue? [y/N] ", firewall.PortList(o.Ports))
			line, _ := bufio.NewReader(o.In).ReadString('\n')
			if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
				return fmt.Errorf("%w: --restrict not confirmed (answer y, or pass --yes)", ErrRefused)
			}
		}
	}
	var errs []error
	for _, fam := range o.families() {
		ranges := o.Ranges.V4
		if fam == firewall.IPv6 {
			ranges = o.Ranges.V6
		}
		ipt, err := o.IPTables(fam)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", fam, err))
			continue
		}
		steps, err := firewall.Apply(ipt, firewall.Want{Family: fam, Ranges: ranges, Ports: o.Ports, Restrict: o.Restrict})
		report(o.Out, fam, steps)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(steps) == 0 {
			fmt.Fprintf(o.Out, "%s: %s already up to date (%d ranges, ports %s)\n", fam, firewall.OwnChain, len(ranges), firewall.PortList(o.Ports))
		}
	}
	return errors.Join(errs...)
}

// Revert removes the chain and jump Apply added, in each family.
func Revert(o ApplyOptions) error {
	var errs []error
	for _, fam := range o.families() {
		ipt, err := o.IPTables(fam)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", fam, err))
			continue
		}
		steps, err := firewall.Revert(ipt, fam)
		report(o.Out, fam, steps)
		if err != nil {
			errs = append(errs, err)
		} else if len(steps) == 0 {
			fmt.Fprintf(o.Out, "%s: nothing of origin-agent's in the firewall\n", fam)
		}
	}
	return errors.Join(errs...)
}

func report(w io.Writer, fam firewall.Family, steps []firewall.Step) {
	bin := "iptables"
	if fam == firewall.IPv6 {
		bin = "ip6tables"
	}
	for _, s := range steps {
		fmt.Fprintf(w, "%s %s\n", bin, s)
	}
}

// SurvivalNote says what of --apply survives the frontends' reloads and
// reboots.
func SurvivalNote(frontends []firewall.Frontend) []string {
	var out []string
	if slices.Contains(frontends, firewall.FrontendUFW) {
		out = append(out, "ufw: with MANAGE_BUILTINS=no (the default in /etc/default/ufw) the chain and its INPUT jump survive 'ufw reload', 'ufw disable' and 'ufw enable'; with MANAGE_BUILTINS=yes ufw flushes INPUT and the jump is lost (run --apply again).")
	}
	if slices.Contains(frontends, firewall.FrontendFirewalld) {
		out = append(out, "firewalld: with the iptables backend 'firewall-cmd --reload' flushes every chain and removes ours; with the nftables backend firewalld's own table still filters after ours, so an ACCEPT here does not open a port firewalld closes. Prefer the firewall-cmd commands of --fix.")
	}
	out = append(out, "Not persistent across reboots: save with 'netfilter-persistent save' (or iptables-save > /etc/iptables/rules.v4 and ip6tables-save > /etc/iptables/rules.v6), or run 'origin-agent audit --apply' at boot.")
	return out
}
