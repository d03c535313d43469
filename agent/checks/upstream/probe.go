// Package upstream checks the backends nginx and apache proxy to: does the
// php-fpm socket exist and accept, does the TCP port listen. It also reads
// the kernel's listener tables (/proc/net/tcp, tcp6, unix) directly, which
// costs about a millisecond where a gopsutil connection scan that resolves
// owning processes costs hundreds.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"
	"time"
)

// Reason says why a probe failed, in words an operator can act on.
type Reason string

const (
	ReasonMissing     Reason = "missing"           // unix socket file does not exist (ENOENT): php-fpm not running or another listen path
	ReasonNotSocket   Reason = "not_a_socket"      // the path exists but is not a socket
	ReasonRefused     Reason = "refused"           // ECONNREFUSED: nothing listens (stale socket file, or port closed)
	ReasonPermission  Reason = "permission_denied" // EACCES/EPERM: listen.owner/listen.mode, or SELinux
	ReasonBusy        Reason = "busy"              // EAGAIN on a unix socket: the listen backlog is full
	ReasonTimeout     Reason = "timeout"           // no answer within the timeout (SYN dropped, or backlog full on TCP)
	ReasonUnreachable Reason = "unreachable"       // ENETUNREACH / EHOSTUNREACH
	ReasonResolve     Reason = "resolve_failed"    // the host name does not resolve
	ReasonBadTarget   Reason = "bad_target"        // the upstream string is not an address
	ReasonError       Reason = "error"             // anything else; see Error
)

// DefaultTimeout bounds a probe whose context has no deadline.
const DefaultTimeout = 2 * time.Second

// Result is the outcome of one probe.
type Result struct {
	Target  string        `json:"target"`
	Network string        `json:"network,omitempty"` // "unix" or "tcp"
	Address string        `json:"address,omitempty"`
	OK      bool          `json:"ok"`
	Reason  Reason        `json:"reason,omitempty"`
	Error   string        `json:"error,omitempty"`
	Latency time.Duration `json:"latency_ns"`
}

// Probe connects to target (any form ParseTarget accepts) and closes the
// connection at once. It never returns an error: a failure is a Result
// with OK false and a Reason. Without a deadline on ctx, DefaultTimeout
// applies.
func Probe(ctx context.Context, target string) Result {
	r := Result{Target: target}
	network, addr, err := ParseTarget(target)
	if err != nil {
		r.Reason, r.Error = ReasonBadTarget, err.Error()
		return r
	}
	r.Network, r.Address = network, addr
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	if network == "unix" && addr[0] == '/' {
		st, err := os.Stat(addr)
		if err != nil {
			r.Reason, r.Error = reason(err), err.Error()
			return r
		}
		if st.Mode().Type() != fs.ModeSocket {
			r.Reason, r.Error = ReasonNotSocket, fmt.Sprintf("%s is a %s, not a socket", addr, kind(st.Mode()))
			return r
		}
	}
	start := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	r.Latency = time.Since(start)
	if err != nil {
		r.Reason, r.Error = reason(err), err.Error()
		return r
	}
	conn.Close()
	r.OK = true
	return r
}

func reason(err error) Reason {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ENOENT):
		return ReasonMissing
	case errors.Is(err, syscall.ECONNREFUSED):
		return ReasonRefused
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return ReasonPermission
	case errors.Is(err, syscall.EAGAIN):
		return ReasonBusy
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT):
		return ReasonTimeout
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return ReasonUnreachable
	case errors.As(err, &dnsErr):
		return ReasonResolve
	}
	return ReasonError
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m.IsRegular():
		return "regular file"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	}
	return "special file"
}
