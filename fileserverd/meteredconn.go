package main

import (
	"net"
	"time"
)

// meteredConn is a connection that counts its bytes and keeps an idle
// deadline: every Read and Write must make progress within idle, so a
// silent or stalled client frees its worker. A non-zero until caps the
// deadlines, to bound how long skipping a bad request may take.
type meteredConn struct {
	net.Conn
	idle    time.Duration
	until   time.Time
	in, out int64
}

func (c *meteredConn) deadline() time.Time {
	if c.idle <= 0 && c.until.IsZero() {
		return time.Time{}
	}
	d := time.Now().Add(c.idle)
	if c.idle <= 0 || (!c.until.IsZero() && c.until.Before(d)) {
		d = c.until
	}
	return d
}

func (c *meteredConn) Read(p []byte) (int, error) {
	c.Conn.SetReadDeadline(c.deadline())
	n, err := c.Conn.Read(p)
	c.in += int64(n)
	return n, err
}

func (c *meteredConn) Write(p []byte) (int, error) {
	c.Conn.SetWriteDeadline(c.deadline())
	n, err := c.Conn.Write(p)
	c.out += int64(n)
	return n, err
}

// take returns the bytes counted since the last call.
func (c *meteredConn) take() (in, out int64) {
	in, out, c.in, c.out = c.in, c.out, 0, 0
	return in, out
}
