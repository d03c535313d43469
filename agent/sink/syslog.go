package sink

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/origin-agent/origin-agent/agent/finding"
)

// syslogSink sends RFC 5424 messages over UDP (one message per datagram,
// cut to MaxMessageSize, see FormatRFC5424), TCP or TLS (RFC 6587
// octet-counting framing: "LEN SP MSG", no trailer).
//
// Confirmation: syslog has no application-level acknowledgement. Over
// TCP/TLS a batch counts as delivered when the receiver's TCP acknowledged
// every byte of it (our socket's send queue drained, SIOCOUTQ = 0) before
// the sink's timeout, on a connection that was checked for a close from the
// peer just before (1 ms read probe) and stayed open for 10 ms after
// (settle): a receiver that stops, or that accepts but never reads, causes
// a resend, not a loss. Bytes the receiver's kernel acknowledged and its
// process then never read (it crashed) can still be lost: RELP would close
// that gap. Over UDP a successful send is all there is ("sent", not
// delivered). A failed write closes the connection; the next Send redials.
type syslogSink struct {
	network, addr string
	tlsConf       *tls.Config
	header        Header
	maxUDP        int
	now           func() time.Time
	log           *slog.Logger

	conn net.Conn
	buf  []byte
}

func newSyslog(cfg Config, deps Deps) (*syslogSink, error) {
	network, addr, err := splitAddress(cfg.Address)
	if err != nil {
		return nil, err
	}
	s := &syslogSink{
		network: network, addr: addr, maxUDP: int(cfg.MaxMessageSize), now: deps.Now, log: deps.Log,
		header: Header{Facility: facilities[cfg.Facility], Hostname: deps.Hostname, AppName: cfg.AppName, ProcID: strconv.Itoa(os.Getpid())},
	}
	if network == "tls" {
		if s.tlsConf, err = tlsConfig(cfg, addr); err != nil {
			return nil, err
		}
	} else if cfg.CAFile != "" || cfg.CertFile != "" {
		return nil, fmt.Errorf("ca_file/cert_file need a tls:// address, got %q", cfg.Address)
	}
	return s, nil
}

// tlsConfig builds a verifying client config: system roots or ca_file,
// optional client certificate, server name from the address unless set.
func tlsConfig(cfg Config, addr string) (*tls.Config, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("address %q: %w", addr, err)
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	if cfg.ServerName != "" {
		tc.ServerName = cfg.ServerName
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no PEM certificates found", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	if cfg.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load cert_file/key_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func (s *syslogSink) dial(ctx context.Context) error {
	d := &net.Dialer{KeepAlive: 30 * time.Second}
	var (
		c   net.Conn
		err error
	)
	switch s.network {
	case "tls":
		td := &tls.Dialer{NetDialer: d, Config: s.tlsConf}
		c, err = td.DialContext(ctx, "tcp", s.addr)
	default:
		c, err = d.DialContext(ctx, s.network, s.addr)
	}
	if err != nil {
		return fmt.Errorf("dial %s://%s: %w", s.network, s.addr, err)
	}
	s.conn = c
	return nil
}

// settle is how long Send watches a stream connection after writing a
// batch: a receiver that closed or reset the connection while our bytes were
// in flight (rsyslog stopping) shows up as EOF/ECONNRESET within it, and the
// batch is reported failed and resent instead of silently lost.
const settle = 10 * time.Millisecond

// alive reports whether the stream peer has not closed the connection
// within wait (a read that times out means alive: receivers never write).
func (s *syslogSink) alive(wait time.Duration) bool {
	if err := s.conn.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return false
	}
	var b [1]byte
	_, err := s.conn.Read(b[:])
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (s *syslogSink) Send(ctx context.Context, batch []finding.Finding) error {
	if s.conn != nil && s.network != "udp" && !s.alive(time.Millisecond) {
		s.closeConn()
	}
	if s.conn == nil {
		if err := s.dial(ctx); err != nil {
			return err
		}
	}
	if dl, ok := ctx.Deadline(); ok {
		s.conn.SetWriteDeadline(dl)
	} else {
		s.conn.SetWriteDeadline(time.Time{})
	}
	now := s.now()
	s.buf = s.buf[:0]
	for _, f := range batch {
		max := 0
		if s.network == "udp" {
			max = s.maxUDP
		}
		msg, err := FormatRFC5424(f, s.header, now, max)
		if err != nil {
			return err
		}
		if s.network == "udp" {
			if _, err := s.conn.Write(msg); err != nil {
				s.closeConn()
				return fmt.Errorf("send to udp://%s: %w", s.addr, err)
			}
			continue
		}
		s.buf = strconv.AppendInt(s.buf, int64(len(msg)), 10)
		s.buf = append(s.buf, ' ')
		s.buf = append(s.buf, msg...)
	}
	if s.network == "udp" {
		return nil
	}
	if _, err := s.conn.Write(s.buf); err != nil {
		s.closeConn()
		return fmt.Errorf("send to %s://%s: %w", s.network, s.addr, err)
	}
	if err := s.acknowledged(ctx); err != nil {
		s.closeConn()
		return fmt.Errorf("send to %s://%s: %w; not counted as delivered, resending", s.network, s.addr, err)
	}
	if !s.alive(settle) {
		s.closeConn()
		return fmt.Errorf("send to %s://%s: receiver closed the connection during the write; resending", s.network, s.addr)
	}
	return nil
}

// acknowledged waits until the receiver's TCP has acknowledged every byte
// written (the socket's send queue, SIOCOUTQ: unsent plus unacknowledged
// bytes, is empty) or ctx ends. A write() that returned only means the
// bytes reached our own kernel: a receiver that accepts connections but
// never reads fills its window, the bytes pile up here, and they were not
// delivered. Polls from 1 ms, doubling to 25 ms.
func (s *syslogSink) acknowledged(ctx context.Context) error {
	c := s.conn
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	wait := time.Millisecond
	for {
		var queued int
		var ierr error
		if err := raw.Control(func(fd uintptr) { queued, ierr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) }); err != nil || ierr != nil {
			return nil // no send-queue view (not a TCP socket): the write is all we know
		}
		if queued == 0 {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%d bytes still unacknowledged by the receiver when the send timed out", queued)
		case <-t.C:
		}
		wait = min(2*wait, 25*time.Millisecond)
	}
}

func (s *syslogSink) closeConn() {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

func (s *syslogSink) Close() error {
	s.closeConn()
	return nil
}
