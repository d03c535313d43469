package checks

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/origin-agent/origin-agent/agent/correlate"
)

// ExpiryWarning is how close to NotAfter a certificate gets a warning.
const ExpiryWarning = 14 * 24 * time.Hour

// TLSDialer opens a TLS connection to the origin with SNI serverName ("" for
// none) and returns the handshake state. Verification is off: the check
// judges the certificate itself.
type TLSDialer func(ctx context.Context, serverName string) (tls.ConnectionState, error)

// DialTLS returns a TLSDialer for addr ("127.0.0.1:443") with a timeout per
// connection.
func DialTLS(addr string, timeout time.Duration) TLSDialer {
	return func(ctx context.Context, serverName string) (tls.ConnectionState, error) {
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout},
			Config: &tls.Config{ServerName: serverName, InsecureSkipVerify: true}} //nolint:gosec // the check inspects the certificate itself
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return tls.ConnectionState{}, err
		}
		defer conn.Close()
		return conn.(*tls.Conn).ConnectionState(), nil
	}
}

// certFinding is what is wrong with the certificate one server name got.
type certFinding struct {
	Name     string   `json:"server_name"`
	Subject  string   `json:"subject,omitempty"`
	Issuer   string   `json:"issuer,omitempty"`
	NotAfter string   `json:"not_after,omitempty"`
	DNSNames []string `json:"dns_names,omitempty"`
	Problems []string `json:"problems,omitempty"`
	Error    string   `json:"error,omitempty"`
	status   Status
	plain    bool // the server answered the ClientHello in plain text
}

func allPlain(rs []certFinding) bool {
	for _, r := range rs {
		if !r.plain {
			return false
		}
	}
	return len(rs) > 0
}

// TLSCheck connects with every name of names (SNI) and once without, and
// judges the certificate the origin presents, as Cloudflare's SSL modes
// would: a failed handshake is 525 in Full and Full (strict) (fail); an expired
// certificate fails; a self-signed or otherwise untrusted one, or one whose
// names do not match, is 526 in Full (strict) only (warn); one expiring
// within 14 days warns. Cloudflare Origin CA certificates count as trusted.
// roots nil means the system pool. It skips when nothing listens (refused).
func TLSCheck(ctx context.Context, port uint16, dial TLSDialer, names []string, now time.Time, roots *x509.CertPool) Check {
	c := newCheck("tls.certificate")
	var results []certFinding
	worst := Pass
	for _, name := range append(append([]string{}, names...), "") {
		r := judgeCert(ctx, dial, name, now, roots)
		if r.Error != "" && isRefused(r.Error) {
			return Skipped(c.ID, fmt.Sprintf("nothing accepts connections on port %d, so no certificate to check", port))
		}
		results = append(results, r)
		worst = worse(worst, r.status)
	}
	if port != 443 && allPlain(results) {
		// A port other than 443 that answers a ClientHello in plain text
		// is an HTTP port (the audit guessed it from --ports), not a
		// broken certificate.
		return Skipped(c.ID, fmt.Sprintf("port %d answers in plain text, not TLS: no certificate to check", port))
	}
	c.Status = worst
	c.Details["port"] = port
	c.Details["certificates"] = results
	var bad []string
	for _, r := range results {
		label := r.Name
		if label == "" {
			label = "(no SNI)"
		}
		if r.Error != "" {
			bad = append(bad, label+": "+r.Error)
		}
		for _, p := range r.Problems {
			bad = append(bad, label+": "+p)
		}
	}
	switch worst {
	case Pass:
		c.Summary = fmt.Sprintf("certificate on port %d is valid for %d name(s), expires %s", port, len(names), results[0].NotAfter)
	case Fail:
		c.Cause = correlate.CauseTLSInvalid
		c.Summary = fmt.Sprintf("port %d: %s (Cloudflare: 525 when the handshake fails, 526 in Full (strict))", port, strings.Join(bad, "; "))
	default:
		c.Summary = fmt.Sprintf("port %d: %s (Cloudflare Full (strict) answers 526; Full accepts it)", port, strings.Join(bad, "; "))
	}
	if worst != Pass {
		c.Fix = []string{
			"certbot certonly --nginx -d NAME   # a publicly trusted certificate, or:",
			"# a Cloudflare Origin CA certificate (dashboard: SSL/TLS > Origin Server), installed as ssl_certificate / SSLCertificateFile",
			"nginx -t && systemctl reload nginx",
		}
	}
	return c
}

func judgeCert(ctx context.Context, dial TLSDialer, name string, now time.Time, roots *x509.CertPool) certFinding {
	r := certFinding{Name: name, status: Pass}
	st, err := dial(ctx, name)
	if err != nil {
		var rh tls.RecordHeaderError
		r.plain = errors.As(err, &rh)
		r.Error = "TLS handshake failed: " + err.Error()
		r.status = Fail
		return r
	}
	if len(st.PeerCertificates) == 0 {
		r.Error = "no certificate presented"
		r.status = Fail
		return r
	}
	leaf := st.PeerCertificates[0]
	r.Subject, r.Issuer = leaf.Subject.String(), leaf.Issuer.String()
	r.NotAfter = leaf.NotAfter.UTC().Format(time.RFC3339)
	r.DNSNames = leaf.DNSNames
	add := func(s Status, p string) {
		r.Problems = append(r.Problems, p)
		r.status = worse(r.status, s)
	}
	switch {
	case now.After(leaf.NotAfter):
		add(Fail, "expired on "+r.NotAfter)
	case now.Before(leaf.NotBefore):
		add(Fail, "not valid before "+leaf.NotBefore.UTC().Format(time.RFC3339))
	case leaf.NotAfter.Sub(now) < ExpiryWarning:
		add(Warn, fmt.Sprintf("expires in %d days (%s)", int(leaf.NotAfter.Sub(now).Hours()/24), r.NotAfter))
	}
	if name != "" {
		if err := leaf.VerifyHostname(name); err != nil {
			add(Warn, "does not cover "+name)
		}
	}
	if !isOriginCA(leaf) {
		inter := x509.NewCertPool()
		for _, c := range st.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: leaf.NotBefore.Add(time.Second)}); err != nil {
			if leaf.Subject.String() == leaf.Issuer.String() {
				add(Warn, "self-signed")
			} else {
				add(Warn, "not issued by a trusted CA ("+r.Issuer+")")
			}
		}
	}
	return r
}

// isOriginCA reports a certificate issued by Cloudflare's Origin CA, which
// Full (strict) trusts although no browser does.
func isOriginCA(c *x509.Certificate) bool {
	for _, ou := range append(append([]string{}, c.Issuer.OrganizationalUnit...), c.Issuer.CommonName) {
		if strings.HasPrefix(strings.ToLower(ou), "cloudflare origin ssl") {
			return true
		}
	}
	return false
}

func isRefused(msg string) bool {
	return strings.Contains(msg, syscall.ECONNREFUSED.Error())
}

func worse(a, b Status) Status {
	rank := map[Status]int{Pass: 0, Skip: 0, Warn: 1, Fail: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}
