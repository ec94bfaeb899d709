package main

import (
	"syscall"
	"time"
)

// replyPrefix starts every reply, OK or ERROR alike (AppendReply writes
// "status" first), so it can go out before the server knows which.
const replyPrefix = `{"status": "`

// tcpProbe is what the kernel says of a connection (probeTCP, one per
// platform: clientgone_linux.go reads TCP_INFO, clientgone_other.go the
// socket's pending error).
type tcpProbe struct {
	ok       bool          // the kernel could be asked
	closed   bool          // the connection is closed or reset
	rtt      time.Duration // the smoothed round trip, when rttKnown
	rttKnown bool
}

// unknownRTTWait is how long clientGone waits for a reset where the
// platform does not tell the round trip: enough for loopback, a LAN and
// Wi-Fi; a client farther away that died may still have its upload
// stored (README, "Platforms").
const unknownRTTWait = 50 * time.Millisecond

// clientGone tells a client that half-closed its connection after an
// upload, and waits for the reply, from one that died mid-upload: both
// end the payload with EOF. It sends the start of the reply, which a
// live client reads as part of it; a dead client's kernel has no socket
// for it and answers with a reset, which arrives within a round trip.
// It returns how many bytes of the reply went out.
func (c *meteredConn) clientGone() (sent int, gone bool) {
	n, err := c.Write([]byte(replyPrefix))
	if err != nil {
		return n, true
	}
	rc := c.rawConn()
	if rc == nil {
		return n, false
	}
	probe := func() (p tcpProbe) {
		rc.Control(func(fd uintptr) { p = probeTCP(fd) })
		return p
	}
	p := probe()
	if !p.ok {
		return n, false
	}
	// Four round trips, at least 5 ms (loopback's are microseconds) and
	// at most 200 ms: this path is rare, and a live client only waits.
	wait := unknownRTTWait
	if p.rttKnown {
		wait = min(max(4*p.rtt, 5*time.Millisecond), 200*time.Millisecond)
	}
	deadline := time.Now().Add(wait)
	for !p.closed && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		p = probe()
	}
	return n, p.closed
}

// rawConn returns the connection's syscall.RawConn, looked up once, or
// nil when it has none.
func (c *meteredConn) rawConn() syscall.RawConn {
	if c.raw == nil {
		sc, ok := c.Conn.(syscall.Conn)
		if !ok {
			return nil
		}
		rc, err := sc.SyscallConn()
		if err != nil {
			return nil
		}
		c.raw = rc
	}
	return c.raw
}
