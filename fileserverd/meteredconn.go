package main

import (
	"net"
	"syscall"
	"time"

	"fileserver/protocol"
)

// meteredConn is a connection that counts its bytes and keeps an idle
// deadline: every Read and Write must make progress within idle, so a
// silent or stalled client frees its worker. A non-zero until caps the
// deadlines, to bound how long skipping a bad request may take, and a
// non-zero quiet caps the read deadline while the request reader waits to
// see whether a request without a terminator has ended. It belongs to the
// one worker serving the connection: nothing else touches it.
type meteredConn struct {
	net.Conn
	idle    time.Duration
	until   time.Time
	quiet   time.Time
	replay  []byte // read first: what the waiting room read of the head
	in, out int64
	raw     syscall.RawConn // for the send queue's length; set on first use
}

func (c *meteredConn) deadline() time.Time {
	var d time.Time
	if c.idle > 0 {
		d = time.Now().Add(c.idle)
	}
	for _, limit := range []time.Time{c.until, c.quiet} {
		if !limit.IsZero() && (d.IsZero() || limit.Before(d)) {
			d = limit
		}
	}
	return d
}

// setQuiet is the request reader's hook for its quiet wait.
func (c *meteredConn) setQuiet(t time.Time) { c.quiet = t }

func (c *meteredConn) Read(p []byte) (int, error) {
	if len(c.replay) > 0 {
		n := copy(p, c.replay)
		c.replay = c.replay[n:]
		c.in += int64(n)
		return n, nil
	}
	c.Conn.SetReadDeadline(c.deadline())
	n, err := c.Conn.Read(p)
	c.in += int64(n)
	return n, err
}

// Write writes p with a deadline that moves on while the client takes
// bytes. A write blocks until the kernel has room for all of p, and the
// kernel makes room only once the client has drained a good part of a
// send buffer of up to megabytes: a client that reads slowly but steadily
// would time out although it never stopped. So a write that times out
// goes on for another idle period as long as the client acknowledged
// bytes during the last one.
func (c *meteredConn) Write(p []byte) (int, error) {
	written := 0
	for {
		acked := c.acked()
		c.Conn.SetWriteDeadline(c.deadline())
		n, err := c.Conn.Write(p[written:])
		written += n
		c.out += int64(n)
		if err != nil && protocol.IsTimeout(err) && acked >= 0 && c.acked() > acked &&
			(c.until.IsZero() || time.Now().Before(c.until)) {
			continue
		}
		return written, err
	}
}

// acked returns how many of the bytes written the client's side has
// acknowledged (those no longer in the kernel's send queue), or -1 when
// unknown.
func (c *meteredConn) acked() int64 {
	if c.idle <= 0 {
		return -1
	}
	rc := c.rawConn()
	if rc == nil {
		return -1
	}
	queued := -1
	rc.Control(func(fd uintptr) { queued = protocol.SendQueued(fd) })
	if queued < 0 {
		return -1
	}
	return c.out - int64(queued)
}

// take returns the bytes counted since the last call.
func (c *meteredConn) take() (in, out int64) {
	in, out, c.in, c.out = c.in, c.out, 0, 0
	return in, out
}
