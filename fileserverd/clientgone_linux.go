package main

import (
	"syscall"
	"time"
	"unsafe"
)

// This file exists because TCP_INFO, which gives a connection's state and
// round trip at once, is Linux's (struct tcp_info); clientgone_other.go
// makes do with the socket's pending error elsewhere.

// tcpClose is the TCP_CLOSE state of Linux's struct tcp_info.
const tcpClose = 7

// probeTCP reads the socket fd's TCP_INFO.
func probeTCP(fd uintptr) tcpProbe {
	var ti syscall.TCPInfo
	size := uint32(unsafe.Sizeof(ti))
	if getsockopt(fd, syscall.IPPROTO_TCP, syscall.TCP_INFO, unsafe.Pointer(&ti), &size) != 0 {
		return tcpProbe{}
	}
	return tcpProbe{ok: true, closed: ti.State == tcpClose, rtt: time.Duration(ti.Rtt) * time.Microsecond, rttKnown: true}
}
