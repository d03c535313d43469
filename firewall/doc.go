// Package firewall knows Cloudflare's published address ranges and answers
// one question about the host firewall: would a new TCP connection from each
// Cloudflare range to port 80/443 be accepted?
//
// It has three parts:
//
//   - ranges: the embedded fallback lists, validation of fetched lists,
//     Update (HTTP), and Save/Load in the state directory;
//   - a rule model for iptables (iptables-save / iptables -S), ipset and
//     native nftables (nft -j list ruleset) with a sound evaluator: a range
//     is reported Accept only when every rule on its path was understood;
//     anything else is Unknown, with the rule that made it so;
//   - a Lister seam that reads the live firewall (go-iptables, nft) so the
//     rest is tested on captured text without root.
//
// The package imports nothing of the project.
package firewall
