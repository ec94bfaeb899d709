package protocol

import "syscall"

// This file exists because macOS names the send queue's length SO_NWRITE
// (Linux: TIOCOUTQ, sendqueue_linux.go). TCP keeps a byte in the send
// buffer until it is acknowledged, so it counts the same bytes.

// SendQueued is how many bytes written on the socket fd are still in its
// send buffer, unsent or unacknowledged, or -1 when unknown.
func SendQueued(fd uintptr) int {
	n, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_NWRITE)
	if err != nil {
		return -1
	}
	return n
}
