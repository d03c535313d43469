package audit_test

// End-to-end test of `origin-agent audit` inside network namespaces made by
// the test (never the host's own tables): "edge" holds Cloudflare addresses,
// "outside" documentation addresses, "origin" runs real nginx on 80 and 443
// with a self-signed certificate and the audit binary.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/internal/testenv"
)

// labNeeds is what newLab and the lab's helpers need (namespaces, the
// legacy iptables, nginx with a self-signed certificate, the audit binary
// built with go), and more that a test uses itself.
func labNeeds(more ...testenv.Need) []testenv.Need {
	needs := []testenv.Need{testenv.Root(), testenv.Command("ip", "iproute2"), testenv.Command("nginx", "nginx"),
		testenv.Command("curl", "curl"), testenv.Command("openssl", "openssl"), testenv.Go()}
	for _, tool := range []string{"iptables", "ip6tables", "iptables-restore", "iptables-save", "ip6tables-save", "iptables-legacy", "ip6tables-legacy"} {
		needs = append(needs, testenv.Command(tool, "iptables"))
	}
	return append(needs, more...)
}

type lab struct {
	t                      *testing.T
	origin, edge, outside  string
	bin, dir, conf, legacy string
}

func (l *lab) sh(args ...string) string {
	l.t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (l *lab) in(ns string, args ...string) string {
	l.t.Helper()
	return l.sh(append([]string{"ip", "netns", "exec", ns}, args...)...)
}

// curl reports whether an HTTP(S) request from ns to url succeeds within 3 s.
func (l *lab) curl(ns, url string) bool {
	err := exec.Command("ip", "netns", "exec", ns, "curl", "-sk", "-o", "/dev/null", "--max-time", "3", url).Run()
	return err == nil
}

type auditDoc struct {
	Schema string `json:"schema"`
	Checks []struct {
		ID      string         `json:"id"`
		Status  string         `json:"status"`
		Summary string         `json:"summary"`
		Details map[string]any `json:"details"`
		Fix     []string       `json:"fix"`
	} `json:"checks"`
	Errors []string `json:"errors"`
}

func (d auditDoc) status(id string) string {
	for _, c := range d.Checks {
		if c.ID == id {
			return c.Status + ": " + c.Summary
		}
	}
	return "missing"
}

// audit runs the binary in the origin namespace with env prepended.
func (l *lab) audit(env []string, args ...string) (auditDoc, int, string) {
	l.t.Helper()
	cmdArgs := append([]string{"netns", "exec", l.origin, "env"}, env...)
	cmdArgs = append(cmdArgs, l.bin, "audit", "--format", "json", "--state-dir", l.dir, "--nginx-conf", l.conf,
		"--apache-conf", filepath.Join(l.dir, "no-apache.conf"))
	cmdArgs = append(cmdArgs, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", cmdArgs...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		l.t.Fatalf("audit %v: %v", args, err)
	}
	var doc auditDoc
	if code == 2 && stdout.Len() == 0 {
		return doc, code, stderr.String() // refused before auditing
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		l.t.Fatalf("audit %v: exit %d, bad JSON %v:\n%s\nstderr:\n%s", args, code, err, stdout.String(), stderr.String())
	}
	return doc, code, stderr.String()
}

var counters = regexp.MustCompile(`\[\d+:\d+\]`)

// save returns iptables-save and ip6tables-save of the filter table without
// comments and counters.
func (l *lab) save() string {
	l.t.Helper()
	var b strings.Builder
	for _, tool := range []string{"iptables-save", "ip6tables-save"} {
		for _, line := range strings.Split(l.in(l.origin, tool, "-t", "filter"), "\n") {
			if !strings.HasPrefix(line, "#") {
				b.WriteString(counters.ReplaceAllString(line, "") + "\n")
			}
		}
	}
	return b.String()
}

func newLab(t *testing.T) *lab {
	id := fmt.Sprintf("oa%d", os.Getpid()%100000)
	l := &lab{t: t, origin: id + "-origin", edge: id + "-edge", outside: id + "-outside", dir: t.TempDir()}
	for _, ns := range []string{l.origin, l.edge, l.outside} {
		l.sh("ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	}
	link := func(peer, a, b, peerV4, originV4, peerV6, originV6 string) {
		l.sh("ip", "link", "add", a, "netns", peer, "type", "veth", "peer", "name", b, "netns", l.origin)
		l.in(peer, "ip", "addr", "add", peerV4, "dev", a)
		l.in(peer, "ip", "addr", "add", peerV6, "dev", a, "nodad")
		l.in(peer, "ip", "link", "set", a, "up")
		l.in(l.origin, "ip", "addr", "add", originV4, "dev", b)
		l.in(l.origin, "ip", "addr", "add", originV6, "dev", b, "nodad")
		l.in(l.origin, "ip", "link", "set", b, "up")
	}
	link(l.edge, "cf0", "oe0", "173.245.48.10/20", "173.245.48.1/20", "2400:cb00::10/64", "2400:cb00::1/64")
	link(l.outside, "ox0", "ox1", "198.51.100.10/24", "198.51.100.1/24", "2001:db8::10/64", "2001:db8::1/64")
	l.in(l.origin, "ip", "link", "set", "lo", "up")

	l.sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=origin.test",
		"-keyout", filepath.Join(l.dir, "key.pem"), "-out", filepath.Join(l.dir, "cert.pem"))
	l.conf = filepath.Join(l.dir, "nginx.conf")
	os.WriteFile(l.conf, []byte(fmt.Sprintf(`pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events {}
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    server {
        listen 80;
        listen [::]:80;
        listen 443 ssl;
        listen [::]:443 ssl;
        server_name origin.test;
        ssl_certificate %[1]s/cert.pem;
        ssl_certificate_key %[1]s/key.pem;
        location / { return 200 "ok\n"; }
    }
    server {
        listen 127.0.0.1:8081;
        location / { return 200 "local\n"; }
    }
}
`, l.dir)), 0o644)
	nginx := exec.Command("ip", "netns", "exec", l.origin, "nginx", "-c", l.conf, "-p", l.dir, "-g", "daemon off;")
	// Its own process group, so that the workers are stopped with the
	// master: SIGKILL to the master alone leaves them running.
	nginx.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := nginx.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		nginx.Process.Signal(syscall.SIGTERM) // fast shutdown: the master stops its workers
		done := make(chan struct{})
		go func() { nginx.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-nginx.Process.Pid, syscall.SIGKILL)
			<-done
		}
		syscall.Kill(-nginx.Process.Pid, syscall.SIGKILL) // any worker left behind
	})
	for i := 0; ; i++ {
		if l.curl(l.origin, "http://127.0.0.1/") {
			break
		}
		if i == 50 {
			t.Fatalf("nginx did not start: %s", readFile(filepath.Join(l.dir, "error.log")))
		}
		time.Sleep(100 * time.Millisecond)
	}

	l.bin = filepath.Join(l.dir, "origin-agent")
	build := exec.Command("go", "build", "-o", l.bin, "github.com/origin-agent/origin-agent/cmd/origin-agent")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// iptables-legacy first in PATH: the nf_tables backend takes no xtables lock.
	l.legacy = filepath.Join(l.dir, "legacy")
	os.Mkdir(l.legacy, 0o755)
	for _, tool := range []string{"iptables", "ip6tables"} {
		p, err := exec.LookPath(tool + "-legacy")
		if err != nil {
			t.Fatalf("%s-legacy: %v", tool, err)
		}
		os.Symlink(p, filepath.Join(l.legacy, tool))
	}
	return l
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func TestAuditEndToEnd(t *testing.T) {
	testenv.Require(t, labNeeds(testenv.Command("flock", "util-linux"))...)
	l := newLab(t)
	path := "PATH=" + os.Getenv("PATH")

	t.Run("xtables lock held", func(t *testing.T) {
		l.t = t
		lock := filepath.Join(l.dir, "xtables.lock")
		holder := exec.Command("ip", "netns", "exec", l.origin, "flock", lock, "sleep", "30")
		if err := holder.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { holder.Process.Kill(); holder.Wait() }()
		time.Sleep(300 * time.Millisecond)
		start := time.Now()
		doc, code, _ := l.audit([]string{"PATH=" + l.legacy + ":" + os.Getenv("PATH"), "XTABLES_LOCKFILE=" + lock})
		if code != 2 || !strings.Contains(strings.Join(doc.Errors, " "), "xtables lock") {
			t.Errorf("exit %d, errors %q", code, doc.Errors)
		}
		if s := doc.status("firewall.cloudflare_allowed.ipv4"); !strings.HasPrefix(s, "skip: ") || !strings.Contains(s, "xtables lock") {
			t.Errorf("ipv4 check: %s", s)
		}
		t.Logf("lock held: audit returned after %s", time.Since(start).Round(time.Second))
	})

	t.Run("iptables missing", func(t *testing.T) {
		l.t = t
		empty := t.TempDir()
		doc, code, _ := l.audit([]string{"PATH=" + empty})
		for _, id := range []string{"firewall.cloudflare_allowed.ipv4", "firewall.cloudflare_allowed.ipv6", "firewall.origin_exposed"} {
			if s := doc.status(id); !strings.HasPrefix(s, "skip: ") || !strings.Contains(s, "not installed") {
				t.Errorf("%s: %s", id, s)
			}
		}
		if code != 0 {
			t.Errorf("exit %d, want 0 (listeners pass, TLS only warns)", code)
		}
		if s := doc.status("listener.443"); !strings.HasPrefix(s, "pass: nginx") {
			t.Errorf("listener.443: %s", s)
		}
		if s := doc.status("tls.certificate"); !strings.HasPrefix(s, "warn: ") || !strings.Contains(s, "self-signed") {
			t.Errorf("tls: %s", s)
		}
	})

	t.Run("listener on 127.0.0.1 only", func(t *testing.T) {
		l.t = t
		doc, code, _ := l.audit([]string{path}, "--ports", "8081")
		if s := doc.status("listener.8081"); !strings.HasPrefix(s, "fail: ") || !strings.Contains(s, "127.0.0.1:8081") {
			t.Errorf("listener.8081: %s", s)
		}
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
	})

	// The host's policy: DROP, with loopback, established, ICMPv6 and SSH.
	base := filepath.Join(l.dir, "base")
	os.WriteFile(base+".v4", []byte("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"+
		"-A INPUT -i lo -j ACCEPT\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"+
		"-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n"), 0o644)
	os.WriteFile(base+".v6", []byte("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"+
		"-A INPUT -i lo -j ACCEPT\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"+
		"-A INPUT -p ipv6-icmp -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n"), 0o644)
	l.t = t
	l.sh("sh", "-c", "ip netns exec "+l.origin+" iptables-restore < "+base+".v4")
	l.sh("sh", "-c", "ip netns exec "+l.origin+" ip6tables-restore < "+base+".v6")
	before := l.save()

	t.Run("policy DROP blocks Cloudflare", func(t *testing.T) {
		l.t = t
		doc, code, _ := l.audit([]string{path})
		for _, id := range []string{"firewall.cloudflare_allowed.ipv4", "firewall.cloudflare_allowed.ipv6"} {
			if s := doc.status(id); !strings.HasPrefix(s, "fail: ") {
				t.Errorf("%s: %s", id, s)
			}
		}
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		if l.curl(l.edge, "http://173.245.48.1/") {
			t.Error("curl from the edge succeeded through a DROP policy")
		}
	})

	t.Run("apply", func(t *testing.T) {
		l.t = t
		doc, _, _ := l.audit([]string{path}, "--apply")
		for _, id := range []string{"firewall.cloudflare_allowed.ipv4", "firewall.cloudflare_allowed.ipv6"} {
			if s := doc.status(id); !strings.HasPrefix(s, "pass: ") {
				t.Errorf("%s: %s", id, s)
			}
		}
		for _, url := range []string{"http://173.245.48.1/", "https://173.245.48.1/", "http://[2400:cb00::1]/", "https://[2400:cb00::1]/"} {
			if !l.curl(l.edge, url) {
				t.Errorf("curl %s from the edge failed after --apply", url)
			}
		}
		first := l.save()
		if _, _, stderr := l.audit([]string{path}, "--apply"); !strings.Contains(stderr, "already up to date") {
			t.Errorf("second --apply said: %s", stderr)
		}
		if again := l.save(); again != first {
			t.Errorf("second --apply changed the ruleset:\n%s\nwas:\n%s", again, first)
		}
		l.audit([]string{path}, "--revert")
		if after := l.save(); after != before {
			t.Errorf("--revert left:\n%s\nwant:\n%s", after, before)
		}
	})

	t.Run("restrict", func(t *testing.T) {
		l.t = t
		// The host also opened the web ports to everyone.
		l.in(l.origin, "iptables", "-A", "INPUT", "-p", "tcp", "-m", "multiport", "--dports", "80,443", "-j", "ACCEPT")
		l.in(l.origin, "ip6tables", "-A", "INPUT", "-p", "tcp", "-m", "multiport", "--dports", "80,443", "-j", "ACCEPT")
		open := l.save()
		doc, _, _ := l.audit([]string{path})
		if s := doc.status("firewall.origin_exposed"); !strings.HasPrefix(s, "warn: ") {
			t.Errorf("origin_exposed: %s", s)
		}
		if !l.curl(l.outside, "http://198.51.100.1/") {
			t.Fatal("outside cannot connect before --restrict")
		}
		// Refused without --yes and no answer on stdin, and for the SSH port.
		if _, code, stderr := l.audit([]string{path}, "--apply", "--restrict"); code != 2 || !strings.Contains(stderr, "not confirmed") {
			t.Errorf("--restrict without --yes: exit %d, %s", code, stderr)
		}
		if _, code, stderr := l.audit([]string{path, "SSH_CONNECTION=198.51.100.10 50000 198.51.100.1 443"}, "--apply", "--restrict", "--yes"); code != 2 || !strings.Contains(stderr, "SSH session") {
			t.Errorf("--restrict on the SSH port: exit %d, %s", code, stderr)
		}
		doc, _, _ = l.audit([]string{path, "SSH_CONNECTION=198.51.100.10 50000 198.51.100.1 22"}, "--apply", "--restrict", "--yes")
		if s := doc.status("firewall.origin_exposed"); !strings.HasPrefix(s, "pass: ") {
			t.Errorf("origin_exposed after --restrict: %s", s)
		}
		for _, url := range []string{"http://198.51.100.1/", "http://[2001:db8::1]/"} {
			if l.curl(l.outside, url) {
				t.Errorf("curl %s from outside succeeded after --restrict", url)
			}
		}
		for _, url := range []string{"http://173.245.48.1/", "https://[2400:cb00::1]/"} {
			if !l.curl(l.edge, url) {
				t.Errorf("curl %s from the edge failed after --restrict", url)
			}
		}
		if !strings.Contains(l.save(), "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT") {
			t.Error("the SSH rule is gone")
		}
		l.audit([]string{path}, "--revert")
		if after := l.save(); after != open {
			t.Errorf("--revert left:\n%s\nwant:\n%s", after, open)
		}
	})

	t.Run("ufw ruleset", func(t *testing.T) {
		l.t = t
		l.sh("sh", "-c", "ip netns exec "+l.origin+" iptables-restore < ../../firewall/testdata/ufw.save")
		doc, _, _ := l.audit([]string{path})
		if s := doc.status("firewall.cloudflare_allowed.ipv4"); !strings.HasPrefix(s, "fail: ") {
			t.Errorf("ufw, blocked: %s", s)
		}
		if l.curl(l.edge, "http://173.245.48.1/") || !l.curl(l.edge, "https://173.245.48.1/") {
			t.Error("ufw capture allows 173.245.48.0/20 on 443 only; curl disagrees")
		}
		var ranges []string
		for _, line := range strings.Split(readFile("../../firewall/ips-v4.txt"), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				ranges = append(ranges, line)
			}
		}
		for _, r := range ranges {
			l.in(l.origin, "iptables", "-A", "ufw-user-input", "-s", r, "-p", "tcp", "-m", "multiport", "--dports", "80,443", "-j", "ACCEPT")
		}
		doc, _, _ = l.audit([]string{path})
		if s := doc.status("firewall.cloudflare_allowed.ipv4"); !strings.HasPrefix(s, "pass: ") {
			t.Errorf("ufw, allowed: %s", s)
		}
		if !l.curl(l.edge, "http://173.245.48.1/") {
			t.Error("curl from the edge failed after the ufw rules")
		}
	})
}
