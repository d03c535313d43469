// Package firewall knows Cloudflare's published address ranges, answers
// one question about the host firewall — would a new TCP connection from
// each Cloudflare range to port 80/443 be accepted? — and makes the answer
// yes with a chain of its own.
//
// Its parts, by file:
//
//   - ranges.go, update.go, store.go: the embedded fallback lists
//     (ips-v4.txt, ips-v6.txt), validation of fetched lists, Update (HTTP),
//     and Save/Load in the state directory;
//   - rules.go, iptables.go, ipset.go, nft.go: a rule model for iptables
//     (iptables-save / iptables -S), ipset and native nftables
//     (nft -j list ruleset);
//   - eval.go, match.go, prefixset.go: a sound evaluator over that model: a
//     range is reported Accept only when every rule on its path was
//     understood; anything else is Unknown, with the rule that made it so;
//   - bans.go: rules and sets (fail2ban, CrowdSec, by hand) that drop some
//     of Cloudflare's addresses while the rest get in;
//   - lister.go, detect.go: the Lister seam that reads the live firewall
//     (go-iptables, ipset, nft), so the rest is tested on captured text
//     without root, and Read/Detect (backend, ufw, firewalld, docker,
//     fail2ban, the own chain);
//   - apply.go: what `audit --apply` and `--revert` do: Plan and Apply keep
//     the chain ORIGIN-AGENT-CF and its one jump from INPUT, idempotent and
//     atomic per family; Revert removes exactly those.
//
// Of the project it imports only internal/stateown, so that a saved list
// stays the state directory owner's when root writes it.
package firewall
