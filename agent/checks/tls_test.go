package checks

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// issue makes a certificate for names valid in [from, to], signed by parent
// (self-signed when parent is nil).
func issue(t *testing.T, cn string, names []string, from, to time.Time, ca bool, parent *tls.Certificate) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		DNSNames: names, NotBefore: from, NotAfter: to, IsCA: ca, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	signer, signKey := tmpl, any(key)
	if parent != nil {
		signer, signKey = parent.Leaf, parent.PrivateKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func serveTLS(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	s := httptest.NewUnstartedServer(http.NotFoundHandler())
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s.Listener.Addr().String()
}

func TestTLSCheck(t *testing.T) {
	now := time.Now()
	ca := issue(t, "Test Root", nil, now.Add(-time.Hour), now.Add(365*24*time.Hour), true, nil)
	roots := x509.NewCertPool()
	roots.AddCert(ca.Leaf)
	good := issue(t, "example.test", []string{"example.test", "www.example.test"}, now.Add(-time.Hour), now.Add(90*24*time.Hour), false, &ca)
	soon := issue(t, "example.test", []string{"example.test"}, now.Add(-time.Hour), now.Add(5*24*time.Hour), false, &ca)
	expired := issue(t, "example.test", []string{"example.test"}, now.Add(-90*24*time.Hour), now.Add(-24*time.Hour), false, &ca)
	self := issue(t, "example.test", []string{"example.test"}, now.Add(-time.Hour), now.Add(90*24*time.Hour), false, nil)

	tests := []struct {
		name    string
		cert    tls.Certificate
		names   []string
		status  Status
		summary string
	}{
		{"valid", good, []string{"example.test", "www.example.test"}, Pass, "valid for 2 name(s)"},
		{"expiring", soon, []string{"example.test"}, Warn, "expires in 4 days"},
		{"expired", expired, []string{"example.test"}, Fail, "expired on"},
		{"self-signed", self, []string{"example.test"}, Warn, "self-signed"},
		{"wrong name", good, []string{"other.test"}, Warn, "other.test: does not cover other.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := serveTLS(t, tt.cert)
			c := TLSCheck(context.Background(), 443, DialTLS(addr, 2*time.Second), tt.names, now, roots)
			if c.Status != tt.status || !strings.Contains(c.Summary, tt.summary) {
				t.Errorf("%s %s", c.Status, c.Summary)
			}
			if tt.status != Pass && len(c.Fix) == 0 {
				t.Error("no fix")
			}
		})
	}
}

func TestTLSCheckNoTLSAndNothingListening(t *testing.T) {
	// A plain TCP server on the TLS port: the handshake fails (525).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
			c.Close()
		}
	}()
	c := TLSCheck(context.Background(), 443, DialTLS(ln.Addr().String(), 2*time.Second), nil, time.Now(), nil)
	if c.Status != Fail || !strings.Contains(c.Summary, "TLS handshake failed") || !strings.Contains(c.Summary, "525") {
		t.Errorf("plain HTTP on 443: %s %s", c.Status, c.Summary)
	}
	// The same server on another port (one the audit guessed from
	// --ports): an HTTP port, not a broken certificate.
	c = TLSCheck(context.Background(), 8080, DialTLS(ln.Addr().String(), 2*time.Second), nil, time.Now(), nil)
	if c.Status != Skip || !strings.Contains(c.Summary, "plain text") {
		t.Errorf("plain HTTP on 8080: %s %s", c.Status, c.Summary)
	}
	addr := ln.Addr().String()
	ln.Close()
	c = TLSCheck(context.Background(), 443, DialTLS(addr, 2*time.Second), nil, time.Now(), nil)
	if c.Status != Skip {
		t.Errorf("nothing listening: %s %s", c.Status, c.Summary)
	}
}
