package main

import (
	"syscall"
	"time"
	"unsafe"
)

// replyPrefix starts every reply, OK or ERROR alike (AppendReply writes
// "status" first), so it can go out before the server knows which.
const replyPrefix = `{"status": "`

// tcpClose is the TCP_CLOSE state of Linux's struct tcp_info.
const tcpClose = 7

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
	info := func() (state uint8, rtt time.Duration, ok bool) {
		var ti syscall.TCPInfo
		size := uint32(unsafe.Sizeof(ti))
		rc.Control(func(fd uintptr) {
			_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.IPPROTO_TCP, syscall.TCP_INFO,
				uintptr(unsafe.Pointer(&ti)), uintptr(unsafe.Pointer(&size)), 0)
			ok = e == 0
		})
		return ti.State, time.Duration(ti.Rtt) * time.Microsecond, ok
	}
	state, rtt, ok := info()
	if !ok {
		return n, false
	}
	// Four round trips, at least 5 ms (loopback's are microseconds) and
	// at most 200 ms: this path is rare, and a live client only waits.
	deadline := time.Now().Add(min(max(4*rtt, 5*time.Millisecond), 200*time.Millisecond))
	for state != tcpClose && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		state, _, _ = info()
	}
	return n, state == tcpClose
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
