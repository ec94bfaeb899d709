package main

import (
	"errors"
	"io"
	"net"
)

// meteredConn remembers what came from the server and whether it closed
// the connection, so that a download the server cut short (truncated
// content) can be told from a reply that breaks the protocol or a network
// failure. One worker uses it from one goroutine.
type meteredConn struct {
	net.Conn
	read int64
	eof  bool
}

func (c *meteredConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read += int64(n)
	if errors.Is(err, io.EOF) {
		c.eof = true
	}
	return n, err
}
