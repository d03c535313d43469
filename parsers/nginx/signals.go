package nginx

import (
	"bytes"

	"github.com/origin-agent/origin-agent/parsers"
)

// classify maps an error-log message (without the "*N " prefix and the
// ", client: …" trailer) and its errno to a Signal.
func classify(msg []byte, errno int) parsers.Signal {
	// PHP's own output relayed by nginx: its text is the application's and
	// may quote anything, so it never names a proxy cause.
	if hasPrefix(msg, "FastCGI sent in stderr") {
		return parsers.SigNone
	}
	ctx := context(msg)
	connect := bytes.Contains(msg, []byte("connect() "))
	switch {
	case errno == 24:
		// accept4(), socket(), open() … failed (24: Too many open files)
		return parsers.SigTooManyOpenFiles
	case hasPrefix(msg, "upstream timed out"):
		// (110: Connection timed out) on Linux, (60: Operation timed out) on BSD
		return parsers.SigUpstreamTimedOut
	case errno == 111 || connect && bytes.Contains(msg, []byte("Connection refused")):
		return parsers.SigConnectRefused
	case connect && errno == 2:
		return parsers.SigConnectNoSocket
	case connect && errno == 11:
		return parsers.SigConnectAgain
	case connect && errno == 13:
		return parsers.SigConnectPermission
	case connect && errno == 110:
		// the kernel gave up on the SYN before proxy_connect_timeout did
		return parsers.SigUpstreamTimedOut
	case hasPrefix(msg, "upstream prematurely closed"):
		// "… connection while reading response header from upstream",
		// "… FastCGI stdout while reading upstream"
		return parsers.SigPrematurelyClosed
	case errno == 104:
		// recv()/readv()/writev()/sendfile()/read() failed (104: …): the
		// upstream's side only; "while reading client request …", "while
		// sending to client", "while SSL handshaking" are the visitor's.
		if bytes.Contains(ctx, []byte("upstream")) {
			return parsers.SigResetByPeer
		}
		return parsers.SigNone
	case hasPrefix(msg, "upstream sent too big header"):
		return parsers.SigHeaderTooBig
	case hasPrefix(msg, "upstream sent invalid"), // header, status line, chunked response
		hasPrefix(msg, "upstream sent no valid"),    // HTTP/1.0 header
		hasPrefix(msg, "upstream sent unsupported"), // FastCGI protocol version
		hasPrefix(msg, "upstream sent unexpected"),  // FastCGI record type
		hasPrefix(msg, "upstream sent duplicate"):   // header line
		return parsers.SigInvalidHeader
	case hasPrefix(msg, "no live upstreams"):
		return parsers.SigNoLiveUpstreams
	case bytes.Contains(msg, []byte("worker_connections are not enough")):
		return parsers.SigWorkerConnections
	case hasPrefix(msg, "limiting requests, excess:"):
		return parsers.SigLimitingRequests
	case hasPrefix(msg, "limiting connections by zone"):
		return parsers.SigLimitingConnections
	case hasPrefix(msg, "worker process ") && bytes.Contains(msg, []byte(" exited on signal ")):
		// the master's [alert] for a worker that died (SIGSEGV, SIGABRT,
		// SIGKILL…): its in-flight requests got no answer and no access line
		return parsers.SigServerChildSignal
	case bytes.Contains(msg, []byte("client prematurely closed connection")) && bytes.Contains(ctx, []byte("upstream")):
		// (info) the client gave up while the upstream was still working:
		// behind Cloudflare, its 100 s proxy read timeout
		return parsers.SigClientClosed
	case string(msg) == "start worker processes":
		// once per start (and per reload); "start worker process N"
		// follows for each worker and is not counted again
		return parsers.SigServerStarted
	case string(msg) == "exiting", string(msg) == "gracefully shutting down",
		bytes.HasSuffix(msg, []byte(", exiting")), bytes.HasSuffix(msg, []byte(", shutting down")):
		// worker "exiting"; master "signal 15 (SIGTERM) received from N,
		// exiting"; "signal 3 (SIGQUIT) received from N, shutting down"
		return parsers.SigServerStopping
	}
	return parsers.SigNone
}

// context returns what follows " while " in msg: nginx's description of
// what it was doing ("reading response header from upstream").
func context(msg []byte) []byte {
	if i := bytes.LastIndex(msg, []byte(" while ")); i >= 0 {
		return msg[i+7:]
	}
	return nil
}
