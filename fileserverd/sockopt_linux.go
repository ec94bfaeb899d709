//go:build linux && !386

package main

import (
	"syscall"
	"unsafe"
)

// This file exists because the syscall package has no getsockopt for a
// struct of any size; on 32-bit x86 Linux the call goes through
// socketcall instead (sockopt_linux_386.go).

// getsockopt is getsockopt(2) into val, of *vallen bytes.
func getsockopt(fd uintptr, level, name int, val unsafe.Pointer, vallen *uint32) syscall.Errno {
	_, _, e := syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, uintptr(level), uintptr(name),
		uintptr(val), uintptr(unsafe.Pointer(vallen)), 0)
	return e
}
