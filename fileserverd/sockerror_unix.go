//go:build unix

package main

import "syscall"

// This file exists because SO_ERROR is how every Unix tells a socket's
// pending error; clientgone_other.go's probe rests on it, and Linux's
// tests check it there too (Linux itself reads TCP_INFO).

// socketError reads and clears the socket fd's pending error: 0 if none,
// and whether it could be read.
func socketError(fd uintptr) (syscall.Errno, bool) {
	v, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
	if err != nil {
		return 0, false
	}
	return syscall.Errno(v), true
}
