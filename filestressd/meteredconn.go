package main

import (
	"errors"
	"io"
	"net"
	"syscall"
)

// meteredConn remembers whether the server cut the connection, closing it
// (end of file) or resetting it, so that a download the server cut short
// (truncated content) can be told from a reply that breaks the protocol or
// a time-out. One worker uses it from one goroutine.
type meteredConn struct {
	net.Conn
	cut bool
}

func (c *meteredConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
		c.cut = true
	}
	return n, err
}

// NetConn returns the connection underneath, so that a request can be
// ended by half-closing it (-terminator none).
func (c *meteredConn) NetConn() net.Conn { return c.Conn }
