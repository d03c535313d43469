package firewall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/coreos/go-iptables/iptables"
)

// Lister reads the live firewall. Every method returns the text the tool
// prints, so the parsing is tested on captured output; implementations only
// run commands. A method returns an error wrapping ErrNotInstalled when its
// tool is missing; callers treat that as "not present", not as a failure.
type Lister interface {
	// Rules returns the filter table of fam in `iptables -S` form.
	Rules(ctx context.Context, fam Family) ([]byte, error)
	// Version returns `iptables -V`, e.g. "iptables v1.8.9 (nf_tables)".
	Version(ctx context.Context) (string, error)
	// IPSets returns `ipset save`.
	IPSets(ctx context.Context) ([]byte, error)
	// Nft returns `nft -j list ruleset`.
	Nft(ctx context.Context) ([]byte, error)
}

// ErrNotInstalled is wrapped when a firewall tool is not installed.
var ErrNotInstalled = errors.New("not installed")

// SystemLister reads the host's firewall: iptables through go-iptables (with
// a lock timeout, so a held xtables lock gives an error instead of a hang),
// ipset and nft through exec.
type SystemLister struct {
	// IPTablesPath and IP6TablesPath override the binaries (e.g. a wrapper
	// that runs them in a network namespace); "" finds iptables/ip6tables.
	IPTablesPath, IP6TablesPath string
	// Exec runs ipset and nft; nil runs them directly. Tests set a wrapper.
	Exec func(ctx context.Context, name string, args ...string) ([]byte, error)
	// LockTimeout is passed as iptables --wait seconds; 0 means 5.
	LockTimeout int
}

var _ Lister = (*SystemLister)(nil)

func (s *SystemLister) ipt(fam Family) (*iptables.IPTables, error) {
	timeout := s.LockTimeout
	if timeout == 0 {
		timeout = 5
	}
	path, proto, name := s.IPTablesPath, iptables.ProtocolIPv4, "iptables"
	if fam == IPv6 {
		path, proto, name = s.IP6TablesPath, iptables.ProtocolIPv6, "ip6tables"
	}
	var ipt *iptables.IPTables
	var err error
	if path != "" {
		ipt, err = iptables.New(iptables.IPFamily(proto), iptables.Timeout(timeout), iptables.Path(path))
	} else {
		ipt, err = iptables.New(iptables.IPFamily(proto), iptables.Timeout(timeout))
	}
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("%s: %w", name, ErrNotInstalled)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ipt, nil
}

// Rules lists the filter table chain by chain (iptables -t filter -S CHAIN).
// go-iptables' ListChains stops at iptables-nft's legacy-tables warning, so
// chains are also discovered by following jumps from the built-in chains.
func (s *SystemLister) Rules(ctx context.Context, fam Family) ([]byte, error) {
	ipt, err := s.ipt(fam)
	if err != nil {
		return nil, err
	}
	chains, err := ipt.ListChains("filter")
	if err != nil {
		return nil, fmt.Errorf("list %s filter chains: %w", fam, lockHint(err))
	}
	queue := append([]string{"INPUT", "FORWARD", "OUTPUT"}, chains...)
	seen := map[string]bool{}
	var out bytes.Buffer
	var warned bool
	for len(queue) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := queue[0]
		queue = queue[1:]
		if seen[c] {
			continue
		}
		seen[c] = true
		lines, err := ipt.List("filter", c)
		if err != nil {
			return nil, fmt.Errorf("list %s filter chain %s: %w", fam, c, lockHint(err))
		}
		for _, l := range lines {
			if strings.HasPrefix(l, "#") {
				if !warned {
					out.WriteString(l + "\n")
					warned = true
				}
				continue
			}
			out.WriteString(l + "\n")
			if t := jumpTarget(l); t != "" && !seen[t] {
				queue = append(queue, t)
			}
		}
	}
	return out.Bytes(), nil
}

// jumpTarget returns the user chain a -j/-g of an -S line names, or "".
func jumpTarget(line string) string {
	f := strings.Fields(line)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "-j" || f[i] == "-g" || f[i] == "--jump" || f[i] == "--goto" {
			if t := f[i+1]; targetKind(Target{Name: t}, nil) == TargetUnknown {
				return t
			}
		}
	}
	return ""
}

func lockHint(err error) error {
	if strings.Contains(err.Error(), "xtables lock") || strings.Contains(err.Error(), "Another app is currently holding") {
		return fmt.Errorf("%w (another program holds the xtables lock; retry later)", err)
	}
	return err
}

// Version runs iptables -V.
func (s *SystemLister) Version(ctx context.Context) (string, error) {
	path := s.IPTablesPath
	if path == "" {
		path = "iptables"
	}
	out, err := s.run(ctx, path, "-V")
	return strings.TrimSpace(string(out)), err
}

// IPSets runs ipset save.
func (s *SystemLister) IPSets(ctx context.Context) ([]byte, error) {
	return s.run(ctx, "ipset", "save")
}

// Nft runs nft -j list ruleset.
func (s *SystemLister) Nft(ctx context.Context) ([]byte, error) {
	return s.run(ctx, "nft", "-j", "list", "ruleset")
}

func (s *SystemLister) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	if s.Exec != nil {
		return s.Exec(ctx, name, args...)
	}
	if _, err := exec.LookPath(name); err != nil {
		return nil, fmt.Errorf("%s: %w", name, ErrNotInstalled)
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
