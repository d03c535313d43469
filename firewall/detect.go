package firewall

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Frontend names a tool that manages the firewall.
type Frontend string

// Frontends Detect recognises.
const (
	FrontendUFW       Frontend = "ufw"
	FrontendFirewalld Frontend = "firewalld"
	FrontendDocker    Frontend = "docker"
	FrontendFail2ban  Frontend = "fail2ban"
	FrontendOwn       Frontend = "origin-agent" // our ORIGIN-AGENT-CF chain exists
)

// OwnChain is the chain a later --apply manages; Detect reports it.
const OwnChain = "ORIGIN-AGENT-CF"

// Firewall is everything read from the host.
type Firewall struct {
	V4, V6    *Ruleset    // nil when that family could not be read
	Nft       *NftRuleset // nil when nft is missing or failed
	Backend   string      // "nf_tables" or "legacy" from iptables -V; "" unknown
	Frontends []Frontend  // in a fixed order, no duplicates
	Warnings  []string    // legacy-tables warning, partial reads
	Errors    []error     // what could not be read (the rest is still usable)
}

// Read reads both families, ipsets and nftables through l. It fails only
// when nothing at all could be read; partial failures are in Errors.
func Read(ctx context.Context, l Lister) (*Firewall, error) {
	fw := &Firewall{}
	if v, err := l.Version(ctx); err == nil {
		fw.Backend = Backend(v)
	} else {
		fw.Errors = append(fw.Errors, err)
	}
	var sets map[string]*IPSet
	if data, err := l.IPSets(ctx); err == nil {
		if sets, err = ParseIPSetSave(data); err != nil {
			fw.Errors = append(fw.Errors, err)
		}
	} else if !errors.Is(err, ErrNotInstalled) {
		fw.Errors = append(fw.Errors, fmt.Errorf("ipset: %w", err))
	} else {
		sets = map[string]*IPSet{} // no ipset tool: no sets can exist
	}
	for _, fam := range []Family{IPv4, IPv6} {
		data, err := l.Rules(ctx, fam)
		if err != nil {
			fw.Errors = append(fw.Errors, err)
			continue
		}
		rs, err := ParseIptables(data, fam)
		if err != nil {
			fw.Errors = append(fw.Errors, fmt.Errorf("%s: %w", fam, err))
			continue
		}
		rs.Sets = sets
		fw.Warnings = appendNew(fw.Warnings, rs.Warnings...)
		if fam == IPv4 {
			fw.V4 = rs
		} else {
			fw.V6 = rs
		}
	}
	if data, err := l.Nft(ctx); err == nil {
		if fw.Nft, err = ParseNft(data); err != nil {
			fw.Errors = append(fw.Errors, err)
		}
	} else if !errors.Is(err, ErrNotInstalled) {
		fw.Errors = append(fw.Errors, fmt.Errorf("nft: %w", err))
	}
	if fw.V4 == nil && fw.V6 == nil && fw.Nft == nil {
		return fw, fmt.Errorf("read firewall: %w", errors.Join(fw.Errors...))
	}
	fw.Frontends = Detect(fw.Nft, fw.V4, fw.V6)
	return fw, nil
}

// Backend returns "nf_tables" or "legacy" from `iptables -V` output
// ("iptables v1.8.9 (nf_tables)"); before 1.8 there was only legacy.
func Backend(version string) string {
	switch {
	case strings.Contains(version, "(nf_tables)"):
		return "nf_tables"
	case strings.Contains(version, "(legacy)"), strings.HasPrefix(version, "iptables v1."):
		return "legacy"
	}
	return ""
}

// Detect names the frontends whose chains or tables are present: ufw
// (ufw-* chains), firewalld (INPUT_direct, IN_* chains or nft table
// "inet firewalld"), docker (DOCKER, DOCKER-USER), fail2ban (f2b-*), and our
// own chain.
func Detect(nft *NftRuleset, sets ...*Ruleset) []Frontend {
	found := map[Frontend]bool{}
	for _, rs := range sets {
		if rs == nil {
			continue
		}
		for _, name := range rs.Order {
			switch {
			case strings.HasPrefix(name, "ufw-") || strings.HasPrefix(name, "ufw6-"):
				found[FrontendUFW] = true
			case name == "INPUT_direct" || strings.HasPrefix(name, "IN_"):
				found[FrontendFirewalld] = true
			case name == "DOCKER" || name == "DOCKER-USER":
				found[FrontendDocker] = true
			case strings.HasPrefix(name, "f2b-"):
				found[FrontendFail2ban] = true
			case name == OwnChain:
				found[FrontendOwn] = true
			}
		}
	}
	if nft != nil && nft.HasTable("inet", "firewalld") {
		found[FrontendFirewalld] = true
	}
	var out []Frontend
	for _, f := range []Frontend{FrontendUFW, FrontendFirewalld, FrontendDocker, FrontendFail2ban, FrontendOwn} {
		if found[f] {
			out = append(out, f)
		}
	}
	return out
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		dup := false
		for _, l := range list {
			dup = dup || l == it
		}
		if !dup {
			list = append(list, it)
		}
	}
	return list
}
