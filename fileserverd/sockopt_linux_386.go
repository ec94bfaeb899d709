package main

import (
	"syscall"
	"unsafe"
)

// This file exists because 32-bit x86 Linux has no getsockopt system
// call of its own in the syscall package's table: every socket call goes
// through socketcall(2), which takes the call's arguments as an array.

// socketcallGetsockopt is SYS_GETSOCKOPT among socketcall's calls.
const socketcallGetsockopt = 15

// getsockopt is getsockopt(2) into val, of *vallen bytes, by socketcall.
// The array holds val and vallen as plain numbers: they are taken after
// this function's prologue and no call comes before the system call, so
// their referents cannot move meanwhile (syscall.Syscall is nosplit).
func getsockopt(fd uintptr, level, name int, val unsafe.Pointer, vallen *uint32) syscall.Errno {
	args := [5]uintptr{fd, uintptr(level), uintptr(name), uintptr(val), uintptr(unsafe.Pointer(vallen))}
	_, _, e := syscall.Syscall(syscall.SYS_SOCKETCALL, socketcallGetsockopt, uintptr(unsafe.Pointer(&args)), 0)
	return e
}
