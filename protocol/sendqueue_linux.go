package protocol

import (
	"syscall"
	"unsafe"
)

// This file exists because each system names the send queue's length its
// own way: TIOCOUTQ on Linux, SO_NWRITE on macOS (sendqueue_darwin.go).
// fileserverd reads it for slow readers, and the tests' fake servers to
// wait until the peer has all they sent.

// SendQueued is how many bytes written on the socket fd are still in its
// send queue, unsent or unacknowledged, or -1 when unknown.
func SendQueued(fd uintptr) int {
	var q int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&q))); e != 0 {
		return -1
	}
	return int(q)
}
