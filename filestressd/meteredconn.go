package main

import (
	"errors"
	"io"
	"net"
	"syscall"
	"time"
)

// meteredConn remembers whether the server cut the connection, closing it
// (end of file) or resetting it, so that a download the server cut short
// (truncated content) can be told from a reply that breaks the protocol or
// a time-out. One worker uses it from one goroutine.
//
// It also notes when the request's last byte was written and when the
// reply's first and last bytes were read, for -json.
type meteredConn struct {
	net.Conn
	cut bool
	// sent is when the last Write that wrote something returned; first
	// and last when the first and the last Read that read something did.
	// Zero until then.
	sent, first, last time.Time
}

func (c *meteredConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.last = time.Now()
		if c.first.IsZero() {
			c.first = c.last
		}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
		c.cut = true
	}
	return n, err
}

func (c *meteredConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.sent = time.Now()
	}
	return n, err
}

// NetConn returns the connection underneath, so that a request can be
// ended by half-closing it (-terminator none).
func (c *meteredConn) NetConn() net.Conn { return c.Conn }
