package sink

import (
	"context"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/origin-agent/origin-agent/agent/finding"
)

// TestSyslogTCPUnreadIsNotDelivered: a receiver that accepts the connection
// but never reads (a hung rsyslog) acknowledges no more than its small
// receive window; a batch larger than that must not count as delivered,
// although write() returned (the bytes only reached our own kernel). The
// same batch to a receiver that reads is delivered.
func TestSyslogTCPUnreadIsNotDelivered(t *testing.T) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1) })
		return serr
	}}
	l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	hold := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			hold <- c // never read
		}
	}()
	s, err := New(def(Config{Type: TypeSyslog, Address: "tcp://" + l.Addr().String()}), Deps{Redact: RedactConfig{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	batch := make([]finding.Finding, 6) // ≈ 10 KB: more than the receiver's window, less than our send buffer
	for i := range batch {
		batch[i] = testFinding(fmt.Sprintf("unread-%d", i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	err = s.Send(ctx, batch)
	cancel()
	if err == nil {
		t.Fatal("a batch the receiver never read counted as delivered")
	}
	t.Logf("not delivered, as it should be: %v", err)
	select {
	case c := <-hold:
		c.Close()
	default:
	}

	// Control: a receiver that reads gets the same batch delivered.
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	go func() {
		c, err := l2.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 64<<10)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}()
	s2, err := New(def(Config{Type: TypeSyslog, Address: "tcp://" + l2.Addr().String()}), Deps{Redact: RedactConfig{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s2.Send(ctx, batch); err != nil {
		t.Fatalf("a reading receiver: %v", err)
	}
}
