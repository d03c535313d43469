package sink

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rsyslog is a real rsyslogd started by a test on loopback. Everything it
// receives is written to Out with rsyslog's own RFC 5424 properties:
// msgid|structured-data|app-name|hostname|msg.
type rsyslog struct {
	t       testing.TB
	dir     string
	conf    string
	pidfile string
	Out     string
	cmd     *exec.Cmd
}

const rsyslogTemplate = `template(name="t" type="string" string="%msgid%|%structured-data%|%app-name%|%hostname%|%msg%\n")`

// needRsyslog skips without rsyslogd unless ORIGIN_AGENT_E2E=1.
func needRsyslog(t testing.TB) {
	t.Helper()
	if _, err := os.Stat("/usr/sbin/rsyslogd"); err != nil {
		if os.Getenv("ORIGIN_AGENT_E2E") == "1" {
			t.Fatalf("ORIGIN_AGENT_E2E=1 but rsyslogd is missing: %v", err)
		}
		t.Skip("rsyslogd not installed (apt-get install rsyslog rsyslog-gnutls); set ORIGIN_AGENT_E2E=1 to make this fail")
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// newRsyslog writes a config whose inputs are given (rsyslog RainerScript
// lines, ruleset "r") and starts rsyslogd.
func newRsyslog(t testing.TB, dir, globals, inputs string) *rsyslog {
	t.Helper()
	r := &rsyslog{t: t, dir: dir, conf: filepath.Join(dir, "rsyslog.conf"), pidfile: filepath.Join(dir, "rsyslog.pid"), Out: filepath.Join(dir, "out.log")}
	conf := fmt.Sprintf(`global(workDirectory=%q maxMessageSize="64k" %s)
%s
ruleset(name="r") { action(type="omfile" file=%q template="t" flushOnTXEnd="on" asyncWriting="off") }
%s
`, dir, globals, rsyslogTemplate, r.Out, inputs)
	if err := os.WriteFile(r.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// Start runs rsyslogd and waits until the ports in its config accept.
func (r *rsyslog) Start() {
	r.t.Helper()
	cmd := exec.Command("/usr/sbin/rsyslogd", "-n", "-f", r.conf, "-i", r.pidfile)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("start rsyslogd: %v", err)
	}
	r.cmd = cmd
	// rsyslog writes its pid file once its inputs are up.
	for i := 0; i < 500; i++ {
		if b, err := os.ReadFile(r.pidfile); err == nil && strings.TrimSpace(string(b)) == fmt.Sprint(cmd.Process.Pid) {
			time.Sleep(100 * time.Millisecond)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.t.Fatalf("rsyslogd did not start (config %s)", r.conf)
}

// Stop terminates the rsyslogd this test started, by its PID.
func (r *rsyslog) Stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		<-done
	}
	r.cmd = nil
	os.Remove(r.pidfile)
}

// Lines returns what rsyslog wrote so far.
func (r *rsyslog) Lines() []string {
	b, err := os.ReadFile(r.Out)
	if err != nil {
		return nil
	}
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// WaitLines waits until rsyslog wrote at least n lines.
func (r *rsyslog) WaitLines(n int, timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for {
		ls := r.Lines()
		if len(ls) >= n || time.Now().After(deadline) {
			return ls
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testPKI makes a CA, a server certificate for 127.0.0.1/"syslog.test" and a
// client certificate, as PEM files in dir.
type testPKI struct {
	CA, ServerCert, ServerKey, ClientCert, ClientKey string
}

func newTestPKI(t *testing.T, dir string) testPKI {
	t.Helper()
	p := testPKI{
		CA: filepath.Join(dir, "ca.pem"), ServerCert: filepath.Join(dir, "server.pem"), ServerKey: filepath.Join(dir, "server-key.pem"),
		ClientCert: filepath.Join(dir, "client.pem"), ClientKey: filepath.Join(dir, "client-key.pem"),
	}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "origin-agent test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	writePEM(t, p.CA, "CERTIFICATE", caDER)
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage, certPath, keyPath string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
			NotBefore:   now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		writePEM(t, certPath, "CERTIFICATE", der)
		kder, _ := x509.MarshalPKCS8PrivateKey(key)
		writePEM(t, keyPath, "PRIVATE KEY", kder)
	}
	leaf(2, "syslog.test", x509.ExtKeyUsageServerAuth, p.ServerCert, p.ServerKey)
	leaf(3, "web1.example.com", x509.ExtKeyUsageClientAuth, p.ClientCert, p.ClientKey)
	return p
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
