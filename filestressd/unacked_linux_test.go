package main

import (
	"syscall"
	"unsafe"
)

// This file exists because TIOCOUTQ, the length of a socket's queue of
// unacknowledged bytes, is Linux's; unacked_other_test.go is the rest.

// unackedBytes is how many bytes written on the socket fd its peer has
// not acknowledged yet, or -1 when unknown.
func unackedBytes(fd uintptr) int {
	var q int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&q))); errno != 0 {
		return -1
	}
	return int(q)
}
